#!/usr/bin/env python3
"""One command to set up and open the series, one to set up and run every test.

    python tasks.py lab     # make .venv, install requirements.txt, open the series in JupyterLab
    python tasks.py test    # make .venv, install requirements.txt, run the whole test suite

Works with nothing but Python 3.10+ on Linux, macOS and Windows: everything else goes into the
project's own virtual environment (.venv), so no sudo and no system packages for the series.
Extra arguments after `test` go to pytest (e.g. `python tasks.py test -k torture`).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def requirements_digest() -> str:
    h = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def setup() -> Path:
    """Create .venv and install requirements.txt into it, unless already up to date."""
    if sys.version_info < (3, 10):
        sys.exit(f"mspl-lite needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    py = venv_python()
    if not py.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = requirements_digest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("Installing requirements.txt (first run takes a few minutes) ...", flush=True)
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", "pip"])
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", "requirements.txt"])
        STAMP.write_text(digest)
    return py


def run(cmd, **kw) -> int:
    rc = subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)
    if rc:
        sys.exit(rc)
    return rc


def lab(args: list[str]) -> None:
    py = setup()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if notebooks:
        # Notebooks executed by a script are untrusted; trusting them shows their stored
        # diagrams before the learner runs anything.
        run([py, "-m", "jupyter", "trust", *notebooks])
    start = notebooks[0].relative_to(ROOT).as_posix() if notebooks else "notebooks"
    extra = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-root")  # containers and workshop VMs often run as root; Jupyter refuses otherwise
    run([py, "-m", "jupyterlab", f"--ServerApp.default_url=/lab/tree/{start}", *extra, *args])


def test(args: list[str]) -> None:
    py = setup()
    run([py, "-m", "pytest", *args])


def main(argv: list[str]) -> None:
    commands = {"lab": lab, "test": test, "setup": lambda a: setup()}
    if not argv or argv[0] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
