"""Where each config key lives in the models: one section per model, and error locations walked.

The key reference (config.reference) documents one section per model under the key path where a
reader first meets it; the loader walks a pydantic error location through the same models to name
the key path without union branch labels and to point at the section of an unknown key.
"""

from __future__ import annotations

import functools
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Final, Union, get_args, get_origin

from pydantic import Tag

from originguard.config.models import Config
from originguard.config.values import Model

# How pydantic names the branch of a union it tried, in an error location (`str`, `literal['a']`).
_BRANCH: Final = re.compile(r"str|int|float|bool|bytes|none|[a-z-]+\[.*\]")


@dataclass(frozen=True)
class Section:
    """One model's table: the key path it is documented under and its markdown anchor."""

    path: str
    model: type[Model]

    @property
    def anchor(self) -> str:
        return github_anchor(self.path)


@functools.cache
def sections(root: type[Model] = Config) -> list[Section]:
    """Every model reachable from `root`, once each, in the order a reader meets them."""
    found: dict[type[Model], Section] = {root: Section("", root)}

    def visit(model: type[Model]) -> None:
        for key, info in model.model_fields.items():
            child = f"{found[model].path}.{info.alias or key}".lstrip(".")
            members = models_in(info.annotation)
            # Alternatives are registered before any is walked, so each kind sits at this path.
            fresh = [(m, where) for m, where in _placed(members, child) if m not in found]
            for member, where in fresh:
                found[member] = Section(where, member)
            for member, _ in fresh:
                visit(member)

    visit(root)
    return list(found.values())


def section_of(loc: tuple[int | str, ...]) -> Section | None:
    """The section documenting the mapping at a pydantic error location (None when not a mapping)."""
    current, _ = walk(loc)
    models = [current] if is_model(current) else [m for m, _ in models_in(current)]
    return {s.model: s for s in sections()}.get(models[0]) if len(models) == 1 else None


def walk(loc: tuple[int | str, ...]) -> tuple[Any, tuple[int | str, ...]]:
    """(annotation at `loc`, the location without pydantic's branch labels); None when unknown."""
    current: Any = Config
    keys: list[int | str] = []
    for index, part in enumerate(loc):
        current, label = _step(current, part)
        if current is None:
            return None, (*keys, *loc[index:])
        if not label:
            keys.append(part)
    return current, tuple(keys)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Model)


def models_in(annotation: Any, suffix: str = "") -> list[tuple[type[Model], str]]:
    """The models an annotation holds, each with the path suffix that reaches it (`[]`, `.NAME`)."""
    if is_model(annotation):
        return [(annotation, suffix)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return models_in(args[0], suffix)
    if origin is list:
        return models_in(args[0], suffix + "[]")
    if origin is dict:
        return models_in(args[1], suffix + ".NAME")
    if origin in (Union, types.UnionType):
        return [found for a in args for found in models_in(a, suffix)]
    return []


def _placed(members: list[tuple[type[Model], str]], path: str) -> list[tuple[type[Model], str]]:
    """Where each model of a field is documented: a `{kind: {...}}` wrapper by its inner model."""
    placed = []
    for model, suffix in members:
        inner = wrapped(model, len(members))
        if inner is not None:
            placed.append((inner[1], f"{path}{suffix}.{inner[0]}"))
        elif len(members) > 1:
            keys = ", ".join(f.alias or k for k, f in model.model_fields.items())
            placed.append((model, f"{path}{suffix} ({keys})"))
        else:
            placed.append((model, path + suffix))
    return placed


def wrapped(model: Any, alternatives: int) -> tuple[str, type[Model]] | None:
    """(key, inner model) of a one-key mapping among alternatives, as WAF statements are."""
    if alternatives < 2 or not is_model(model) or len(model.model_fields) != 1:
        return None
    key, info = next(iter(model.model_fields.items()))
    return (info.alias or key, info.annotation) if is_model(info.annotation) else None


def _step(annotation: Any, part: int | str) -> tuple[Any, bool]:
    """One error-location step: (the annotation below, whether the part was only a branch label).

    The annotation is None when the step leads nowhere the models know.
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _step(args[0], part)
    if origin in (Union, types.UnionType):
        for member in args:
            if part in (_tag(member), getattr(unwrapped(member), "__name__", None)):
                return unwrapped(member), True
        for member in args:
            found = _step(member, part)
            if found[0] is not None:
                return found
        # pydantic names the branch it tried (`str`, `literal[...]`, `list[...]`): not a key.
        return (annotation, True) if isinstance(part, str) and _BRANCH.fullmatch(part) else (None, False)
    if is_model(annotation):
        for key, info in annotation.model_fields.items():
            if part in (key, info.alias):
                return info.annotation, False
        return None, False
    if origin is list and isinstance(part, int):
        return args[0], False
    if origin is dict and isinstance(part, str):
        return args[1], False
    return None, False


def _tag(member: Any) -> str | None:
    return next((m.tag for m in getattr(member, "__metadata__", ()) if isinstance(m, Tag)), None)


def unwrapped(member: Any) -> Any:
    return get_args(member)[0] if get_origin(member) is Annotated else member
