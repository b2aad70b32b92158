"""Records: what `@dataclass` gives Warrant's plain data classes, without compiling code at import.

`dataclasses` writes every method of every class as source text and compiles it when the
module is imported — about a millisecond a class, and some forty classes lie on the path of a
cold `warrant decide`: a sixth of it. A record's methods are closures over the class's field
table instead, so defining a class costs next to nothing. In everything Warrant relies on they
behave as the dataclass methods did: construction by position or keyword with defaults and
default factories (and `__post_init__`), `replace`, equality and hashing over the compared fields (the
same hash values), `order=True`, the same repr, assignment refused on frozen records, and
pickling through `__dict__` (the kb cache's allow-listed unpickler builds them as before).
Classes with a hot constructor may write their own `__init__`; the record keeps it.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable

MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    """A field's default, default factory and whether equality compares it (see `field`)."""

    __slots__ = ("default", "default_factory", "compare", "repr")

    def __init__(self, default: Any, default_factory: Any, compare: bool, repr: bool) -> None:
        self.default, self.default_factory, self.compare, self.repr = default, default_factory, compare, repr


def field(*, default: Any = MISSING, default_factory: Any = MISSING, compare: bool = True,
          repr: bool = True) -> Any:
    """As `dataclasses.field`, for the arguments records take."""
    return Field(default, default_factory, compare, repr)


def replace(obj: Any, **changes: Any) -> Any:
    """As `dataclasses.replace`: a new record with some fields changed."""
    return type(obj)(**{name: changes.pop(name) if name in changes else getattr(obj, name)
                        for name in type(obj).__record_fields__}, **changes)


def record(cls: type | None = None, /, *, frozen: bool = False, eq: bool = True, order: bool = False) -> Any:
    """The class with `__init__`, `__repr__` and (with `eq`) `__eq__`/`__hash__` over its
    annotated fields, as `@dataclass(frozen=..., eq=..., order=...)` would define them."""
    def wrap(target: type) -> type:
        return _build(target, frozen, eq, order)
    return wrap if cls is None else wrap(cls)


def _fields(cls: type) -> tuple[list[str], list[str], list[str], dict[str, Any]]:
    names: list[str] = []
    compared: list[str] = []
    shown: list[str] = []
    defaults: dict[str, Any] = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if "ClassVar" in str(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        compare = show = True
        if isinstance(value, Field):
            compare, show = value.compare, value.repr
            if value.default_factory is not MISSING:
                defaults[name] = value
            elif value.default is not MISSING:
                defaults[name] = value.default
            if value.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        elif value is not MISSING:
            defaults[name] = value
        if names and names[-1] in defaults and name not in defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        names.append(name)
        if compare:
            compared.append(name)
        if show:
            shown.append(name)
    return names, compared, shown, defaults


def _build(cls: type, frozen: bool, eq: bool, order: bool) -> type:
    names, compared, shown, defaults = _fields(cls)
    cls.__record_fields__ = tuple(names)
    cls.__match_args__ = tuple(names)
    own = cls.__dict__
    if "__init__" not in own:
        cls.__init__ = _init(cls, tuple(names), defaults)
    if "__repr__" not in own:
        cls.__repr__ = _repr(tuple(shown))
    explicit_hash = own.get("__hash__", MISSING) not in (MISSING, None) or (
        "__hash__" in own and "__eq__" not in own)
    if eq:
        key = _key(compared)
        if "__eq__" not in own:
            cls.__eq__ = _compare(key, lambda a, b: a == b)
        if not explicit_hash:  # (as dataclasses decide it)
            cls.__hash__ = (lambda self: hash(key(self))) if frozen else None  # type: ignore[assignment]
    if order:
        for name, test in (("__lt__", lambda a, b: a < b), ("__le__", lambda a, b: a <= b),
                           ("__gt__", lambda a, b: a > b), ("__ge__", lambda a, b: a >= b)):
            setattr(cls, name, _compare(_key(compared), test))
    if frozen:
        fields = set(names)

        def __setattr__(self: Any, name: str, value: Any) -> None:
            if type(self) is cls or name in fields:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in fields:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)
        cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
    return cls


def _key(compared: list[str]) -> Callable[[Any], tuple]:
    """The tuple equality and hashing compare (a dataclass hashes the same tuple)."""
    if not compared:
        return lambda self: ()
    getter = attrgetter(*compared)
    if len(compared) == 1:
        return lambda self: (getter(self),)
    return getter


def _compare(key: Callable[[Any], tuple], test: Callable[[tuple, tuple], bool]) -> Callable:
    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return test(key(self), key(other))
        return NotImplemented
    return method


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"
    return __repr__


def _init(cls: type, names: tuple[str, ...], defaults: dict[str, Any]) -> Callable:
    count = len(names)
    post = getattr(cls, "__post_init__", None)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given > count:
            raise TypeError(f"__init__() takes {count + 1} positional arguments but {given + 1} were given")
        values = self.__dict__
        for name, value in zip(names, args):
            values[name] = value
        if given < count or kwargs:
            for name in names[given:]:
                if name in kwargs:
                    values[name] = kwargs.pop(name)
                elif name in defaults:
                    default = defaults[name]
                    values[name] = default.default_factory() if isinstance(default, Field) else default
                else:
                    raise TypeError(f"__init__() missing 1 required positional argument: {name!r}")
            for name in kwargs:
                problem = "got multiple values for argument" if name in names else "got an unexpected keyword argument"
                raise TypeError(f"__init__() {problem} {name!r}")
        if post is not None:
            self.__post_init__()
    return __init__
