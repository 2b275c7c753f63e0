"""aiogram's Bot API types, loaded so that pydantic builds a type's validator when it is used.

Every aiogram type is declared `defer_build=True`, but `aiogram/types/__init__.py` ends by calling
`model_rebuild` on all of them (about 400), to hand each the one namespace its forward references
resolve in, and that call builds them: ~150 MB of validators before the bot has done anything,
most of a bot's memory (issue 5, figure 5). While that module is imported, `model_rebuild` is made
to hand the namespace over without building; pydantic then builds each type the first time it
validates one (the bot meets a dozen) from that same namespace. Nothing else changes: the same
validators, built later and only where needed. `tests/unit/test_lean_types.py` checks in a fresh
interpreter that every type still builds and validates.
"""

from __future__ import annotations

import sys
from typing import Any, get_args

from pydantic import BaseModel


def load_aiogram_types() -> bool:
    """Import aiogram.types lazily; False if it had already been imported (then nothing is
    saved, and nothing is changed)."""
    if "aiogram.types" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    namespace: dict[str, Any] = {}

    def hand_over_namespace(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram."):
            namespace.update(_types_namespace)
            _give(cls, _types_namespace)
            return None
        rebuilt: bool | None = original.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,  # this frame in between
            _types_namespace=_types_namespace,
        )
        return rebuilt

    setattr(BaseModel, "model_rebuild", classmethod(hand_over_namespace))  # noqa: B010
    try:
        import aiogram.methods
        import aiogram.types
    finally:
        setattr(BaseModel, "model_rebuild", original)  # noqa: B010
    # The methods whose fields are types (SendMessage's reply markup, ...) could not be built
    # when they were declared, the types being unbuilt: they get the same namespace, and build
    # when first called.
    returned: set[type[BaseModel]] = set()
    for name in aiogram.methods.__all__:
        method = getattr(aiogram.methods, name)
        if not (isinstance(method, type) and issubclass(method, BaseModel)):
            continue
        if not method.__pydantic_complete__:
            _give(method, namespace)
        _models_in(getattr(method, "__returning__", None), returned)
    # What the methods return is checked as `Response[<that type>]`, a generic made on first
    # use, and pydantic cannot build a generic over a type that is not built yet (its forward
    # references do not resolve from there). So those types (about forty: Message, User, the
    # chat members, ...) and Update are built now; the rest of the ~400 only if ever met.
    aiogram.types.Update.model_rebuild()
    for model in sorted(returned, key=lambda m: m.__name__):
        model.model_rebuild()
    return True


def _models_in(annotation: object, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.add(annotation)
    for arg in get_args(annotation):
        _models_in(arg, found)


def _give(cls: type[BaseModel], namespace: dict[str, Any]) -> None:
    cls.__pydantic_parent_namespace__ = {**(cls.__pydantic_parent_namespace__ or {}), **namespace}
