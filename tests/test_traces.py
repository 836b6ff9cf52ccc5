"""Whole error reports, traces included, agree across the VM, the native tier and the JIT
(LANGUAGE.md §13.4: one entry for the top level and one per active non-tail call of a FluentAI
function; an error raised inside a builtin is reported at the program's call of that builtin).
The corpus compares report lines only; these programs are about the trace around builtins
written in FluentAI (`map`, `fold`, `for-each`, `concat-map`), reached by tail calls or calling
back into the program, and about recursion through them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_jit import NOW, Result, run

from corpus import REPO_ROOT

# a small depth limit (every tier honours FLUENTAI_MAX_DEPTH) keeps the overflows quick
DEPTH = {"FLUENTAI_MAX_DEPTH": "3000"}

PROGRAMS = {
    # raised in the builtin itself, which the function reached by a tail call
    "builtin_tail_called": "(define (g) (map head [5]))\n(g)\n",
    "builtin_tail_called_filter": "(define (g) (filter 5 [1]))\n(print 0)\n(g)\n",
    # raised by the builtin after the program's function it called returned
    "after_callback": "(define (g) (concat-map (lambda (x) (+ x 1)) [1]))\n(g)\n",
    "after_callback_non_tail": (
        "(define (g) (+ 1 (head (concat-map (lambda (x) (+ x 1)) [1]))))\n(g)\n"
    ),
    # raised in the program's function the builtin called
    "in_callback_from_top_level": "(define (f a) (head a))\n(map f [[1] []])\n",
    "in_callback_via_tail_call": (
        "(define (f a) (head a))\n(define (g) (map f [[1] []]))\n(print 1)\n(g)\n"
    ),
    "fold_in_tail_position": '(define (g xs) (fold + 0 xs))\n(g [1 "a"])\n',
    # endless recursion through a builtin the function tail-calls: stack-overflow, no crash
    "endless_through_map": "(define (d n) (map d [n]))\n(print 1)\n(d 0)\n",
    "deep_walk": (
        "(define (walk t) (if (list? t) (for-each walk t) nil))\n"
        "(define (nest n acc) (if (= n 0) acc (nest (- n 1) [acc])))\n"
        "(print (walk (nest 2000 1)))\n(walk (nest 5000 1))\n"
    ),
    "deep_map_non_tail": "(define (deep n) (+ 1 (head (map deep [n]))))\n(deep 1)\n",
    # a handler clause calls the function that performed: the clause runs as a call of that
    # frame, so both frames have entries, at the same site
    "clause_calls_performer": (
        "(define (h n) (+ 1 (app:x n)))\n(handler ((app:x (lambda (n) (h n)))) (h 1))\n"
    ),
    "clause_calls_performer_non_tail": (
        "(define (h n) (+ 1 (app:x n)))\n(handler ((app:x (lambda (n) (+ 0 (h n))))) (h 1))\n"
    ),
    "clause_arity_error": "(define (h n) (+ 1 (app:x n)))\n(handler ((app:x (lambda () 0))) (h 1))\n",
    "clause_raises": (
        "(define (h n) (+ 1 (app:x n)))\n(handler ((app:x (lambda (n) (head [])))) (h 1))\n"
    ),
    # an operation applied as a value (by a builtin, or by a call of a variable): the perform
    # is that application, one entry for the frame that made it (not two)
    "operation_applied_by_map": "(handler ((app:x (lambda (v) (head [])))) (map app:x [1]))\n",
    "operation_applied_by_map_in_f": (
        "(define (f xs) (+ 1 (head (map app:x xs))))\n"
        "(handler ((app:x (lambda (v) (head [])))) (f [1]))\n"
    ),
    "operation_in_a_variable": "(define f app:x)\n(handler ((app:x (lambda (v) (head [])))) (f 1))\n",
    "raise_applied_by_map": (
        '(handler ((error:raise (lambda (k m d) (head [])))) (map raise ["a"]))\n'
    ),
    # a tab before the span: the caret line has a tab there too, in every tier
    "tab_indented": '(define (f x)\n\t(+ x "a"))\n(f 1)\n',
    "caught_overflow": (
        "(define (d n) (map d [n]))\n(print (try (d 0) (catch e (error-kind e))))\n"
    ),
}

# `state:update` in tail position of f: its default behaviour calls g, and replaces f's frame as a
# builtin written in FluentAI would (LANGUAGE.md §12), so f has no entry while g runs
G = "(define (g v) (head []))\n"
STATE_TAIL = {
    "state_update_tail_called": G + "(define (f) (state:update 'k g))\n(print 1)\n(f)\n",
    "state_update_tail_value": G + "(define (f h) (h 'k g))\n(print 1)\n(f state:update)\n",
    "state_update_tail_apply": G + "(define (f) (apply state:update ['k g]))\n(print 1)\n(f)\n",
    "state_update_tail_effect": G + "(define (f) (effect state:update 'k g))\n(print 1)\n(f)\n",
    "state_update_applied_by_fold": G + "(define (f) (fold state:update 'k [g]))\n(print 1)\n(f)\n",
    "state_update_tail_in_lambda": (
        G + "(define (f) (map (lambda (x) (state:update 'k g)) [1]))\n(print 1)\n(f)\n"
    ),
    "state_update_other_handler": (
        G + "(define (f) (state:update 'k g))\n(handler ((io:write (lambda (x) 0))) (f))\n"
    ),
}
# f keeps its entry: a clause of the program handles the perform (the exception of §12), the
# perform is not in tail position, or the error is raised by state:update itself
STATE_KEPT = {
    "state_update_handled": (
        G + "(define (f) (state:update 'k g))\n"
        "(handler ((state:update (lambda (k fn) (fn 1)))) (f))\n"
    ),
    "state_update_handled_by_ns": (
        G + "(define (f) (state:update 'k g))\n(handler ((state (lambda (op k fn) (fn 1)))) (f))\n"
    ),
    "state_update_value_handled": (
        G + "(define (f h) (h 'k g))\n"
        "(handler ((state:update (lambda (k fn) (fn 1)))) (f state:update))\n"
    ),
    # a clause of the program that performs it again in tail position reaches the default,
    # which replaces the clause's frame, not f's
    "state_update_clause_tail_performs": (
        G + "(define (f) (state:update 'k g))\n"
        "(handler ((state:update (lambda (k fn) (state:update k fn)))) (f))\n"
    ),
    "state_update_not_tail": G + "(define (f) (+ 1 (state:update 'k g)))\n(f)\n",
    "state_update_raises_itself": "(define (f) (state:update 'k 5))\n(print 1)\n(f)\n",
    "state_update_callback_builtin": "(define (f) (state:update 'k head))\n(f)\n",
}
STATE_OVERFLOW = {
    # endless recursion through a tail-called state:update still overflows: the call of the
    # lambda by state:update is a non-tail call
    "state_update_endless": "(define (d n) (state:update 'k (lambda (v) (d n))))\n(d 0)\n",
    "state_update_endless_non_tail": (
        "(define (d n) (state:update 'k (lambda (v) (+ 1 (d n)))))\n(d 0)\n"
    ),
}
PROGRAMS.update(STATE_TAIL)
PROGRAMS.update(STATE_KEPT)
PROGRAMS.update(STATE_OVERFLOW)


def _tiers(tmp_path: Path, source: str) -> dict[str, Result]:
    return {
        "vm": run(tmp_path, source, "--tier", "vm", env=DEPTH),
        "native": run(tmp_path, source, "--tier", "native", env=DEPTH),
        "jit": run(tmp_path, source, env={**DEPTH, **NOW}),
    }


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_reports_and_traces_agree(tmp_path: Path, name: str) -> None:
    results = _tiers(tmp_path, PROGRAMS[name])
    assert results["vm"] == results["native"] == results["jit"], results


def test_an_error_in_a_tail_called_builtin_is_reported_at_its_call(tmp_path: Path) -> None:
    vm = _tiers(tmp_path, PROGRAMS["builtin_tail_called"])["vm"]
    assert vm.stderr.splitlines()[0].startswith("prog.fl:1:13: error[type-error]")
    assert "prog.fl:2:1 in <top level>" in vm.stderr and "prog.fl:1:13 in g" in vm.stderr


def test_endless_recursion_through_a_tail_called_builtin_overflows(tmp_path: Path) -> None:
    for result in _tiers(tmp_path, PROGRAMS["endless_through_map"]).values():
        assert result.status == 70 and result.stdout == "1\n"
        assert "error[stack-overflow]" in result.stderr.splitlines()[0]
    caught = _tiers(tmp_path, PROGRAMS["caught_overflow"])
    assert {r.stdout for r in caught.values()} == {"stack-overflow\n"}


def test_carets_stay_under_the_span_after_tabs(tmp_path: Path) -> None:
    for result in _tiers(tmp_path, PROGRAMS["tab_indented"]).values():
        assert result.stderr.splitlines()[-2:] == ['    \t(+ x "a"))', "    \t^^^^^^^^^"]


def _aot(tmp_path: Path, source: str) -> Result:
    """`fluentai build` the program and run the executable (reports name the path as given)."""
    (tmp_path / "prog.fl").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    env.update({"PYTHONPATH": str(REPO_ROOT), "FLUENTAI_CACHE_DIR": str(tmp_path / "cache")})
    build = [sys.executable, "-m", "fluentai", "build", "prog.fl", "-o", "prog"]
    subprocess.run(build, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.run(
        ["./prog"], cwd=tmp_path, env={**env, **DEPTH}, capture_output=True, timeout=120
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.mark.parametrize("name", sorted(STATE_TAIL))
def test_a_tail_called_state_update_replaces_the_frame(tmp_path: Path, name: str) -> None:
    results = _tiers(tmp_path, PROGRAMS[name])
    results["aot"] = _aot(tmp_path, PROGRAMS[name])
    for result in results.values():
        assert result.status == 70 and "error[empty-list]" in result.stderr, result
        entries = [line for line in result.stderr.splitlines() if line.startswith("  prog.fl:")]
        assert entries[-1] == "  prog.fl:1:15 in g", result.stderr
        assert not any(line.endswith((" in f", " in lambda")) for line in entries), entries
    assert len(set(results.values())) == 1, results


@pytest.mark.parametrize("name", sorted(STATE_KEPT))
def test_state_update_keeps_the_frame_when_not_replacing_it(tmp_path: Path, name: str) -> None:
    results = _tiers(tmp_path, PROGRAMS[name])
    results["aot"] = _aot(tmp_path, PROGRAMS[name])
    for result in results.values():
        assert result.status == 70, result
        entries = [line for line in result.stderr.splitlines() if line.startswith("  prog.fl:")]
        assert any(line.endswith(" in f") for line in entries), result.stderr
        assert not any(line.endswith(" in lambda") for line in entries[:-1]), result.stderr
    assert len(set(results.values())) == 1, results


@pytest.mark.parametrize("name", sorted(STATE_OVERFLOW))
def test_endless_recursion_through_a_tail_called_state_update_overflows(
    tmp_path: Path, name: str
) -> None:
    results = _tiers(tmp_path, PROGRAMS[name])
    results["aot"] = _aot(tmp_path, PROGRAMS[name])
    for result in results.values():
        assert result.status == 70 and "error[stack-overflow]" in result.stderr.splitlines()[0]
    assert len(set(results.values())) == 1, results
