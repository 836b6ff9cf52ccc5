"""fluentai.records: the dataclass stand-in the compiler's classes use."""

from __future__ import annotations

import pickle

import pytest

from fluentai.records import FrozenInstanceError, field, fields, is_record, record, replace


@record
class Point:
    x: int
    y: int = 0
    tag: str = field(default="", kw_only=True, compare=False)


@record(frozen=False, eq=False, slots=False)
class Box:
    items: list[int] = field(default_factory=list)
    seen: int = 0

    def __post_init__(self) -> None:
        self.seen = len(self.items)


@record(frozen=False)
class Counter:
    n: int

    def __repr__(self) -> str:
        return f"<{self.n}>"


def test_init_defaults_and_keyword_only() -> None:
    p = Point(1, tag="a")
    assert (p.x, p.y, p.tag) == (1, 0, "a")
    with pytest.raises(TypeError):
        Point(1, 2, "positional tag")  # type: ignore[call-arg]


def test_frozen_value_semantics() -> None:
    p = Point(1, 2, tag="a")
    with pytest.raises(FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    assert p == Point(1, 2, tag="other")  # tag is not compared
    assert hash(p) == hash(Point(1, 2))
    assert p != Point(2, 1)
    assert repr(p) == "Point(x=1, y=2, tag='a')"
    assert not hasattr(p, "__dict__")


def test_match_args_exclude_keyword_only() -> None:
    match Point(3, 4):
        case Point(a, b):
            assert (a, b) == (3, 4)
        case _:
            pytest.fail("no match")
    assert Point.__match_args__ == ("x", "y")


def test_mutable_identity_record_with_factory_and_post_init() -> None:
    a, b = Box([1, 2]), Box()
    assert a.seen == 2 and b.items == [] and b.items is not Box().items
    a.seen = 5
    assert a.seen == 5
    assert a != Box([1, 2]) and a == a and len({a, a}) == 1  # identity equality and hash


def test_class_methods_win_and_mutable_eq_is_unhashable() -> None:
    c = Counter(1)
    assert repr(c) == "<1>"
    assert c == Counter(1)
    with pytest.raises(TypeError):
        hash(c)


def test_helpers_and_pickling() -> None:
    p = Point(1, 2, tag="t")
    assert is_record(p) and not is_record(Point) and not is_record(3)
    assert fields(p) == ("x", "y", "tag")
    q = replace(p, y=5)
    assert (q.x, q.y, q.tag) == (1, 5, "t")
    with pytest.raises(TypeError):
        replace(p, z=1)
    r = pickle.loads(pickle.dumps(p))
    assert r == p and r.tag == "t"
