"""Immutable records: named tuples declared by annotated class bodies, without importing typing at start-up.

    class Span(Record):
        start: int
        end: int = 0

Type checkers read `Record` as `typing.NamedTuple` (the `TYPE_CHECKING` branch), so they see every field,
the constructor's signature and the tuple behind it.  At run time `Record` is a small stand-in that builds
the same named tuple with `collections.namedtuple`: what typing.NamedTuple does, at a tenth of the import
cost (`scenec check` runs on every save and `typing` alone is ~2 ms of its ~30 ms).
"""

from __future__ import annotations

from collections import namedtuple

__all__ = ["Record"]

# Spelled out rather than imported from typing: importing typing is the cost this module avoids.  mypy and
# pyright treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    _SKIP = {"__dict__", "__weakref__", "__annotations__", "__module__", "__qualname__"}

    def _build(name: str, namespace: dict[str, object]) -> type:
        """A named tuple with the annotated fields and their defaults; the class body's methods on a subclass."""
        annotations = namespace.get("__annotations__")
        if not isinstance(annotations, dict):  # Python 3.14 evaluates annotations lazily, unless told otherwise
            raise TypeError(f"record {name} has no fields: its module needs `from __future__ import annotations`")
        names = list(annotations)
        defaults = [namespace[field] for field in names if field in namespace]
        if names[len(names) - len(defaults):] != [field for field in names if field in namespace]:
            # namedtuple gives the last fields the defaults, whichever had them: refuse, as typing.NamedTuple does
            raise TypeError(f"record {name}: a field without a default follows one with a default")
        base = namedtuple(name, names, defaults=defaults or None, module=namespace["__module__"])
        body = {key: value for key, value in namespace.items() if key not in _SKIP and key not in names}
        body["__slots__"] = ()
        body["__annotations__"] = annotations
        body["__module__"] = namespace["__module__"]  # where pickle looks the class up, not this module
        made = type(name, (base,), body)
        made.__qualname__ = namespace.get("__qualname__", name)
        return made

    class _RecordMeta(type):
        """Builds a named tuple in place of each class that names `Record` as its base (as typing's does)."""

        def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if not bases:  # Record itself
                return super().__new__(mcls, name, bases, namespace)
            if bases != (Record,):  # as with typing.NamedTuple: no other base class
                raise TypeError(f"record {name}: Record must be its only base class")
            return _build(name, namespace)

    class Record(metaclass=_RecordMeta):
        """The base class of records: `class X(Record): field: type = default`."""

        __slots__ = ()
