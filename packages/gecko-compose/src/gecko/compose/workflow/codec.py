"""Lossless, safe encoding of workflow values (outputs and state) for checkpoints.

JSON types pass through. Values JSON cannot hold are stored as tagged objects
(``{"$gecko": "<tag>", ...}``): tuples, sets, bytes, team member results, and
pydantic models. A model is stored as its JSON dump plus its class name, and is
restored **only** if that class was registered with :func:`register_type`
(Gecko's own AgentOutput, Message, TokenUsage... are registered already): stored
data never makes Gecko import or instantiate an arbitrary class, and nothing is
pickled. Anything else is refused with an error naming the node and the state key
— never stringified, cut or dropped.
"""

from __future__ import annotations

import base64
import enum
import math
import threading
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from gecko.compose.errors import MemberError, UnregisteredTypeError
from gecko.compose.team import MemberResult
from gecko.core.errors import CorruptDataError, GeckoError, SerializationError

TAG = "$gecko"
_registry: dict[str, type[BaseModel]] = {}
_registry_lock = threading.Lock()
_builtins_registered = False
_HINT = (
    "checkpointed values must be JSON types (dict with str keys, list, str, int, float, bool, "
    "None), tuples, sets, bytes, or pydantic models registered with "
    "gecko.compose.register_type(MyModel)"
)


def type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register_type(*classes: type[BaseModel]) -> None:
    """Allow these pydantic model classes in checkpoints (and to be restored on resume)."""
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise SerializationError(
                f"register_type() takes pydantic model classes, got {cls!r}",
                hint="wrap other objects in a pydantic model, or store plain JSON values",
            )
        with _registry_lock:
            _registry[type_name(cls)] = cls


def registered_type(name: str) -> type[BaseModel] | None:
    _ensure_builtins()
    return _registry.get(name)


def _ensure_builtins() -> None:
    global _builtins_registered
    if _builtins_registered:
        return
    from gecko.core.message import ImageBlock, Message, TextBlock, ToolCall
    from gecko.core.output import AgentOutput, ModelResponse, TokenUsage

    register_type(AgentOutput, ModelResponse, TokenUsage, Message, ToolCall, TextBlock, ImageBlock)
    _builtins_registered = True


class _Problem(Exception):
    def __init__(self, message: str, error: type[SerializationError] = SerializationError) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.path: list[str] = []


def encode(value: Any, *, node: str | None = None, key: str | None = None, what: str = "") -> Any:
    """``value`` as JSON-compatible data, or a SerializationError naming node, key and path."""
    try:
        return _encode(value)
    except _Problem as problem:
        path = "$" + "".join(reversed(problem.path))
        if key is not None:
            subject = f"state key {key!r}" + (f" written by node {node!r}" if node else "")
        elif node is not None:
            subject = what or f"the output of node {node!r}"
        else:
            subject = what or "value"
        at = "" if path == "$" else f" at {path}"
        raise problem.error(
            f"cannot checkpoint {subject}: {problem.message}{at}",
            hint=_HINT,
            node=node,
            key=key,
            path=path,
        ) from None


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        raise _Problem(f"{value!r} is not allowed in JSON")
    if kind is dict:
        out: dict[str, Any] = {}
        for k, item in value.items():
            if type(k) is not str:
                raise _Problem(f"dict key {k!r} is a {type(k).__name__}; keys must be strings")
            try:
                out[k] = _encode(item)
            except _Problem as problem:
                problem.path.append(f".{k}")
                raise
        return {TAG: "dict", "items": out} if TAG in out else out
    if kind is list:
        return _encode_items(value)
    if kind is tuple:
        return {TAG: "tuple", "items": _encode_items(value)}
    if isinstance(value, BaseModel):
        return _encode_model(value)
    if kind is MemberResult:
        return _encode_member(value)
    if kind is set or kind is frozenset:
        items = _encode_items(_sorted(value))
        return {TAG: "set" if kind is set else "frozenset", "items": items}
    if kind is bytes or kind is bytearray:
        return {TAG: kind.__name__, "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, enum.Enum):
        raise _Problem(
            f"enum member {value!r} cannot be restored faithfully; store its .value instead"
        )
    # Subclasses of the JSON scalars (e.g. numpy.float64) keep their value.
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _encode(float(value))
    raise _Problem(f"object of type {kind.__name__} is not JSON-serializable")


def _encode_items(items: Iterable[Any]) -> list[Any]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(_encode(item))
        except _Problem as problem:
            problem.path.append(f"[{i}]")
            raise
    return out


def _sorted(items: Iterable[Any]) -> list[Any]:
    values = list(items)
    try:
        return sorted(values)
    except TypeError:
        return values


def _encode_model(model: BaseModel) -> dict[str, Any]:
    cls = type(model)
    name = type_name(cls)
    if registered_type(name) is not cls:
        raise _Problem(
            f"pydantic model {name} is not registered for checkpoints; call "
            f"gecko.compose.register_type({cls.__name__}) once at start-up",
            UnregisteredTypeError,
        )
    try:
        data = model.model_dump(mode="json", by_alias=True)
    except Exception as exc:
        raise _Problem(f"{cls.__name__}.model_dump(mode='json') failed: {exc}") from exc
    encoded: dict[str, Any] = {TAG: "model", "type": name, "data": _encode(data)}
    fields: dict[str, Any] = {}
    for field_name, info in cls.model_fields.items():
        if info.exclude:
            continue
        item = getattr(model, field_name, None)
        declared = info.annotation
        if isinstance(item, BaseModel) and not (
            isinstance(declared, type) and issubclass(declared, BaseModel)
        ):
            # A model held in an untyped field (e.g. AgentOutput.parsed) keeps its class.
            try:
                fields[info.alias or field_name] = _encode(item)
            except _Problem as problem:
                problem.path.append(f".{field_name}")
                raise
    if fields:
        encoded["fields"] = fields
    return encoded


def _encode_member(member: MemberResult) -> dict[str, Any]:
    out: dict[str, Any] = {TAG: "member", "index": member.member_index, "ok": member.is_success}
    try:
        out["result"] = _encode(member.result)
    except _Problem as problem:
        problem.path.append(f"[member {member.member_index}].result")
        raise
    if member.error is not None:
        error = member.error
        error_type = error.error_type if isinstance(error, MemberError) else type(error).__name__
        message = error.message if isinstance(error, MemberError) else str(error)
        out["error"] = {"type": error_type, "message": message}
    return out


def decode(value: Any, *, strict: bool = True) -> Any:
    """Restore what :func:`encode` produced.

    ``strict=False`` leaves values it cannot restore (unregistered model classes,
    unknown tags) as their tagged JSON form instead of raising: for inspection tools.
    """
    kind = type(value)
    if kind is dict:
        tag = value.get(TAG)
        if tag is None:
            return {k: decode(v, strict=strict) for k, v in value.items()}
        return _decode_tagged(value, tag, strict)
    if kind is list:
        return [decode(v, strict=strict) for v in value]
    return value


def _decode_tagged(value: dict[str, Any], tag: Any, strict: bool) -> Any:
    try:
        if tag == "dict":
            return {k: decode(v, strict=strict) for k, v in value["items"].items()}
        if tag == "tuple":
            return tuple(decode(v, strict=strict) for v in value["items"])
        if tag == "set":
            return {decode(v, strict=strict) for v in value["items"]}
        if tag == "frozenset":
            return frozenset(decode(v, strict=strict) for v in value["items"])
        if tag == "bytes":
            return base64.b64decode(value["b64"])
        if tag == "bytearray":
            return bytearray(base64.b64decode(value["b64"]))
        if tag == "model":
            return _decode_model(value, strict)
        if tag == "member":
            return _decode_member(value, strict)
    except GeckoError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        if not strict:
            return value
        raise CorruptDataError(
            f"checkpointed value tagged {tag!r} is malformed: {exc}",
            hint="the checkpoint was corrupted or written by another program",
        ) from exc
    if not strict:
        return value
    raise CorruptDataError(
        f"checkpointed value has an unknown tag {tag!r}",
        hint="it was written by a newer gecko-compose; upgrade to read it",
    )


def _decode_model(value: dict[str, Any], strict: bool) -> Any:
    name = value["type"]
    cls = registered_type(name)
    if cls is None:
        if not strict:
            return value
        raise UnregisteredTypeError(
            f"checkpoint holds a {name} model, which is not registered as safe to restore",
            hint=f"call gecko.compose.register_type(<{name.rpartition(':')[2]}>) before resuming; "
            "Gecko never imports a class named by stored data",
            type=name,
        )
    data = decode(value["data"], strict=strict)
    for field_name, item in (value.get("fields") or {}).items():
        data[field_name] = decode(item, strict=strict)
    return cls.model_validate(data)


def _decode_member(value: dict[str, Any], strict: bool) -> MemberResult:
    error = value.get("error")
    restored = None
    if error is not None:
        restored = MemberError(
            str(error.get("message", "")), error_type=str(error.get("type", "Error"))
        )
    return MemberResult(
        result=decode(value.get("result"), strict=strict),
        error=restored,
        member_index=int(value["index"]),
        is_success=bool(value["ok"]),
    )
