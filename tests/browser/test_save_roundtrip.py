"""Open, run, edit and save a notebook in JupyterLab the way `python3 tasks.py lab` serves it, and the
notebook checks of `python3 tasks.py test` still pass and git sees no change (issue 10, "done when").

Theory of operation. The repository is copied to a temporary folder (without .venv, the working copy
and other git-ignored output) so the real tree is never touched; the copy is served as `tasks.py lab`
serves a clone: its own sync_working_copy() fills my-notebooks/, jupyter trust marks the fresh
copies, and its own lab_command() builds the JupyterLab command line (LabApp.default_url, as root
--allow-root), run from the copy's root. The test adds only what a test needs: 127.0.0.1, a free
port, a token, isolated Jupyter folders, and an autosave interval of AUTOSAVE_S seconds instead of
JupyterLab's 120. In headless Chromium the notebook is opened from my-notebooks/, run top to bottom,
a cell is edited and saved with docmanager:save, a second edit is left for autosave to write, and
the server is stopped by its PID. Then, in the copy, tests/test_notebooks_fresh.py and strict nbval
on the original notebook run as a subprocess (what `tasks.py test` runs on notebooks), and
`git status --porcelain notebooks/` must be what it was before.

ROUNDTRIP is 04: it has a widget (whose state JupyterLab would save), exercises and self-checks
(which record progress), and no stored diagram, so its stored outputs do not move when the diagrams'
SVG does.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import (ROOT, LabServer, free_port, install_kernelspec, isolated_env, stop_server, wait_until_up,
                       write_lab_settings, SERVER_START_TIMEOUT_S, VIEWPORT)
from .labpage import LabPage

ROUNDTRIP = "04-the-language.ipynb"
#: Seconds between JupyterLab's autosaves in this test (its default, 120, would make the test wait
#: two minutes); the test waits up to AUTOSAVE_WAIT_S for the autosaved edit to reach the disk.
AUTOSAVE_S = 2
AUTOSAVE_WAIT_S = 60
#: The notebook checks of `tasks.py test` on one notebook take about 30 s here; 15 minutes is a
#: last resort against a hang, far above any real run.
CHECKS_TIMEOUT_S = 900
#: What is not copied: the environment, the learner's working copy, and git-ignored build output.
NOT_COPIED = shutil.ignore_patterns(".venv", "my-notebooks", "artifacts", "_site", "node_modules", "build",
                                    "dist", "answer-key", "__pycache__", ".pytest_cache", ".ipynb_checkpoints",
                                    "*.egg-info")

_FIRST_CODE_CELL = """([path, marker]) => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path) return false;
  const cell = w.content.widgets.find(c => c.model.type === 'code');
  const src = cell.model.sharedModel.getSource();
  cell.model.sharedModel.setSource(src + '\\n# ' + marker);   // what a learner types at the end
  return true;
}"""
_SAVE = "() => window.jupyterapp.commands.execute('docmanager:save')"


def _tasks_module(repo: Path):
    """The copy's tasks.py, imported from the copy (its ROOT is the copy)."""
    spec = importlib.util.spec_from_file_location("tasks_of_the_copy", repo / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git_status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "notebooks/"], cwd=repo, capture_output=True,
                          text=True, timeout=60, check=True).stdout


def _wait_for_text(path: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if text in path.read_text(encoding="utf-8"):
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def _start_lab(tasks, repo: Path, base: Path) -> LabServer:
    """JupyterLab as `tasks.py lab` starts it, on the copy, plus what a test needs."""
    env = isolated_env(base / "jupyter")
    env["PYTHONPATH"] = str(repo)   # the kernel imports the copy's mspl_lite
    env["MSPL_LITE_PROGRESS"] = str(base / "progress.json")   # self-checks record here, not in the tester's data
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    write_lab_settings(settings)
    autosave = settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    autosave.parent.mkdir(parents=True, exist_ok=True)
    autosave.write_text(json.dumps({"autosave": True, "autosaveInterval": AUTOSAVE_S}))
    install_kernelspec(env)
    added = tasks.sync_working_copy(repo / tasks.ORIGINALS, repo / tasks.WORKING_COPY)
    assert any(p.name == ROUNDTRIP for p in added), "the working copy did not receive the notebook"
    subprocess.run([sys.executable, "-m", "jupyter", "trust", *map(str, added)], env=env, capture_output=True,
                   timeout=120, check=True)
    token, port = secrets.token_hex(24), free_port()
    extra = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", "--LabApp.extension_manager=readonly",
             "--LabApp.expose_app_in_browser=True"]
    cmd = tasks.lab_command(Path(sys.executable), f"{tasks.WORKING_COPY}/{ROUNDTRIP}", extra)
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=repo, process=proc, log=log, env=env)
    try:
        wait_until_up(server, time.monotonic() + SERVER_START_TIMEOUT_S)
    except BaseException:
        stop_server(server)
        raise
    return server


def test_open_run_edit_save_in_lab_then_the_notebook_checks_pass(browser, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    tasks = _tasks_module(repo)
    original = repo / "notebooks" / ROUNDTRIP
    originals_before = {p.name: p.read_bytes() for p in (repo / "notebooks").glob("*.ipynb")}
    status_before = _git_status(repo)
    working = repo / tasks.WORKING_COPY / ROUNDTRIP

    server = _start_lab(tasks, repo, tmp_path)
    try:
        context = browser.new_context(viewport=dict(VIEWPORT))
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            # tasks.py lab lands on its start page: the server's default URL is the working copy.
            page.goto(f"{server.url}/?token={server.token}")
            page.wait_for_function("(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                                   " return !!w && !!w.context && w.context.path === p; }",
                                   arg=f"{tasks.WORKING_COPY}/{ROUNDTRIP}", timeout=90_000)
            lab = LabPage(page, server, f"{tasks.WORKING_COPY}/{ROUNDTRIP}").open()
            lab.run_all()
            errors = [c.where() for c in lab.cells() if "raises-exception" not in c.tags
                      for o in c.outputs if o.type == "error"]
            assert not errors, f"cells raised in JupyterLab: {errors}"
            saved, autosaved = "my note, saved", "my note, autosaved"
            assert page.evaluate(_FIRST_CODE_CELL, [lab.path, saved])
            page.evaluate(_SAVE)
            assert _wait_for_text(working, saved, 30), "docmanager:save did not write the edit"
            assert page.evaluate(_FIRST_CODE_CELL, [lab.path, autosaved])
            assert _wait_for_text(working, autosaved, AUTOSAVE_WAIT_S), \
                f"autosave did not write the second edit within {AUTOSAVE_WAIT_S} s"
        finally:
            context.close()
    finally:
        stop_server(server)
    assert server.process.poll() is not None

    # What JupyterLab wrote is the learner's copy: outputs, the edits, this Python's version.
    saved_nb = json.loads(working.read_text(encoding="utf-8"))
    assert saved_nb["metadata"].get("language_info", {}).get("version"), "JupyterLab saved no Python version"
    assert working.read_bytes() != original.read_bytes()
    # ... and never the originals.
    assert {p.name: p.read_bytes() for p in (repo / "notebooks").glob("*.ipynb")} == originals_before
    assert _git_status(repo) == status_before

    env = dict(os.environ, PYTHONPATH=str(repo))
    env.pop("PYTEST_ADDOPTS", None)
    checks = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/test_notebooks_fresh.py", f"notebooks/{ROUNDTRIP}"],
                            cwd=repo, env=env, capture_output=True, text=True, timeout=CHECKS_TIMEOUT_S)
    assert checks.returncode == 0, ("the notebook checks of `tasks.py test` failed after a lab session:\n"
                                    + "\n".join((checks.stdout + checks.stderr).splitlines()[-40:]))
    assert "passed" in checks.stdout and " 0 passed" not in checks.stdout
    assert _git_status(repo) == status_before
