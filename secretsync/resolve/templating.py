"""target.template, applied as ESO's ApplyTemplate does:
template.data > templateFrom > provider data (only with mergePolicy Merge, or when the template
has neither data nor templateFrom).

Rendering is split from placing: `placements` renders every templateFrom entry (configMap and
secret items, then the literal, entry by entry) and template.data, in ESO's order, into
`Placement`s that say where their output goes. `apply` places them into a Secret;
resolve/manifest.py places them into a ConfigMap or custom resource, where a target may also be
a field path (`spec.config`, `spec.rules[0].hosts`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.target import (
    MergePolicy,
    Template,
    TemplateFrom,
    TemplateRef,
    TemplateScope,
    TemplateTarget,
)
from secretsync.errors import ConfigError, TemplateError
from secretsync.redact import Redactor
from secretsync.resolve import values
from secretsync.resolve.secret import Desired
from secretsync.template import render, render_keys_and_values, render_string
from secretsync.template.goyaml import YAMLError, unmarshal_yaml

TemplateSource = Callable[[str, str], Mapping[str, str]]
"""(kind "ConfigMap" or "Secret", name) -> its data as text, in the ExternalSecret's namespace."""

WHERE = "spec.target.template"


@dataclasses.dataclass(frozen=True)
class Placement:
    """Rendered output and where it goes. `target` is as written (Data, labels, spec.config);
    `values` holds key -> value pairs, or `document` holds a whole YAML document (scope
    KeysAndValues into a field path, which ESO merges in as a structure)."""

    target: str
    values: dict[str, bytes] = dataclasses.field(default_factory=dict)
    document: Any = None
    whole: bool = False
    """True for `document` placements (the rendered YAML, parsed); False for key/value ones."""

    @property
    def well_known(self) -> TemplateTarget | None:
        wanted = self.target or TemplateTarget.DATA.value
        return next((t for t in TemplateTarget if t.value.lower() == wanted.lower()), None)


def transform_key(template: str, key: str, where: str) -> str:
    """rewrite.transform: the template sees the key as `.value`."""
    return render_string(where, template, {"value": key})


def placements(
    template: Template, data: Mapping[str, bytes], source: TemplateSource
) -> list[Placement]:
    """Every templateFrom entry in order, then template.data (always into Data): later
    placements win, as each one overwrites what the ones before it wrote."""
    out: list[Placement] = []
    for i, item in enumerate(template.template_from):
        out.extend(_from(item, data, source, f"{WHERE}.templateFrom[{i}]"))
    if template.data:
        out.append(Placement(TemplateTarget.DATA.value, render(dict(template.data), data)))
    return out


def apply(template: Template, data: Mapping[str, bytes], source: TemplateSource) -> Desired:
    produced: dict[TemplateTarget, dict[str, bytes]] = {t: {} for t in TemplateTarget}
    for placed in placements(template, data, source):
        target = placed.well_known
        # The spec validation refuses field paths for a Secret; only a manifest takes them.
        assert target is not None and not placed.whole, "validated: Data, Annotations or Labels"
        produced[target].update(placed.values)
    rendered = produced[TemplateTarget.DATA]
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
) -> list[Placement]:
    """One templateFrom entry: its configMap items, its secret items, then its literal (ESO
    applies all three when several are set)."""
    if item.config_map is None and item.secret is None and item.literal is None:
        raise ConfigError("set one of: configMap, secret, literal", field=where)
    out: list[Placement] = []
    for ref, kind in ((item.config_map, "ConfigMap"), (item.secret, "Secret")):
        if ref is not None:
            out.extend(_from_ref(item, ref, kind, data, source=source, where=where))
    if item.literal is not None:
        out.append(_keys_and_values(item, item.literal, data, f"{where}.literal"))
    return out


def _from_ref(
    item: TemplateFrom,
    ref: TemplateRef,
    kind: str,
    data: Mapping[str, bytes],
    *,
    source: TemplateSource,
    where: str,
) -> list[Placement]:
    texts = source(kind, ref.name)
    field = "configMap" if kind == "ConfigMap" else "secret"
    out: list[Placement] = []
    for j, entry in enumerate(ref.items):
        here = f"{where}.{field}.items[{j}]"
        if entry.key not in texts:
            raise ConfigError(f"{kind} {ref.name} has no key {entry.key!r}", field=here)
        if entry.template_as is TemplateScope.KEYS_AND_VALUES:
            out.append(_keys_and_values(item, texts[entry.key], data, here))
        else:
            rendered = render({entry.key: texts[entry.key]}, data)
            out.append(Placement(item.target, _decoded(item, rendered, here)))
    return out


def _keys_and_values(
    item: TemplateFrom, text: str, data: Mapping[str, bytes], where: str
) -> Placement:
    if item.well_known_target is not None:
        return Placement(item.target, _decoded(item, render_keys_and_values(text, data), where))
    # A field path takes the whole rendered document, as a structure (ESO: applyParsedToPath).
    rendered = render({text: text}, data)[text]
    try:
        document = unmarshal_yaml(rendered.decode("utf-8", "replace"))
    except YAMLError as exc:
        redact = Redactor(data.values())
        message = redact(f"could not unmarshal template YAML: {exc}")
        raise TemplateError(message, key=where) from None
    return Placement(item.target, document=document, whole=True)


def _decoded(item: TemplateFrom, rendered: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    strategy = item.values_decoding_strategy
    return {
        key: values.decode(value, strategy, f"{where} (valuesDecodingStrategy)")
        for key, value in rendered.items()
    }


def _metadata(
    from_refs: Mapping[str, bytes],
    templates: Mapping[str, str],
    data: Mapping[str, bytes],
    where: str,
) -> dict[str, str]:
    strings = {k: v.decode("utf-8", "replace") for k, v in data.items()}
    found = {k: v.decode("utf-8", "replace") for k, v in from_refs.items()}
    found.update(
        {k: render_string(f"metadata.{where}.{k}", t, strings) for k, t in templates.items()}
    )
    check_metadata(found, data, where)
    return found


def check_metadata(found: Mapping[str, str], data: Mapping[str, bytes], where: str) -> None:
    redact = Redactor(data.values())
    for key, value in found.items():
        if redact(value) != value:
            # Labels and annotations are readable by anyone who can list the object's metadata.
            raise ConfigError(
                f"{where} {key!r} would expose a secret value", field=f"{WHERE}.metadata"
            )
