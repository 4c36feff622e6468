"""Browser tests: the series in a real JupyterLab, driven by Playwright in Debian's Chromium.

Theory of operation. One JupyterLab server and one Chromium serve the whole session (starting
them costs seconds; a test costs a page). The server runs on a COPY of notebooks/ in a temporary
folder, so running cells never touches the committed notebooks, with its own runtime, config,
data, settings and workspaces folders there too (what a learner has configured never leaks in,
and nothing we do leaks out). Its kernel is this Python: a kernelspec pointing at sys.executable
is installed into the isolated data folder. It listens on 127.0.0.1 at a free port with a random
token, and is stopped by its PID at the end of the session, whether the tests passed or not.

Chromium is Debian's (/usr/bin/chromium), never a browser downloaded by Playwright (there is no
internet here; `playwright install` must never run). Without it, or without the playwright
package, the tests skip and say how to enable them; under CI (CI=true) they fail instead.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "artifacts" / "browser"

#: Debian's Chromium (apt-get install chromium); MSPL_LITE_CHROMIUM names another build.
CHROMIUM = os.environ.get("MSPL_LITE_CHROMIUM", "/usr/bin/chromium")
#: Flags measured on this kind of machine: as root Chromium needs
#: --no-sandbox; without the background-networking flags it keeps dialling Google's hosts,
#: which the closed network refuses many times a second.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 900}

SERVER_START_TIMEOUT_S = 90
SERVER_STOP_TIMEOUT_S = 15


def under_ci() -> bool:
    """True when the environment says CI (CI=true, as .ci/run is started): never skip there."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_requirements() -> list[str]:
    """What is missing to run the browser tests, each with the command that installs it."""
    missing = []
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium is not installed at {CHROMIUM}: install Debian's with "
                       "`apt-get install chromium` (as root; never `playwright install`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is missing from this Python: "
                       "`pip install -r requirements-test.txt` (it pins playwright)")
    return missing


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, except under CI, where a browser test that cannot run is a failure."""
    if under_ci():
        pytest.fail(f"CI=true, so the browser tests must run, but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Skip (or, under CI, fail) every browser test when Chromium or Playwright is missing."""
    missing = missing_requirements()
    if missing:
        skip_or_fail("; ".join(missing))


# ---------------------------------------------------------------------------------------------
# The JupyterLab server


@dataclass
class LabServer:
    """A running JupyterLab: where it listens, its token, its PID, and the folder it serves."""

    url: str                  # http://127.0.0.1:PORT
    token: str
    root: Path                # --ServerApp.root_dir: holds notebooks/ (the copy) and scratch/
    process: subprocess.Popen
    log: Path
    env: dict = field(repr=False, default_factory=dict)

    def lab_url(self, relpath: str, workspace: str) -> str:
        """The address that opens ``relpath`` in a fresh workspace (?reset: no restored layout)."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{relpath}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        """Call the server's REST API; JSON answer (None when empty)."""
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(base: Path) -> dict:
    """The environment for the server: every Jupyter state folder inside ``base``."""
    env = dict(os.environ)
    folders = {
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTERLAB_SETTINGS_DIR": base / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
    }
    for name, path in folders.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # Only the isolated folders and this Python's own share/jupyter: no kernelspecs, extensions,
    # config or IPython start-up files of whoever runs the tests.
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env["IPYTHONDIR"] = str(base / "ipython")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_lab_settings(settings: Path) -> None:
    """Settings a test run needs: no news toast over the lower right, no update check."""
    # Measured here: the "Jupyter news" toast covers the lower right of every screenshot.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Attach every cell to the page (the default, contentVisibility, skips drawing cells out of
    # view): what the tests read from the DOM is then what a learner sees after scrolling.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))


def install_kernelspec(env: dict) -> None:
    """Make this Python's ipykernel the 'python3' kernel in the isolated data folder.

    `ipykernel install --user` writes argv[0] = sys.executable (an absolute path), so the
    notebooks run with exactly the packages the tests run with, whatever else is installed.
    """
    done = subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user", "--name", "python3",
                           "--display-name", "Python 3 (ipykernel)"],
                          env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"could not install the test kernelspec:\n{done.stdout}{done.stderr}")


def copy_series(dest: Path) -> Path:
    """Copy notebooks/ (all of it: notebooks read files beside them) to ``dest``; return the copy."""
    target = dest / "notebooks"
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    else:
        target.mkdir(parents=True)
    return target


def trust_series(notebooks: Path, env: dict) -> None:
    """Trust the copied notebooks as `python3 tasks.py lab` does, so stored diagrams show on opening."""
    paths = sorted(str(p) for p in notebooks.glob("*.ipynb"))
    if not paths:
        return
    done = subprocess.run([sys.executable, "-m", "jupyter", "trust", *paths], env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"`jupyter trust` failed on the copied notebooks:\n{done.stdout}{done.stderr}")


def wait_until_up(server: LabServer, deadline: float) -> None:
    """Poll /api/status until the server answers, it dies, or the deadline passes."""
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {server.process.returncode} before answering:\n"
                               + server.log_tail())
        try:
            server.api("/api/status")
            # /lab answers only once the lab extension is loaded.
            with urllib.request.urlopen(f"{server.url}/lab?token={server.token}", timeout=10) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n" + server.log_tail())
        time.sleep(0.2)


def stop_server(server: LabServer) -> None:
    """Shut its kernels down through the API, then stop the server by its PID: terminate, wait, kill."""
    proc = server.process
    if proc.poll() is None:
        try:  # kernels are the server's children: ask it to end them, so none outlives the tests
            for kernel in server.api("/api/kernels") or []:
                server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass
        proc.terminate()
        try:
            proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=SERVER_STOP_TIMEOUT_S)


def start_server(base: Path) -> LabServer:
    """Start JupyterLab on 127.0.0.1 serving ``base`` (notebooks/ copied there) and wait for it."""
    env = isolated_env(base / "jupyter")
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    install_kernelspec(env)
    root = base / "root"
    root.mkdir()
    trust_series(copy_series(root), env)
    (root / "scratch").mkdir()
    token = secrets.token_hex(24)
    last_error: Exception | None = None
    for attempt in range(3):  # a free port can be taken between our probe and the server's bind
        port = free_port()
        log = base / f"jupyterlab-{attempt}.log"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.extension_manager=readonly",
               # window.jupyterapp: the tests run cells through the app's own commands.
               "--LabApp.expose_app_in_browser=True"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # as root JupyterLab otherwise exits at once (CI runs as root)
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, process=proc, log=log, env=env)
        try:
            wait_until_up(server, time.monotonic() + SERVER_START_TIMEOUT_S)
            return server
        except RuntimeError as err:
            stop_server(server)
            last_error = err
            if "address already in use" not in server.log_tail().lower():
                break
    raise RuntimeError(f"could not start JupyterLab: {last_error}")


@pytest.fixture(scope="session")
def lab_server(browser_requirements, tmp_path_factory) -> LabServer:
    """One JupyterLab for the session, on a copy of notebooks/; stopped by PID even when tests fail."""
    server = start_server(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server
    finally:
        stop_server(server)


# ---------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def browser(browser_requirements):
    """One headless Debian Chromium for the session, driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab_server):
    """A fresh browser context and page for one test (cookies and storage do not carry over)."""
    context = browser.new_context(viewport=dict(VIEWPORT))
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
        # One kernel per notebook opened: end this test's kernels so they do not pile up.
        try:
            for session in lab_server.api("/api/sessions") or []:
                lab_server.api(f"/api/sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/browser/: screenshots a person looks at (git-ignored), emptied of an earlier run's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # a renamed notebook must not leave a stale picture behind
        old.unlink()
    return ARTIFACTS
