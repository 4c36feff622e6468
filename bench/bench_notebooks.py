"""How long the notebook series takes to test (issue 5: "the whole nbval run takes as little time as it can").

    .venv/bin/python bench/bench_notebooks.py [--repeats 3]

Times, as wall clock of a fresh process each (what CI and a learner pay):
* ``pytest --nbval --nbval-current-env notebooks/`` -- the strict run of every stored output;
* ``tools/notebooks.py --check`` -- the stale-notebook report (notebooks run in parallel);
* each notebook alone under nbval (kernel start, its cells, kernel stop).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBVAL = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "-p", "no:cacheprovider"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    cells = sum(Path(p).read_text(encoding="utf-8").count('"cell_type": "code"') for p in notebooks)
    print(f"{len(notebooks)} notebooks, {cells} code cells; best and median of {args.repeats} runs\n")
    rows = [("pytest --nbval notebooks/ (all, serial)", NBVAL + ["notebooks/"]),
            ("tools/notebooks.py --check (parallel)", [sys.executable, "tools/notebooks.py", "--check"])]
    rows += [(f"  nbval {p.name}", NBVAL + [str(p.relative_to(ROOT))]) for p in notebooks]
    for label, cmd in rows:
        times = [wall(cmd) for _ in range(args.repeats)]
        print(f"{label:58} best {min(times):5.1f} s   median {statistics.median(times):5.1f} s")


if __name__ == "__main__":
    main()
