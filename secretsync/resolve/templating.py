"""target.template, applied as ESO's ApplyTemplate does (reference/eso.md §1.2):
template.data > templateFrom > provider data (only with mergePolicy Merge, or when the template
has neither data nor templateFrom)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from secretsync.api.externalsecret import (
    MergePolicy,
    Template,
    TemplateFrom,
    TemplateScope,
    TemplateTarget,
)
from secretsync.errors import ConfigError
from secretsync.redact import Redactor
from secretsync.resolve.secret import Desired
from secretsync.template import render, render_keys_and_values, render_string

TemplateSource = Callable[[str, str], Mapping[str, str]]
"""(kind "ConfigMap" or "Secret", name) -> its data as text, in the ExternalSecret's namespace."""

WHERE = "spec.target.template"


def transform_key(template: str, key: str, where: str) -> str:
    """rewrite.transform: the template sees the key as `.value`."""
    return render_string(where, template, {"value": key})


def apply(template: Template, data: Mapping[str, bytes], source: TemplateSource) -> Desired:
    produced: dict[TemplateTarget, dict[str, bytes]] = {t: {} for t in TemplateTarget}
    for i, item in enumerate(template.template_from):
        produced[item.target].update(_from(item, data, source, f"{WHERE}.templateFrom[{i}]"))
    rendered = {**produced[TemplateTarget.DATA], **render(dict(template.data), data)}
    keep_provider = template.merge_policy is MergePolicy.MERGE or (
        not template.data and not template.template_from
    )
    metadata = template.metadata
    return Desired(
        data={**data, **rendered} if keep_provider else rendered,
        labels=_metadata(
            produced[TemplateTarget.LABELS], metadata.labels if metadata else {}, data, "labels"
        ),
        annotations=_metadata(
            produced[TemplateTarget.ANNOTATIONS],
            metadata.annotations if metadata else {},
            data,
            "annotations",
        ),
        type=template.type,
    )


def _from(
    item: TemplateFrom, data: Mapping[str, bytes], source: TemplateSource, where: str
) -> dict[str, bytes]:
    if item.literal is not None:
        return render_keys_and_values(item.literal, data)
    ref, kind = (item.config_map, "ConfigMap") if item.config_map else (item.secret, "Secret")
    if ref is None:
        raise ConfigError("set one of: configMap, secret, literal", field=where)
    texts = source(kind, ref.name)
    out: dict[str, bytes] = {}
    for j, entry in enumerate(ref.items):
        if entry.key not in texts:
            raise ConfigError(
                f"{kind} {ref.name} has no key {entry.key!r}", field=f"{where}.items[{j}]"
            )
        if entry.template_as is TemplateScope.KEYS_AND_VALUES:
            out.update(render_keys_and_values(texts[entry.key], data))
        else:
            out.update(render({entry.key: texts[entry.key]}, data))
    return out


def _metadata(
    from_refs: Mapping[str, bytes],
    templates: Mapping[str, str],
    data: Mapping[str, bytes],
    where: str,
) -> dict[str, str]:
    strings = {k: v.decode("utf-8", "replace") for k, v in data.items()}
    values = {k: v.decode("utf-8", "replace") for k, v in from_refs.items()}
    values.update(
        {k: render_string(f"metadata.{where}.{k}", t, strings) for k, t in templates.items()}
    )
    redact = Redactor(data.values())
    for key, value in values.items():
        if redact(value) != value:
            # Labels and annotations are readable by anyone who can list the Secret's metadata.
            raise ConfigError(
                f"{where} {key!r} would expose a secret value", field=f"{WHERE}.metadata"
            )
    return values
