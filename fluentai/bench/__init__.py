"""The benchmark harness behind `fluentai bench` (and `make bench`).

It runs each program of `benchmarks/programs/` on every FluentAI tier that exists (vm, auto, native,
aot) and on every peer that is installed (CPython, PyPy, C, Chez Scheme, LuaJIT), checks each output
against the Python one, times whole processes and writes `docs/benchmarks.{md,json,png}`.

    options.py  the command line (`fluentai bench --only fib,tak --runs 3 ...`)
    suite.py    benchmarks/suite.toml: the benchmarks and their sizes
    systems.py  the systems that can run a program, and which of them exist here
    measure.py  running one process: wall time, peak memory, output; hyperfine rounds
    peakmem.py  the small C helper that measures a child's peak memory exactly
    jitstats.py the figures of `--jit-stats` (compile time per function, compiling vs running)
    plan.py     which system runs which benchmark at which size
    harness.py  build, check, time: the run as a whole
    results.py  the measurements, and their JSON form
    report.py   the markdown report;  plot.py  the PNG

Nothing here is imported by `fluentai run`: cli.py imports the harness only for `bench`.
"""
