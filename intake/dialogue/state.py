"""Typed flow state: one dataclass per flow, loaded from and saved to the JSON dict kept in Conversation.data.

A flow reads `State.load(ctx.data)`, changes fields with their real types (dates, enums, ids) and calls
`save(ctx)`; the JSON conversion lives here once, so no flow passes loosely named dict keys to another. Most
answer steps only keep what was answered: `State.keep(ctx, field=value)` is that step in one line.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, Self, TypeVar

from intake.dialogue.steps import Ctx, StepGone

T = TypeVar("T")


def _plain(kind: Any) -> Any:
    """Return the type inside `X | None`."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return next(k for k in typing.get_args(kind) if k is not type(None))
    return kind


def _decode(kind: Any, value: Any) -> Any:
    kind = _plain(kind)
    if value is None:
        return None
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return [_decode(item, v) for v in value]
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """Return a state dataclass's (field name, type) pairs, resolved once (get_type_hints is slow per message)."""
    return _resolved_fields(cls)


@cache
def _resolved_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


class FlowState:
    """Base of a flow's state dataclass: load it from the conversation's JSON dict and save it back."""

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Return the state stored in `data` (keys this state does not know are ignored)."""
        values = {name: _decode(kind, data[name]) for name, kind in _fields(cls) if name in data}
        return cls(**values)

    def dump(self) -> dict[str, Any]:
        """Return the state as a JSON-ready dict."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def save(self, ctx: Ctx) -> None:
        """Make this state the conversation's whole flow data."""
        ctx.data.clear()
        ctx.data.update(self.dump())

    @classmethod
    def keep(cls, ctx: Ctx, **answers: Any) -> Self:
        """Load the state, set the fields named in `answers`, save it and return it: a field step in one call.

        Most answer steps are "load, set a field or two, save, go on"; this is that once, instead of three lines
        in each step. A name that is no field of the state is a TypeError, never a silent new key; the values are
        the fields' real types, as when set one by one.
        """
        if unknown := answers.keys() - dict(_fields(cls)).keys():
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        state = cls.load(ctx.data)
        for name, value in answers.items():
            setattr(state, name, value)
        state.save(ctx)
        return state


def need(value: T | None) -> T:
    """Return `value`, which an earlier step has set.

    A missing one means the flow's data no longer fits its step (entered wrongly, or what the step was about is
    gone): StepGone, which the engine turns into a real answer and the end of the flow, never an apology.
    """
    if value is None:
        raise StepGone()
    return value
