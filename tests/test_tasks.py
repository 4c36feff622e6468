"""tasks.py, the two commands a learner types: the working copy, the set-up's repair of a
half-made .venv, and `lab` landing on notebook 00 and stopping cleanly on one Ctrl+C."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402


def _notebook(text: str) -> str:
    return json.dumps({"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": text}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def series(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    for name in ("00-start-here.ipynb", "05-routing-with-proxyrequest.ipynb"):
        (tmp_path / "notebooks" / name).write_text(_notebook(name))
    return tmp_path


# --- the working copy ----------------------------------------------------------------------------

def test_working_copy_gets_new_notebooks_and_never_overwrites_an_edited_one(series: Path):
    originals, copy = series / "notebooks", series / "my-notebooks"
    assert len(tasks.sync_working_copy(originals, copy)) == 2
    (copy / "00-start-here.ipynb").write_text("my edits")
    (originals / "11-new-upstream.ipynb").write_text(_notebook("new"))       # a git pull
    assert tasks.sync_working_copy(originals, copy) == [copy / "11-new-upstream.ipynb"]
    assert (copy / "00-start-here.ipynb").read_text() == "my edits"


def test_reset_gives_a_fresh_copy_and_keeps_the_old_one(series: Path):
    originals, copy = series / "notebooks", series / "my-notebooks"
    tasks.sync_working_copy(originals, copy)
    (copy / "05-routing-with-proxyrequest.ipynb").write_text("my edits")
    assert tasks.reset_notebooks(originals, copy, ["05"]) == [copy / "05-routing-with-proxyrequest.ipynb"]
    assert (copy / "05-routing-with-proxyrequest.ipynb").read_text() == \
        (originals / "05-routing-with-proxyrequest.ipynb").read_text()
    assert (copy / ".before-reset" / "05-routing-with-proxyrequest.ipynb").read_text() == "my edits"
    with pytest.raises(tasks.SetupError, match=r"--reset 42: no notebook .* \(give its number: 00, 05\)"):
        tasks.reset_notebooks(originals, copy, ["42"])


def test_overrides_turn_the_news_off_without_touching_the_learners_settings(tmp_path: Path):
    path = tasks.write_lab_overrides(tmp_path)
    assert path == tmp_path / "share/jupyter/lab/settings/overrides.d/mspl-lite.json"
    assert json.loads(path.read_text())["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_lab_opens_notebook_00_through_labapp_default_url():
    cmd = tasks.lab_command(Path("py"), "my-notebooks/00-start-here.ipynb", ["--no-browser"])
    assert "--LabApp.default_url=/lab/tree/my-notebooks/00-start-here.ipynb" in cmd
    assert cmd[-1] == "--no-browser"


# --- the virtual environment ---------------------------------------------------------------------

def test_a_missing_or_healthy_venv_needs_no_rebuild(tmp_path: Path):
    assert tasks.venv_problem(tmp_path / "none") is None
    assert tasks.venv_problem(Path(sys.prefix)) is None                 # the one running this test


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout")
def test_a_half_made_venv_is_detected(tmp_path: Path):
    venv = tmp_path / ".venv"
    venv.mkdir()
    assert tasks.venv_problem(venv) == "it has no pyvenv.cfg"
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert tasks.venv_problem(venv) == "it has no bin/python"
    (venv / "bin").mkdir()
    # An interrupted ensurepip: a Python that starts but has no pip.
    fake = venv / "bin" / "python"
    fake.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'pip'\" >&2\nexit 1\n")
    fake.chmod(0o755)
    assert tasks.venv_problem(venv) == "it has no pip"
    fake.write_text("#!/bin/sh\nexit 1\n")                            # a Python that no longer starts
    assert tasks.venv_problem(venv) == "its Python does not start or is older than 3.10"


def test_an_interrupted_install_leaves_no_stamp_so_it_installs_again(tmp_path: Path, monkeypatch):
    root = tmp_path
    (root / "pyproject.toml").write_text("[project]\n")
    (root / "requirements.txt").write_text("-e .\n")
    (root / "requirements-test.txt").write_text("-r requirements.txt\npytest\n")
    venv = root / ".venv"
    venv.mkdir()
    assert tasks.needs_install("lab", root, venv) and tasks.needs_install("test", root, venv)
    assert tasks.requirements_files("requirements-test.txt", root) == [
        root / "requirements-test.txt", root / "requirements.txt"]
    tasks.stamp_path("requirements.txt", venv).write_text(tasks.requirements_digest("requirements.txt", root))
    assert not tasks.needs_install("lab", root, venv) and tasks.needs_install("test", root, venv)
    (root / "requirements.txt").write_text("-e .\nipywidgets\n")       # the series' pins change
    assert tasks.needs_install("lab", root, venv)


def test_missing_venv_support_says_which_package_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ensurepip", None)                 # Debian without python3.X-venv
    problem = tasks.venv_support_problem()
    v = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert problem and f"sudo apt install python{v}-venv" in problem


# --- the server: lands on 00, stops on one Ctrl+C -----------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(os.name == "nt", reason="Ctrl+C is a SIGINT to the terminal's process group on POSIX")
def test_lab_lands_on_notebook_00_and_one_ctrl_c_stops_it_cleanly(series: Path, tmp_path: Path):
    pytest.importorskip("jupyterlab")
    (series / "my-notebooks").mkdir()
    shutil.copy(series / "notebooks" / "00-start-here.ipynb", series / "my-notebooks")
    state = tmp_path / "state"
    env = dict(os.environ, **{k: str(state / k.lower()) for k in (
        "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
        "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")})
    port, token = _free_port(), secrets.token_hex(16)
    cmd = tasks.lab_command(Path(sys.executable), "my-notebooks/00-start-here.ipynb", [
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"])
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import tasks; sys.exit(tasks.serve({cmd!r}, {str(series)!r}))"
    # Its own process group, so that the SIGINT below reaches it as a terminal's Ctrl+C would.
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPRedirectHandler())
        deadline, final = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with opener.open(f"http://127.0.0.1:{port}/?token={token}", timeout=5) as resp:
                    final = resp.geturl()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert final is not None, "JupyterLab did not answer"
        assert final.split("?")[0] == f"http://127.0.0.1:{port}/lab/tree/my-notebooks/00-start-here.ipynb"
        runtime = state / "jupyter_runtime_dir"
        assert list(runtime.glob("jpserver-*")), "the server writes its runtime files"
        os.killpg(proc.pid, signal.SIGINT)                              # one Ctrl+C
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "Traceback" not in out and "KeyboardInterrupt" not in out and "(y/[n])" not in out
        assert out.rstrip().splitlines()[-1].startswith("JupyterLab stopped.")
        assert not list(runtime.glob("jpserver-*")), "runtime files left behind"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the JupyterLite site (tasks.py lite, lite/build.py) ------------------------------------------

import hashlib  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402

sys.path.insert(0, str(ROOT / "lite"))
import build as lite_build  # noqa: E402  (lite/build.py)

VIZ = ROOT / "lite" / "node_modules" / "@viz-js" / "viz" / "dist" / "viz-global.js"


def _tiny_wheel(dest: Path, name: str, version: str, requires: list[str] = ()) -> Path:
    return lite_build._wheel(dest, name, version, {f"{name}/__init__.py": b""}, "test", "MIT", tuple(requires))


def test_the_lock_lists_exactly_the_shipped_wheels_with_their_own_hashes(tmp_path: Path):
    a = _tiny_wheel(tmp_path, "alpha", "1.0", ['beta>=2', 'graphviz-pure; sys_platform != "emscripten"',
                                              'colorama; sys_platform == "win32"'])
    b = _tiny_wheel(tmp_path, "beta", "2.1")
    lock = lite_build.make_lock({"info": {"python": "3.14.2"}, "packages": {"numpy": {}}}, [a, b])
    assert sorted(lock["packages"]) == ["alpha", "beta"]          # nothing the site does not ship
    alpha = lock["packages"]["alpha"]
    assert alpha["depends"] == ["beta"]                           # markers read for Pyodide's Python
    assert alpha["sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()
    assert alpha["file_name"] == a.name and alpha["imports"] == ["alpha"]


def test_a_wheel_whose_requirement_is_not_shipped_stops_the_build(tmp_path: Path):
    a = _tiny_wheel(tmp_path, "alpha", "1.0", ["beta>=3", "gamma"])
    b = _tiny_wheel(tmp_path, "beta", "2.1")
    with pytest.raises(lite_build.BuildError) as err:
        lite_build.make_lock({"info": {}, "packages": {}}, [a, b])
    assert "alpha requires beta>=3, the site ships 2.1" in str(err.value)
    assert "alpha requires gamma, which the site does not ship" in str(err.value)


def test_browser_pins_must_match_pyodides_lock(monkeypatch):
    monkeypatch.setattr(lite_build, "pinned_wheels", lambda: {"micropip": "0.1", "ipywidgets": "0.0.1",
                                                              "jupyterlab-widgets": "0.0.1"})
    with pytest.raises(lite_build.BuildError) as err:
        lite_build.check_kernel_pins({"info": {"python": "3.14.2"}, "packages": {"micropip": {"version": "0.11.1"}}})
    assert "micropip==0.1" in str(err.value) and "lists 0.11.1" in str(err.value)
    assert "ipywidgets==0.0.1 in the site" in str(err.value)


@pytest.fixture
def viz_file() -> Path:
    """The npm Viz.js the site is built from: `npm ci` in lite/ first, as `tasks.py lite` does (it is
    stamped, so a second call installs nothing). Without npm it skips, except under CI (CI=true),
    where a skip would hide that the site's graphviz was never checked."""
    if not VIZ.is_file():
        if shutil.which("npm") is None:
            if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
                pytest.fail("CI=true but npm is missing: .ci/run installs Debian's nodejs and npm", pytrace=False)
            pytest.skip("no npm to install lite/node_modules (Node.js's npm builds the JupyterLite site)")
        tasks.npm_install()
    return VIZ


def test_viz_rewritten_to_start_synchronously_draws_svg(tmp_path: Path, viz_file: Path):
    out = lite_build.synchronous_viz(viz_file.read_text(encoding="utf-8"))
    glue = out.replace(out[out.find("('\\0asm"):out.find("')}function s(")], "")
    assert "await" not in glue.split("\\0asm")[0] and "new WebAssembly.Instance" in out
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run it")
    script = tmp_path / "run.js"
    (tmp_path / "viz.js").write_text(out, encoding="utf-8")
    script.write_text("globalThis.location={href:'http://127.0.0.1/x.js'};"
                      "(0,eval)(require('fs').readFileSync(__dirname+'/viz.js','utf8').replace('\"object\"==typeof exports','false'));"
                      "const v=globalThis.MsplLiteViz.instance();"   # no Promise: an instance at once
                      "console.log(v.render('digraph { a -> b }',{format:'svg'}).output)")
    done = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert "<svg" in done.stdout and "a&#45;&gt;b" in done.stdout


def test_a_changed_viz_file_stops_the_build():
    with pytest.raises(lite_build.BuildError, match="embedded WebAssembly module was not found"):
        lite_build.synchronous_viz("export default function Viz() {}")


def test_start_page_says_where_work_is_kept_and_why_13_is_left_out(tmp_path: Path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("00-start-here.ipynb", "13-real-sip.ipynb", "14-replay.ipynb"):
        (notebooks / name).write_text(_notebook(f"# {name[:2]} · Title {name[:2]}\n"))
    kept = lite_build.site_notebooks(notebooks)
    assert [p.name for p in kept] == ["00-start-here.ipynb", "14-replay.ipynb"]
    page = lite_build.start_page(kept, sorted(notebooks.glob("*.ipynb")))
    assert 'href="lab/index.html?path=14-replay.ipynb">14 · Title 14<' in page
    assert "13 · Title 13" in page and "cannot open sockets" in page
    assert "Your work stays in this browser" in page and 'id="jupyter-config-data"' in page
    staged = lite_build.stage_files(tmp_path / "files", notebooks)
    assert sorted(p.name for p in staged) == ["00-start-here.ipynb", "14-replay.ipynb"]


def test_site_server_gives_the_types_a_browser_needs(tmp_path: Path):
    (tmp_path / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "b.mjs").write_text("export {}")
    server = tasks.site_server(tmp_path, 0)
    assert server.server_address[0] == "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        for name, kind in (("a.wasm", "application/wasm"), ("b.mjs", "text/javascript")):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}", timeout=10) as resp:
                assert resp.headers["Content-Type"] == kind and resp.headers["Cache-Control"] == "no-cache"
    finally:
        server.shutdown()
        server.server_close()


def test_lite_serve_prints_the_address_and_one_ctrl_c_stops_it(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "jupyter-lite.json").write_text("{}")
    (site / "index.html").write_text("<p>the course</p>")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tasks.py"), "lite", "--serve", "--no-build", "--out",
                             str(site)], start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", first).group(0)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert b"the course" in resp.read()
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in out and "Server stopped." in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_lite_no_build_without_a_site_says_what_to_run(tmp_path: Path):
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "lite", "--no-build", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "run `python3 tasks.py lite` first" in done.stderr


def test_building_the_site_without_npm_says_what_to_install(tmp_path: Path, monkeypatch):
    (tmp_path / "package-lock.json").write_text("{}")
    monkeypatch.setattr(tasks.shutil, "which", lambda name: None)
    with pytest.raises(tasks.SetupError, match="sudo apt install nodejs npm"):
        tasks.npm_install(tmp_path)
