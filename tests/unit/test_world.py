"""The World and the default behaviours of the built-in operations (LANGUAGE.md §14.2)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from fluentai.errors import FlError
from fluentai.primitives import PrimKind, lookup
from fluentai.vm.maps import FlMap
from fluentai.vm.values import EMPTY, from_iter, to_pylist
from fluentai.vm.world import World, seed_from_environment


def byte_streams(stdin: bytes = b"") -> tuple[io.TextIOWrapper, io.TextIOWrapper, io.TextIOWrapper]:
    """Text streams over bytes, like sys.std* (with an ASCII locale, to check UTF-8 output)."""
    return (
        io.TextIOWrapper(io.BytesIO(stdin), encoding="ascii"),
        io.TextIOWrapper(io.BytesIO(), encoding="ascii"),
        io.TextIOWrapper(io.BytesIO(), encoding="ascii"),
    )


def make_world(stdin: bytes = b"", argv: list[str] | None = None) -> World:
    return World(argv or [], *byte_streams(stdin), seed=2024)


def out_bytes(stream: Any) -> bytes:
    return stream.buffer.getvalue()  # type: ignore[no-any-return]


def perform(world: World, name: str, *args: object) -> Any:
    row = lookup(name)
    assert row is not None and row.vm is not None and row.needs_world
    return row.vm(world, *args)


def test_print_write_and_flush_write_utf8_bytes() -> None:
    world = make_world()
    perform(world, "print", "héllo", 1, from_iter(["a"]), None)
    perform(world, "io:write", "λ", 2.5)
    perform(world, "println")
    assert out_bytes(world.stdout) == b""  # buffered until flushed
    world.flush()
    assert out_bytes(world.stdout) == 'héllo 1 ["a"] nil\nλ 2.5\n'.encode()


def test_print_err_flushes_standard_output_first() -> None:
    world = make_world()
    perform(world, "io:print", "out")
    perform(world, "io:print-err", "err", 1)
    assert out_bytes(world.stdout) == b"out\n"
    assert out_bytes(world.stderr) == b"err 1\n"


def test_plain_text_streams_work_too() -> None:
    out = io.StringIO()
    world = World(["x"], io.StringIO("a\r\nb\n\nlast"), out, io.StringIO(), seed=1)
    perform(world, "io:print", "hi")
    assert perform(world, "read-line") == "a"
    assert out.getvalue() == "hi\n"
    assert [world.read_line() for _ in range(4)] == ["b", "", "last", None]


def test_read_line_strips_newlines_and_gives_nil_at_eof() -> None:
    world = make_world("one\r\ntwo\nλ\n\nend".encode())
    lines = [perform(world, "io:read-line") for _ in range(6)]
    assert lines == ["one", "two", "λ", "", "end", None]


def test_read_line_flushes_output_first() -> None:
    world = make_world(b"x\n")
    perform(world, "io:write", "prompt> ")
    world.read_line()
    assert out_bytes(world.stdout) == b"prompt> "


def test_read_line_of_invalid_utf8_raises_io_error() -> None:
    world = make_world(b"\xff\xfe\n")
    with pytest.raises(FlError) as info:
        world.read_line()
    assert info.value.kind == "io-error"


def test_large_output_is_flushed_before_exit() -> None:
    world = make_world()
    for i in range(10_000):
        world.write(f"{i}\n")
    assert out_bytes(world.stdout)  # flushed part of the way, keeping memory bounded
    world.flush()
    assert out_bytes(world.stdout).decode().splitlines() == [str(i) for i in range(10_000)]


def test_args_is_the_argument_list() -> None:
    world = make_world(argv=["a", "b c"])
    assert to_pylist(world.args) == ["a", "b c"]
    assert make_world().args is EMPTY


def test_files_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    world = make_world()
    assert perform(world, "io:write-file", "notes.txt", "line 1\n") is None
    assert perform(world, "io:append-file", "notes.txt", "λ 2") is None
    assert perform(world, "io:file-exists?", "notes.txt") is True
    assert perform(world, "io:file-exists?", "missing.txt") is False
    assert perform(world, "io:file-exists?", "notes.txt/inner") is False
    assert perform(world, "io:read-file", "notes.txt") == "line 1\nλ 2"
    assert (tmp_path / "notes.txt").read_bytes() == "line 1\nλ 2".encode()
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb")
    assert perform(world, "io:read-file", "crlf.txt") == "a\r\nb"


def test_file_errors_raise_io_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    world = make_world()
    with pytest.raises(FlError) as info:
        perform(world, "io:read-file", "no/such/dir/file.txt")
    assert info.value.kind == "io-error"
    assert '"no/such/dir/file.txt"' in info.value.message
    assert "No such file or directory" in info.value.message
    with pytest.raises(FlError) as info:
        perform(world, "io:write-file", "no/such/dir/file.txt", "x")
    assert info.value.kind == "io-error"
    with pytest.raises(FlError) as info:
        perform(world, "io:read-file", ".")
    assert info.value.kind == "io-error"
    with pytest.raises(FlError) as info:
        perform(world, "io:read-file", "nul\x00char")
    assert info.value.kind == "io-error"
    (tmp_path / "bad.txt").write_bytes(b"\xc3\x28")
    with pytest.raises(FlError) as info:
        perform(world, "io:read-file", "bad.txt")
    assert info.value.kind == "io-error"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("io:read-file", (5,)),
        ("io:write-file", ("x.txt", 5)),
        ("io:write-file", (None, "x")),
        ("io:append-file", ("x.txt", EMPTY)),
        ("io:file-exists?", (None,)),
        ("time:sleep", ("1",)),
        ("time:sleep", (True,)),
        ("random:int", (1, 6.0)),
        ("random:int", (True, 6)),
        ("random:choice", ("abc",)),
        ("random:shuffle", (None,)),
        ("random:seed", (1.5,)),
    ],
)
def test_wrong_argument_types_raise_type_error(name: str, args: tuple[object, ...]) -> None:
    with pytest.raises(FlError) as info:
        perform(make_world(), name, *args)
    assert info.value.kind == "type-error"


def test_state_operations_follow_the_spec_example() -> None:
    world = make_world()
    assert perform(world, "state:set", "k", 1) is None
    assert perform(world, "state:set", "k", 2) == 1
    assert perform(world, "state:get", "k") == 2
    assert perform(world, "state:get", 1.0) is None
    assert perform(world, "state:delete", "k") == 2
    assert perform(world, "state:get", "k") is None
    assert perform(world, "state:delete", "k") is None
    perform(world, "state:set", 1, "one")
    assert perform(world, "state:get", 1.0) == "one"
    assert perform(world, "%state-set", from_iter([1]), "list") is None
    assert perform(world, "%state-get", from_iter([1.0])) == "list"


def test_transactions_nest_commit_and_roll_back() -> None:
    world = make_world()
    perform(world, "state:set", "n", 3)
    perform(world, "state:begin-transaction")
    perform(world, "state:set", "n", 100)
    assert perform(world, "state:get", "n") == 100
    perform(world, "state:rollback-transaction")
    assert perform(world, "state:get", "n") == 3
    perform(world, "state:begin-transaction")
    perform(world, "state:set", "n", 4)
    perform(world, "state:begin-transaction")
    perform(world, "state:set", "n", 5)
    perform(world, "state:rollback-transaction")
    assert perform(world, "state:get", "n") == 4
    perform(world, "state:commit-transaction")
    assert perform(world, "state:get", "n") == 4
    assert isinstance(world.store.state, FlMap) and world.store.saved == []


@pytest.mark.parametrize("name", ["state:commit-transaction", "state:rollback-transaction"])
def test_ending_a_transaction_with_none_open_raises_value_error(name: str) -> None:
    with pytest.raises(FlError) as info:
        perform(make_world(), name)
    assert info.value.kind == "value-error"


def test_random_rows_follow_the_spec_vector() -> None:
    world = make_world()
    perform(world, "random:seed", 2024)
    draws = [perform(world, "random:int", 1, 6) for _ in range(3)]
    assert [*draws, perform(world, "random:randint", -1000000, 1000000)] == [5, 4, 6, 583378]
    assert repr(perform(world, "random:float")) == "0.773650389718931"
    assert perform(world, "random:choice", from_iter(["a", "b", "c"])) == "b"
    assert to_pylist(perform(world, "random:shuffle", from_iter([1, 2, 3, 4, 5]))) == [
        5,
        4,
        2,
        1,
        3,
    ]
    perform(world, "random:seed", 2024)
    assert perform(world, "random:int", 1, 6) == 5
    assert repr(perform(world, "random:random")) == "0.782103772866755"


def test_seed_comes_from_the_environment() -> None:
    assert seed_from_environment({"FLUENTAI_SEED": "2024"}) == 2024
    assert seed_from_environment({"FLUENTAI_SEED": " -7 "}) == -7
    assert seed_from_environment({"FLUENTAI_SEED": "abc"}) is None
    assert seed_from_environment({}) is None


def test_world_without_seed_reads_fluentai_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUENTAI_SEED", "2024")
    world = World([], *byte_streams(), seed=None)
    assert [perform(world, "random:int", 1, 6) for _ in range(3)] == [5, 4, 6]


def test_time_operations() -> None:
    world = make_world()
    perform(world, "io:write", "before sleep")
    t0 = perform(world, "time:monotonic")
    assert perform(world, "time:sleep", 0.001) is None
    assert out_bytes(world.stdout) == b"before sleep"
    assert perform(world, "time:monotonic") >= t0 + 0.001
    assert perform(world, "time:sleep", 0) is None
    assert isinstance(perform(world, "time:now"), float)
    for bad in (-1, -0.5, float("nan"), float("inf"), 10**30):
        with pytest.raises(FlError) as info:
            perform(world, "time:sleep", bad)
        assert info.value.kind == "value-error"


def test_effect_rows_cover_the_operation_table() -> None:
    operations = {
        "io:print": ("print", "println"),
        "io:write": (),
        "io:print-err": (),
        "io:read-line": ("read-line",),
        "io:read-file": (),
        "io:write-file": (),
        "io:append-file": (),
        "io:file-exists?": (),
        "state:get": (),
        "state:set": (),
        "state:update": (),
        "state:delete": (),
        "state:begin-transaction": (),
        "state:commit-transaction": (),
        "state:rollback-transaction": (),
        "error:raise": ("raise",),
        "time:now": (),
        "time:monotonic": (),
        "time:sleep": (),
        "random:float": ("random:random",),
        "random:int": ("random:randint",),
        "random:choice": (),
        "random:shuffle": (),
        "random:seed": (),
    }
    for name, aliases in operations.items():
        row = lookup(name)
        assert row is not None and row.kind is PrimKind.EFFECT and row.name == name
        assert row.aliases == aliases
        if name in ("error:raise", "state:update"):
            assert row.vm is None
        else:
            assert row.vm is not None and row.needs_world
    update = lookup("state:update")
    assert update is not None and update.prelude_default == "%state-update"
