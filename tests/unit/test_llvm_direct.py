"""The direct path to llvmlite's library (fluentai/llvm/direct.py) makes the Engine's bytes, reports
the Engine's errors, and spares the processes that compile only object code the import of
`llvmlite.binding`."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fluentai.llvm import direct, engine
from fluentai.llvm.engine import Engine, EngineError

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
(define (tak x y z)
  (if (< y x) (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y)) z))
(define (mandel cr ci)
  (let loop ((zr 0.0) (zi 0.0) (i 0))
    (cond ((> i 50) i)
          ((> (+ (* zr zr) (* zi zi)) 4.0) i)
          (else (loop (+ (- (* zr zr) (* zi zi)) cr) (+ (* 2.0 zr zi) ci) (+ i 1))))))
(define xs (map (fn (x) (* x x)) (range 0 10)))
(print (tak 18 12 6) (mandel -0.5 0.5) (fold + 0 xs) (string-join "," (map str xs)))
"""


@pytest.fixture(scope="module")
def program_ir(tmp_path_factory: pytest.TempPathFactory) -> str:
    from fluentai.native import lower_source
    from fluentai.source import SourceFile

    return str(lower_source(SourceFile("prog.fl", PROGRAM)).module)


def test_it_is_taken_with_the_pinned_llvmlite() -> None:
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"llvmlite=={direct.LLVMLITE_VERSION}" in pins["project"]["dependencies"]
    assert direct.available()
    assert isinstance(engine.compiler(), direct.DirectEngine)


@pytest.mark.parametrize("opt", [0, 1, 2, 3])
@pytest.mark.parametrize("host_cpu", [False, True])
def test_the_same_object_code_as_the_engine(program_ir: str, opt: int, host_cpu: bool) -> None:
    expected = Engine().object_code(program_ir, opt, host_cpu=host_cpu)
    compiled = direct.DirectEngine()
    assert compiled.object_code(program_ir, opt, host_cpu=host_cpu) == expected
    assert compiled.times.codegen_ms > 0
    assert (compiled.times.optimize_ms > 0) == (opt > 0)


def test_the_same_plan_for_big_units(program_ir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bounded unit over BIG_UNIT_CHARS: -O1's pipeline, -O0 machine code, on both paths."""
    monkeypatch.setattr(engine, "BIG_UNIT_CHARS", 0)
    assert engine.plan(program_ir, 2, bounded=True) == (1, 0)
    expected = Engine().object_code(program_ir, 2, bounded=True)
    assert direct.DirectEngine().object_code(program_ir, 2, bounded=True) == expected
    assert expected != Engine().object_code(program_ir, 2)


@pytest.mark.parametrize(
    "text",
    [
        "define i64 @f( {",
        "define i64 @f() {\nentry:\n  ret i32 0\n}\n",
        "define i64 @f() {\nentry:\n  %x = add i64 %y, 1\n  %y = add i64 %x, 1\n  ret i64 %x\n}\n",
    ],
    ids=["syntax", "type", "dominance"],
)
def test_invalid_ir_is_reported_as_the_engine_reports_it(text: str) -> None:
    with pytest.raises(EngineError) as by_engine:
        Engine().object_code(text, 1)
    with pytest.raises(EngineError) as by_direct:
        direct.DirectEngine().object_code(text, 1)
    assert str(by_direct.value) == str(by_engine.value)
    assert str(by_direct.value).startswith("invalid LLVM IR: ")


def test_the_host_features_are_sorted_as_llvmlite_sorts_them() -> None:
    assert engine.host_features("+sse2,-avx512f,+avx2,,-3dnow") == "-3dnow,+avx2,-avx512f,+sse2"
    import llvmlite.binding as llvm

    lib = direct._load()
    assert lib is not None
    assert direct._host_facts(lib)[2].decode() == llvm.get_host_cpu_features().flatten()


def test_another_llvmlite_takes_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct, "LLVMLITE_VERSION", "0.0.0")
    assert direct.library_path() is None


# what the image compiler process's critical path does without (fluentai/llvm/direct.py, and
# codecache._link): about 45 ms of imports
NOT_IMPORTED = ("llvmlite.binding", "pathlib", "subprocess", "tempfile", "shutil")


def test_an_image_is_compiled_without_llvmlite_binding(tmp_path: Path) -> None:
    """The image compiler process's work (imageproc._prepare, then the image the run restarts
    on) in a process of its own, with a code cache that already holds the prelude's object and
    a runtime whose linker is known, as a first run finds them: it imports `llvmlite.ir` for the
    lowering, and none of NOT_IMPORTED. The -O2 image that follows is stored too."""
    (tmp_path / "prog.fl").write_text(PROGRAM, encoding="utf-8")
    env = {**os.environ, "FLUENTAI_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run(  # the prelude's object in the cache, as any earlier run leaves it
        [sys.executable, "-c", "from fluentai import native; native.prelude_object(2)"],
        env=env,
        check=True,
        timeout=300,
    )
    script = (
        "import sys\n"
        "from fluentai import imageproc\n"
        "stages = {}\n"
        "text = open('prog.fl', encoding='utf-8').read()\n"
        "images = imageproc._prepare('prog.fl', text, stages)\n"
        "images.compile(stages)\n"
        "assert images.store(stages)\n"
        "print(' '.join(sorted(sys.modules)))\n"
        "assert images.final()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    modules = proc.stdout.split()
    assert "llvmlite.ir" in modules
    assert [m for m in modules if m.split(".")[0] in NOT_IMPORTED or m in NOT_IMPORTED] == []
    assert [m for m in modules if m.startswith("llvmlite.binding")] == []
    assert list((tmp_path / "cache").glob("*.so")), "no image stored"
