"""Whole error reports, traces included, agree across the VM, the native tier and the JIT
(LANGUAGE.md §13.4: one entry for the top level and one per active non-tail call of a FluentAI
function; an error raised inside a builtin is reported at the program's call of that builtin).
The corpus compares report lines only; these programs are about the trace around builtins
written in FluentAI (`map`, `fold`, `for-each`, `concat-map`), reached by tail calls or calling
back into the program, and about recursion through them."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_jit import NOW, Result, run

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
