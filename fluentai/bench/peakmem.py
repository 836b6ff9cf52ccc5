"""Peak memory of a child process, measured without the harness's own memory in it.

On Linux a process's `ru_maxrss` starts from the resident size of the process that forked it:
exec records the old address space's high-water mark, and a child forked from this Python
process inherits its ~20 MiB. So the harness runs each check run through a tiny C helper: the
helper forks the program, waits for it with `wait4` and writes its `ru_maxrss` (KiB) to a file.
The program then starts from the helper's few hundred KiB. The helper is compiled once per run
with the system C compiler; without one, the figures from `os.wait4` are used and the report says
they are upper bounds.

    maxrss OUT.txt prog args...   runs prog, writes its peak KiB to OUT.txt, exits with its status
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from fluentai.bench.measure import run_process

HELPER_SOURCE: Final = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 125;
    pid_t pid = fork();
    if (pid < 0) return 125;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) return 125;
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) return 125;
    fprintf(out, "%ld\n", usage.ru_maxrss);
    fclose(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
"""


def build_helper(workdir: Path) -> Path | None:
    """Compile the helper into `workdir`; None when there is no C compiler or it fails."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    source, helper = workdir / "maxrss.c", workdir / "maxrss"
    source.write_text(HELPER_SOURCE, encoding="utf-8")
    built = run_process([compiler, "-O2", "-o", str(helper), str(source)], timeout_s=120.0)
    return helper if built.ok else None


def read_peak_kib(report: Path) -> int | None:
    """The KiB the helper wrote to `report`, or None if it wrote nothing readable."""
    try:
        return int(report.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
