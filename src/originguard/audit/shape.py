"""Typed reads from parsed JSON/YAML exports; a wrong shape raises ConfigError(file, key_path, problem)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from originguard.errors import ConfigError

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reader:
    """Reads fields of one input file; every error names that file and the key path."""

    file: str

    def error(self, path: str, problem: str) -> ConfigError:
        """A ConfigError about `path` in this file (problems never quote field values)."""
        return ConfigError(self.file, path, problem)

    def obj(self, value: Any, path: str) -> JsonObject:
        """`value` as an object, or an error naming `path`."""
        if not isinstance(value, dict):
            raise self.error(path, f"expected an object, got {_kind(value)}")
        return value

    def field_obj(self, parent: JsonObject, key: str, path: str, *, required: bool = False) -> JsonObject:
        """The object under `key` ({} when absent and not required)."""
        if key not in parent or parent[key] is None:
            if required:
                raise self.error(path, f"required key {key!r} is missing")
            return {}
        return self.obj(parent[key], f"{path}.{key}" if path else key)

    def field_list(self, parent: JsonObject, key: str, path: str) -> list[Any]:
        """The list under `key` ([] when absent)."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{path}.{key}" if path else key, f"expected a list, got {_kind(value)}")
        return value

    def objects(self, parent: JsonObject, key: str, path: str) -> list[JsonObject]:
        """The list of objects under `key`."""
        where = f"{path}.{key}" if path else key
        return [self.obj(item, f"{where}[{i}]") for i, item in enumerate(self.field_list(parent, key, path))]

    def items(self, parent: JsonObject, key: str, path: str) -> list[JsonObject]:
        """A CloudFront `{Quantity, Items}` list (or CloudFormation's plain list)."""
        return [obj for _, obj in self.entries(parent, key, path)]

    def entries(self, parent: JsonObject, key: str, path: str) -> list[tuple[str, JsonObject]]:
        """(key path, object) of each item of a `{Quantity, Items}` list or a plain list.

        The API and CLI write `{"Quantity": n, "Items": [...]}` (`Items` missing when n = 0);
        CloudFormation templates write the same lists as plain lists.
        """
        where = f"{path}.{key}" if path else key
        if isinstance(parent.get(key), list):
            return [(f"{where}[{i}]", obj) for i, obj in enumerate(self.objects(parent, key, path))]
        container = self.field_obj(parent, key, path)
        return [(f"{where}.Items[{i}]", obj) for i, obj in enumerate(self.objects(container, "Items", where))]

    def text(self, parent: JsonObject, key: str, path: str, default: str = "") -> str:
        """A scalar under `key` as text (numbers too: ELBv2 writes Priority and StatusCode as strings).

        A CloudFormation function (`!Ref Name`, `{"Fn::GetAtt": ...}`) reads as its `!Name` form: the
        template does not hold the value, and the logical names it refers to are not secrets.
        """
        value = parent.get(key, default)
        if value is None:
            return default
        if (function := intrinsic(value)) is not None:
            return function
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"{path}.{key}" if path else key, f"expected a string, got {_kind(value)}")
        return str(value)

    def strings(self, parent: JsonObject, key: str, path: str) -> list[str]:
        """A list of scalars under `key` as text."""
        where = f"{path}.{key}" if path else key
        out: list[str] = []
        for i, item in enumerate(self.field_list(parent, key, path)):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise self.error(f"{where}[{i}]", f"expected a string, got {_kind(item)}")
            out.append(str(item))
        return out


def join(base: str, key: str) -> str:
    """`base.key`, or `key` at the top level."""
    return f"{base}.{key}" if base else key


def intrinsic(value: Any) -> str | None:
    """`!Ref Name` / `!GetAtt A.B` / `!Sub (expression)` for a CloudFormation function, else None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    [(name, argument)] = value.items()
    if name == "Ref" and isinstance(argument, str):
        return f"!Ref {argument}"
    if not isinstance(name, str) or not name.startswith("Fn::"):
        return None
    if name == "Fn::GetAtt" and isinstance(argument, list) and all(isinstance(a, str) for a in argument):
        return f"!GetAtt {'.'.join(argument)}"
    if name == "Fn::GetAtt" and isinstance(argument, str):
        return f"!GetAtt {argument}"
    return f"!{name.removeprefix('Fn::')} (expression)"


def casefold_keys(value: Any) -> Any:
    """Lower-case every object key, recursively: the controller's Go JSON decoding ignores key case."""
    if isinstance(value, dict):
        return {str(k).lower(): casefold_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [casefold_keys(v) for v in value]
    return value


def _kind(value: Any) -> str:
    """A JSON type name for error messages (never the value: it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
