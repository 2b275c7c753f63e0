"""Bot API schema (``telegram_api/api.json``) and request validation against it.

Telegram silently ignores unknown fields; we reject them on purpose so that a bot
typo (``reply_markup`` misspelt, a field from a newer API) is caught in tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sandbox.errors import bad_request

_INT_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, Field]


class Schema:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw.get("version", "")
        self.methods: dict[str, MethodSpec] = {}
        for name, m in raw["methods"].items():
            fields = {f["name"]: _field(f) for f in m.get("fields", [])}
            self.methods[name.lower()] = MethodSpec(name, fields)
        self.types: dict[str, dict[str, Any]] = raw["types"]

    def method(self, name: str) -> MethodSpec | None:
        # Telegram matches method names case-insensitively.
        return self.methods.get(name.lower())

    def validate(
        self, method: MethodSpec, raw: dict[str, Any], uploads: dict[str, Upload]
    ) -> dict[str, Any]:
        """Coerce ``raw`` (JSON values or form strings) to typed values, or raise 400."""
        unused_uploads = dict(uploads)
        out: dict[str, Any] = {}
        for key, value in raw.items():
            field = method.fields.get(key)
            if field is None:
                raise bad_request(f"unknown field {key}")
            out[key] = self._value(field.types, value, key, unused_uploads)
        for key in list(unused_uploads):
            # A file posted directly under the field name (curl -F document=@x).
            field = method.fields.get(key)
            if field is not None and "InputFile" in field.types and key not in out:
                out[key] = unused_uploads.pop(key)
        if unused_uploads:
            raise bad_request(f"unknown field {next(iter(unused_uploads))}")
        for field in method.fields.values():
            if field.required and (field.name not in out or out[field.name] == ""):
                raise bad_request(_empty_reason(method.name, field.name))
        return out

    def _value(
        self, types: tuple[str, ...], value: Any, path: str, uploads: dict[str, Upload]
    ) -> Any:
        errors: list[str] = []
        for t in types:
            try:
                return self._one(t, value, path, uploads)
            except _Mismatch as e:
                errors.append(str(e))
        raise bad_request(f"can't parse field {path}: {'; '.join(errors)}")

    def _one(self, t: str, value: Any, path: str, uploads: dict[str, Upload]) -> Any:
        if t.startswith("Array of "):
            value = _maybe_json(value, list, path)
            if not isinstance(value, list):
                raise _Mismatch(f"expected an Array, got {_kind(value)}")
            return [self._value((t[9:],), v, f"{path}[{i}]", uploads) for i, v in enumerate(value)]
        if t == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
                return int(value)
            raise _Mismatch(f"expected an Integer, got {_kind(value)}")
        if t == "Float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            raise _Mismatch(f"expected a Float, got {_kind(value)}")
        if t == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise _Mismatch(f"expected a Boolean, got {_kind(value)}")
        if t == "String":
            if isinstance(value, str):
                return value
            # Telegram accepts JSON numbers where strings are expected.
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise _Mismatch(f"expected a String, got {_kind(value)}")
        if t == "InputFile":
            if isinstance(value, Upload):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                name = value[9:]
                if name not in uploads:
                    raise bad_request(f"file {name} for field {path} was not uploaded")
                return uploads.pop(name)
            raise _Mismatch(f"expected an InputFile, got {_kind(value)}")
        return self._object(t, value, path, uploads)

    def _object(self, t: str, value: Any, path: str, uploads: dict[str, Upload]) -> Any:
        spec = self.types.get(t)
        if spec is None:
            raise _Mismatch(f"unknown type {t}")
        if "subtypes" in spec:
            return self._value(tuple(spec["subtypes"]), value, path, uploads)
        value = _maybe_json(value, dict, path)
        if not isinstance(value, dict):
            raise _Mismatch(f"expected an object {t}, got {_kind(value)}")
        fields = {f["name"]: _field(f) for f in spec.get("fields", [])}
        out: dict[str, Any] = {}
        for key, v in value.items():
            f = fields.get(key)
            if f is None:
                raise _Mismatch(f"unknown field {key} in {t}")
            try:
                out[key] = self._value(f.types, v, f"{path}.{key}", uploads)
            except Exception as e:
                raise _Mismatch(str(e).removeprefix("Bad Request: ")) from e
        for f in fields.values():
            if f.required and f.name not in out:
                raise _Mismatch(f"{t} requires field {f.name}")
        # Discriminated subtypes (BotCommandScopeChat...) pin "type" in the description;
        # checking the required fields is enough to tell them apart in practice.
        return out


class _Mismatch(Exception):
    pass


def _field(f: dict[str, Any]) -> Field:
    return Field(f["name"], tuple(f["types"]), bool(f.get("required")))


def _maybe_json(value: Any, want: type, path: str) -> Any:
    # Form-encoded requests carry arrays/objects as JSON strings.
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse JSON in field {path}") from None
        if not isinstance(parsed, want):
            raise _Mismatch(f"expected {want.__name__} JSON, got {_kind(parsed)}")
        return parsed
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, str):
        return f"String {value[:30]!r}"
    return type(value).__name__


def _empty_reason(method: str, field: str) -> str:
    if field == "text" and method in ("sendMessage", "editMessageText"):
        return "message text is empty"
    return f"{field} is empty"


@cache
def load_schema() -> Schema:
    text = resources.files("sandbox.telegram_api").joinpath("api.json").read_text("utf-8")
    return Schema(json.loads(text))
