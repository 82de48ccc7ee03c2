"""target.template, applied as ESO's ApplyTemplate does (reference/eso.md §1.2):
template.data > templateFrom > provider data (only with mergePolicy Merge, or when the template
has neither data nor templateFrom)."""

from __future__ import annotations

from collections.abc import Mapping

from secretsync.api.externalsecret import MergePolicy, Template
from secretsync.errors import ConfigError
from secretsync.redact import Redactor
from secretsync.resolve.secret import Desired
from secretsync.template import render, render_string


def transform_key(template: str, key: str, where: str) -> str:
    """rewrite.transform: the template sees the key as `.value`."""
    return render_string(where, template, {"value": key})


def apply(template: Template, data: Mapping[str, bytes]) -> Desired:
    if template.template_from:
        # templateFrom needs ConfigMaps/Secrets read through the store's credentials; it is
        # not wired yet, and silently ignoring it would produce a wrong Secret.
        raise ConfigError("templateFrom is not supported yet", field="spec.target.template")
    rendered = render(dict(template.data), data)
    keep_provider = template.merge_policy is MergePolicy.MERGE or not template.data
    merged = {**data, **rendered} if keep_provider else rendered
    metadata = template.metadata
    strings = {k: v.decode("utf-8", "replace") for k, v in data.items()}
    return Desired(
        data=merged,
        labels=_render_map(metadata.labels if metadata else {}, strings, "labels"),
        annotations=_render_map(metadata.annotations if metadata else {}, strings, "annotations"),
        type=template.type,
    )


def _render_map(
    templates: Mapping[str, str], data: Mapping[str, str], where: str
) -> dict[str, str]:
    out = {}
    for key, text in templates.items():
        value = render_string(f"metadata.{where}.{key}", text, data)
        if Redactor(data.values())(value) != value:
            # Labels and annotations are readable by anyone who can list the Secret's metadata.
            raise ConfigError(
                f"template metadata.{where}.{key} would expose a secret value",
                field="spec.target.template.metadata",
            )
        out[key] = value
    return out
