"""Records: the project's light stand-in for `dataclasses.dataclass`.

`@record` makes an immutable class with slots, value equality and hashing, like
`@dataclass(frozen=True, slots=True)`; `@record(frozen=False, eq=False, slots=False)` and the
other combinations behave like the matching `dataclass` options. Fields are the class's
annotations, optionally with a default or a `field(default=..., default_factory=..., kw_only=...,
compare=..., repr=...)`; `__post_init__` runs after `__init__` as in dataclasses.

Why not dataclasses: a run of `fluentai run` imports about 90 classes of this kind. The dataclass
machinery costs about 1.3 ms per frozen slotted class, and importing `dataclasses` pulls in
`inspect`; together that was most of the interpreter's start-up (docs/decisions.md, "Start-up").
Here only `__init__` is generated source, compiled at the class's first instantiation.

`fields`, `replace` and `is_record` are the helpers tree walkers use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T")

_FIELDS = "__record_fields__"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of an immutable record."""


class Field:
    """A field's options, as given to `field()`."""

    __slots__ = ("name", "default", "default_factory", "kw_only", "compare", "repr")

    def __init__(
        self, default: Any, default_factory: Any, kw_only: bool, compare: bool, repr: bool
    ) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.kw_only = kw_only
        self.compare = compare
        self.repr = repr


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | Any = MISSING,
    kw_only: bool = False,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """Options of one field (the `dataclasses.field` subset the project uses)."""
    return Field(default, default_factory, kw_only, compare, repr)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in getattr(type(self), _FIELDS))


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(getattr(type(self), _FIELDS), state, strict=True):
        object.__setattr__(self, name, value)


def _make_init(
    cls_name: str, specs: list[Field], frozen: bool, post_init: bool
) -> Callable[..., None]:
    """Generate `__init__` for the fields `specs` (keyword-only ones after a `*`)."""
    env: dict[str, Any] = {"_set": object.__setattr__, "MISSING": MISSING}
    params: list[str] = []
    kw_params: list[str] = []
    body: list[str] = []
    for f in specs:
        value = f.name
        if f.default_factory is not MISSING:
            env[f"_f_{f.name}"] = f.default_factory
            param = f"{f.name}=MISSING"
            value = f"_f_{f.name}() if {f.name} is MISSING else {f.name}"
        elif f.default is not MISSING:
            env[f"_d_{f.name}"] = f.default
            param = f"{f.name}=_d_{f.name}"
        else:
            param = f.name
        body.append(
            f"  _set(self, {f.name!r}, {value})" if frozen else f"  self.{f.name} = {value}"
        )
        (kw_params if f.kw_only else params).append(param)
    if post_init:
        body.append("  self.__post_init__()")
    signature = ", ".join(["self", *params, *(["*", *kw_params] if kw_params else [])])
    source = "\n".join([f"def __init__({signature}):", *(body or ["  pass"])])
    exec(compile(source, f"<record {cls_name}>", "exec"), env)  # noqa: S102 - generated above
    init: Callable[..., None] = env["__init__"]
    return init


def _lazy_init(specs: list[Field], frozen: bool, post_init: bool) -> Callable[..., None]:
    """An `__init__` that compiles the real one at the class's first instantiation (compiling
    costs more than building the class, and a run instantiates only some of them)."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        init = _make_init(cls.__name__, specs, frozen, post_init)
        type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)

    return __init__


def _value_methods(specs: list[Field], frozen: bool) -> dict[str, Any]:
    """`__eq__` and `__hash__` over the compared fields (unhashable when mutable)."""
    compared = [f.name for f in specs if f.compare]

    def key(obj: Any) -> tuple[Any, ...]:
        return tuple([getattr(obj, name) for name in compared])

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    return {"__eq__": __eq__, "__hash__": __hash__ if frozen else None}


def _repr_method(specs: list[Field]) -> Callable[[Any], str]:
    shown = [f.name for f in specs if f.repr]

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _make_record(cls: type[T], frozen: bool, eq: bool, slots: bool) -> type[T]:
    names = list(cls.__dict__.get("__annotations__", {}))
    specs: list[Field] = []
    for name in names:
        spec = cls.__dict__.get(name, MISSING)
        if not isinstance(spec, Field):
            spec = Field(spec, MISSING, False, True, True)
        spec.name = name
        specs.append(spec)
    # fields inherited from a record base class come first, as in dataclasses
    inherited: list[Field] = []
    for base in cls.__mro__[-1:0:-1]:
        inherited.extend(getattr(base, "__record_specs__", ()))
    all_specs = [f for f in inherited if f.name not in names] + specs
    methods: dict[str, Any] = {
        "__init__": _lazy_init(all_specs, frozen, hasattr(cls, "__post_init__")),
        "__repr__": _repr_method(all_specs),
        "__match_args__": tuple(f.name for f in all_specs if not f.kw_only),
        _FIELDS: tuple(f.name for f in all_specs),
        "__record_specs__": tuple(all_specs),
    }
    if eq:
        methods.update(_value_methods(all_specs, frozen))
    if frozen:
        methods["__setattr__"] = _frozen_setattr
        methods["__delattr__"] = _frozen_delattr
    # methods the class writes itself win, as with dataclasses
    for own in ("__init__", "__repr__", "__eq__", "__hash__"):
        if own in cls.__dict__ and (own != "__hash__" or cls.__dict__[own] is not None):
            del methods[own]
    if slots:
        namespace = {k: v for k, v in cls.__dict__.items() if k not in names}
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
        namespace["__slots__"] = tuple(names)
        namespace["__getstate__"] = _getstate
        namespace["__setstate__"] = _setstate
        namespace.update(methods)
        new_cls = cast("type[T]", type(cls.__name__, cls.__bases__, namespace))
        new_cls.__qualname__ = cls.__qualname__
        return new_cls
    for spec in specs:
        if spec.default is not MISSING:
            type.__setattr__(cls, spec.name, spec.default)
        elif spec.name in cls.__dict__:
            type.__delattr__(cls, spec.name)
    for key, value in methods.items():
        type.__setattr__(cls, key, value)
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(
    *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make `cls` a record (see the module docstring); immutable with slots by default."""
    if cls is not None:
        return _make_record(cls, frozen, eq, slots)

    def wrap(c: type[T]) -> type[T]:
        return _make_record(c, frozen, eq, slots)

    return wrap


# type -> whether it is a record class. `hasattr` of a missing attribute raises and clears an
# AttributeError, and raising walks the stack of active generators: the passes' traversals nest
# one per level, so 20 000 nested forms took 25 s in `fold_constants` alone.
_IS_RECORD_TYPE: dict[type, bool] = {}


def is_record(value: object) -> bool:
    """True for a record instance (not for a record class)."""
    cls = type(value)
    known = _IS_RECORD_TYPE.get(cls)
    if known is None:
        known = _IS_RECORD_TYPE[cls] = hasattr(cls, _FIELDS)
    return known


def fields(value: object) -> tuple[str, ...]:
    """The field names of a record instance, in declaration order."""
    names: tuple[str, ...] = getattr(type(value), _FIELDS)
    return names


def replace(value: T, /, **changes: Any) -> T:
    """A copy of the record `value` with some fields changed (built by `__init__`)."""
    cls = type(value)
    names: tuple[str, ...] = getattr(cls, _FIELDS)
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    for name in names:
        if name not in changes:
            changes[name] = getattr(value, name)
    return cls(**changes)
