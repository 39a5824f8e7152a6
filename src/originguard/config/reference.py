"""The key reference of docs/config.md, generated from the config models: they are its one source.

    python -m originguard.config.reference --write docs/config.md   # after adding or changing a key
    python -m originguard.config.reference --check docs/config.md   # exit 1 when the doc is stale

Every field needs `Field(description=...)`; a field without one stops the generator, and a unit test
fails while the checked-in doc differs from what the models generate. Each model gets one table,
under the key path where it first appears; later uses link to it.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from originguard.config.keys import Section, is_model, models_in, sections, unwrapped, wrapped
from originguard.config.loader import REFERENCE
from originguard.config.models import Config
from originguard.config.values import Model, TypeName

BEGIN: Final = "<!-- generated from the config models by `make config-docs`: begin -->"
END: Final = "<!-- generated: end -->"
DOC: Final = REFERENCE


class UndocumentedKey(ValueError):
    """A model field without `Field(description=...)`: the reference would have a hole."""


def render(root: type[Model] = Config) -> str:
    """The generated block: one table per model, between the BEGIN and END markers."""
    index = {s.model: s for s in sections(root)}
    out = [BEGIN, ""]
    for section in index.values():
        title = f"`{section.path}`" if section.path else "top level"
        out += [f"### {_heading(section)}" if section.path else f"### {title}", ""]
        doc = (section.model.__doc__ or "").strip().splitlines()
        if doc and section.model.__doc__ is not BaseModel.__doc__:
            out += [doc[0], ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for key, info in section.model.model_fields.items():
            out.append(_row(section, info.alias or key, info, index))
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def splice(document: str, block: str) -> str:
    """`document` with the text between the markers replaced by `block`."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return document[:start] + block.rstrip("\n") + document[end + len(END) :]


def main(argv: list[str]) -> int:
    """`--write FILE` regenerates the block in place; `--check FILE` exits 1 when it is stale."""
    try:
        block = render()
    except UndocumentedKey as exc:
        print(f"undocumented config key: {exc}", file=sys.stderr)
        return 2
    if len(argv) == 2 and argv[0] in ("--write", "--check"):
        path = Path(argv[1])
        current = path.read_text(encoding="utf-8")
        wanted = splice(current, block)
        if argv[0] == "--write":
            path.write_text(wanted, encoding="utf-8")
            return 0
        if current != wanted:
            print(f"{path} is stale: run `make config-docs`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(block)
    return 0


def _heading(section: Section) -> str:
    path, _, form = section.path.partition(" ")
    return f"`{path}` {form}" if form else f"`{path}`"


def _row(section: Section, key: str, info: FieldInfo, index: dict[type[Model], Section]) -> str:
    if not info.description:
        where = f"{section.path}.{key}" if section.path else key
        raise UndocumentedKey(f"{where} ({section.model.__name__}): add Field(description=...)")
    # pydantic moves a plain `Annotated[...]` field's metadata from the annotation to the field.
    named = next((m.text for m in info.metadata if isinstance(m, TypeName)), None)
    kind = (named or _type_text(info.annotation, index)) + _constraints(info.metadata)
    duration = named == "duration" or _is_duration(info.annotation)
    default = "required" if info.is_required() else _default_text(info, duration)
    cells = [f"`{key}`", kind, default, info.description]
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _type_text(annotation: Any, index: dict[type[Model], Section]) -> str:
    if annotation is type(None):
        return "null"
    if is_model(annotation):
        return f"[mapping](#{index[annotation].anchor})"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        named = next((m for m in annotation.__metadata__ if isinstance(m, TypeName)), None)
        return named.text if named is not None else _type_text(args[0], index)
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        models = [m for m, _ in models_in(annotation)]
        texts = []
        for member in args:
            model = unwrapped(member)
            inner = wrapped(model, len(models))
            if inner is not None:
                texts.append(f"[`{inner[0]}`](#{index[inner[1]].anchor})")
            elif len(models) > 1 and is_model(model) and len(model.model_fields) == 1:
                key, info = next(iter(model.model_fields.items()))
                texts.append(f"[`{info.alias or key}`](#{index[model].anchor})")
            else:
                texts.append(_type_text(member, index))
        return " or ".join(texts)
    if origin is list:
        return f"list of {_type_text(args[0], index)}"
    if origin is dict:
        return f"mapping of name to {_type_text(args[1], index)}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names.get(annotation, str(annotation))


def _constraints(metadata: list[Any]) -> str:
    bounds: dict[str, Any] = {}
    for item in metadata:
        for attr in ("ge", "le", "min_length", "max_length", "pattern"):
            if getattr(item, attr, None) is not None:
                bounds[attr] = getattr(item, attr)
    parts = []
    if "ge" in bounds and "le" in bounds:
        parts.append(f"{bounds['ge']:,}–{bounds['le']:,}")
    elif "ge" in bounds:
        parts.append(f"≥ {bounds['ge']:,}")
    elif "le" in bounds:
        parts.append(f"≤ {bounds['le']:,}")
    if "min_length" in bounds:
        parts.append(f"at least {bounds['min_length']}")
    if "max_length" in bounds:
        parts.append(f"at most {bounds['max_length']}")
    if "pattern" in bounds:
        parts.append(f"matching `{bounds['pattern']}`")
    return f" ({', '.join(parts)})" if parts else ""


def _default_text(info: FieldInfo, duration: bool) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return f"`{_flow(dumped)}`" if dumped else "each key's default"
    if duration and isinstance(value, float):
        return f"`{value:g}s`"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000:
        return f"`{value}` ({_size(value)})" if value % 1024 == 0 else f"`{value}`"
    return f"`{_flow(value)}`"


def _flow(value: Any) -> str:
    """A value as YAML flow style, the way the examples in the docs write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and not value.isprintable():
        return json.dumps(value)  # `Forbidden\n`, not a line break inside a table cell
    return str(value)


def _size(value: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value % scale == 0:
            return f"{value // scale} {unit}"
    return str(value)


def _is_duration(annotation: Any) -> bool:
    texts = [m.text for m in getattr(annotation, "__metadata__", ()) if isinstance(m, TypeName)]
    if texts:
        return texts[0] == "duration"
    return any(_is_duration(a) for a in get_args(annotation))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
