#!/usr/bin/env python3
"""One command to set up and open the series, one to set up and run every test.

    python3 tasks.py lab              # make .venv, install requirements.txt, open the series
    python3 tasks.py lab --reset 05   # put a fresh copy of notebook 05 in my-notebooks/, then open
    python3 tasks.py test             # make .venv, add requirements-test.txt, run every test
    python3 tasks.py lite [--serve]   # build the series as a JupyterLite site in _site/ (and serve it)

On Windows type `py tasks.py lab`. Works with nothing but Python 3.10+ on Linux, macOS and Windows:
everything else goes into the project's own virtual environment (.venv), so no sudo and no system
packages for the series. `lab` installs only what the series needs; `test` adds the test tools.
Extra arguments after `test` go to pytest (e.g. `python3 tasks.py test -k torture`), after `lab`
to JupyterLab (e.g. `--no-browser`).

`lab` opens my-notebooks/, your working copy of notebooks/: edit, run and save there as you like.
notebooks/ holds the tested originals and is never changed by JupyterLab, so neither your Python
version, an autosave nor your own edits can make the tests fail or a `git pull` conflict.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
ORIGINALS = "notebooks"
WORKING_COPY = "my-notebooks"
START = "00-start-here.ipynb"
#: What each command installs; the test file includes the series' one (`-r requirements.txt`).
REQUIREMENTS = {"lab": "requirements.txt", "test": "requirements-test.txt", "lite": "requirements-lite.txt"}
#: Seconds JupyterLab gets to shut its kernels down after Ctrl+C before it is killed.
STOP_TIMEOUT_S = 20
#: Settings the project owns, merged by JupyterLab with the learner's: no "Jupyter news" pop-up.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                                  "checkForUpdates": False}}


class SetupError(Exception):
    """Set-up cannot go on; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# The virtual environment


def venv_python(venv: Path = VENV) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def stamp_path(requirements: str, venv: Path = VENV) -> Path:
    """The file recording which requirements are installed, written only once pip succeeded."""
    return venv / f".{Path(requirements).stem}.sha256"


def requirements_files(requirements: str, root: Path = ROOT) -> list[Path]:
    """``requirements`` and every file it includes with ``-r``, in order."""
    files, todo = [], [root / requirements]
    while todo:
        path = todo.pop(0)
        if path in files or not path.exists():
            continue
        files.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
                todo.append(path.parent / parts[1])
    return files


def requirements_digest(requirements: str, root: Path = ROOT) -> str:
    h = hashlib.sha256()
    for path in [*requirements_files(requirements, root), root / "pyproject.toml"]:
        h.update(path.name.encode() + b"\0")
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


def venv_support_problem() -> str | None:
    """What to install when this Python cannot make a virtual environment with pip, else None."""
    try:
        import ensurepip  # noqa: F401  (Debian and Ubuntu ship it in python3.X-venv, not with python3)
        import venv  # noqa: F401
    except ImportError:
        return venv_install_advice()
    return None


def venv_install_advice() -> str:
    v = f"{sys.version_info.major}.{sys.version_info.minor}"
    return ("This Python cannot create a virtual environment: its `venv` or `ensurepip` module is "
            f"missing.\nOn Debian or Ubuntu, install it with:  sudo apt install python{v}-venv\n"
            f"(python{v}-venv is the package for this Python, {v}; python3-venv installs the one for "
            "the system's default python3). Elsewhere, install Python from python.org. "
            "Then run the same command again.")


def venv_problem(venv: Path = VENV) -> str | None:
    """Why an existing ``venv`` is half-made and must be rebuilt, or None when it is usable.

    An interrupted `python3 -m venv` leaves a folder without a Python or without pip; a Python
    upgrade or a copied project leaves a Python that no longer starts. An interrupted pip install
    is not a reason to rebuild: its stamp is missing, so the install simply runs again.
    """
    if not venv.exists():
        return None
    if not (venv / "pyvenv.cfg").exists():
        return "it has no pyvenv.cfg"
    py = venv_python(venv)
    if not py.exists():
        return f"it has no {py.relative_to(venv).as_posix()}"
    try:
        probe = subprocess.run([str(py), "-c", "import sys; assert sys.version_info >= (3, 10); import pip"],
                               capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"its Python does not start ({err.__class__.__name__})"
    if probe.returncode:
        if b"pip" in probe.stderr:
            return "it has no pip"
        return "its Python does not start or is older than 3.10"
    return None


def create_venv(venv: Path = VENV) -> None:
    """Make ``venv`` with pip; on failure remove what was made and say what to install."""
    problem = venv_support_problem()
    if problem:
        raise SetupError(problem)
    import venv as venv_module

    print(f"Creating the virtual environment in {venv} ...", flush=True)
    try:
        venv_module.EnvBuilder(with_pip=True).create(venv)
    except (subprocess.CalledProcessError, OSError) as err:
        shutil.rmtree(venv, ignore_errors=True)
        # Debian without python3.X-venv: ensurepip exists in name only and fails here.
        raise SetupError(f"Creating {venv.name} failed ({err}).\n{venv_install_advice()}") from None
    if venv_problem(venv):
        shutil.rmtree(venv, ignore_errors=True)
        raise SetupError(venv_install_advice())


def ensure_venv(venv: Path = VENV) -> Path:
    """A usable ``venv`` (rebuilt when half-made); returns its Python."""
    problem = venv_problem(venv)
    if problem:
        print(f"{venv.name} is half-made ({problem}): rebuilding it ...", flush=True)
        shutil.rmtree(venv)
    if not venv.exists():
        create_venv(venv)
    return venv_python(venv)


def needs_install(command: str, root: Path = ROOT, venv: Path = VENV) -> bool:
    stamp = stamp_path(REQUIREMENTS[command], venv)
    return not stamp.exists() or stamp.read_text().strip() != requirements_digest(REQUIREMENTS[command], root)


def setup(command: str = "lab") -> Path:
    """Make .venv and install what ``command`` needs into it, unless already up to date."""
    if sys.version_info < (3, 10):
        sys.exit(f"mspl-lite needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    try:
        py = ensure_venv(VENV)
    except SetupError as err:
        sys.exit(str(err))
    if needs_install(command):
        requirements = REQUIREMENTS[command]
        print(f"Installing {requirements} into .venv (the first time takes a few minutes) ...", flush=True)
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", "pip"])
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", requirements])
        # Written last: an interrupted install has no stamp, so the next run installs again.
        for name, included in REQUIREMENTS.items():
            if ROOT / included in requirements_files(requirements):
                stamp_path(included).write_text(requirements_digest(included))
    return py


def run(cmd, **kw) -> int:
    rc = subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)
    if rc:
        sys.exit(rc)
    return rc


# ---------------------------------------------------------------------------------------------
# The working copy


def sync_working_copy(originals: Path, copy: Path) -> list[Path]:
    """Copy into ``copy`` every notebook of ``originals`` it lacks; never overwrite one.

    A notebook added upstream (by a `git pull`) arrives on the next run; a learner's copy, edited
    or not, stays as it is. Returns the notebooks copied.
    """
    copy.mkdir(exist_ok=True)
    added = []
    for src in sorted(originals.glob("*.ipynb")):
        dest = copy / src.name
        if not dest.exists():
            shutil.copy2(src, dest)
            added.append(dest)
    return added


def reset_notebooks(originals: Path, copy: Path, names: list[str]) -> list[Path]:
    """Replace the learner's copies of ``names`` ("05", "05-routing..." or a file name) with
    fresh ones; the old copy is kept in ``copy``/.before-reset/. Returns the fresh copies."""
    fresh = []
    for name in names:
        matches = sorted(originals.glob(f"{name}*.ipynb")) if name else []
        if len(matches) != 1:
            known = ", ".join(p.name[:2] for p in sorted(originals.glob("*.ipynb")))
            what = "no notebook" if not matches else "more than one notebook"
            raise SetupError(f"--reset {name}: {what} in {originals.name}/ starts with {name!r} "
                             f"(give its number: {known})")
        src = matches[0]
        dest = copy / src.name
        if dest.exists():
            backup = copy / ".before-reset"
            backup.mkdir(parents=True, exist_ok=True)
            shutil.move(str(dest), str(backup / src.name))
        copy.mkdir(exist_ok=True)
        shutil.copy2(src, dest)
        fresh.append(dest)
    return fresh


def write_lab_overrides(prefix: Path) -> Path:
    """Write the project's JupyterLab settings into the environment at ``prefix``.

    overrides.d/ is where packages put their defaults (JupyterLab merges every file there); the
    learner's own settings still win over these.
    """
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "mspl-lite.json"
    text = json.dumps(LAB_OVERRIDES, indent=2) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def lab_command(py: Path, start: str, extra: list[str]) -> list[str]:
    """The JupyterLab command line, opening ``start`` (a path below the server's root)."""
    cmd = [str(py), "-m", "jupyterlab",
           # LabApp's own default_url wins over ServerApp.default_url, so it must be this one.
           f"--LabApp.default_url=/lab/tree/{start}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # containers and workshop VMs often run as root; Jupyter refuses otherwise
    return cmd + extra


def serve(cmd: list[str], cwd: Path) -> int:
    """Run JupyterLab until it ends or Ctrl+C; one Ctrl+C stops it cleanly, without a traceback.

    Jupyter's own Ctrl+C handler asks "Shut down this Jupyter server (y/[n])?" and a second one
    kills it without removing its runtime files. So on POSIX it runs in its own session, out of
    the terminal's reach, and gets SIGTERM (its clean shutdown) when we get Ctrl+C, a hang-up or
    SIGTERM. On Windows it shares the console and stops on the same Ctrl+C; we just wait.
    """
    posix = os.name != "nt"
    proc = subprocess.Popen(cmd, cwd=cwd, start_new_session=posix)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl+C means stop, even where a shell started us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if posix:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        pass
    print("\nStopping JupyterLab ...", flush=True)
    if posix:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass  # it hangs, or a second Ctrl+C: do not wait any longer
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    print(f"JupyterLab stopped. Your notebooks stay in {WORKING_COPY}/; "
          "`python3 tasks.py lab` opens them again.", flush=True)
    return 0


def lab(args: list[str], root: Path = ROOT) -> None:
    parser = argparse.ArgumentParser(prog="tasks.py lab", add_help=False)
    parser.add_argument("--reset", nargs="+", default=[], metavar="NN")
    opts, extra = parser.parse_known_args(args)
    py = setup("lab")
    write_lab_overrides(VENV)
    originals, copy = root / ORIGINALS, root / WORKING_COPY
    try:
        fresh = reset_notebooks(originals, copy, opts.reset)
    except SetupError as err:
        sys.exit(str(err))
    added = sync_working_copy(originals, copy)
    for path in fresh:
        print(f"Fresh copy: {path.relative_to(root).as_posix()} (your old one is in "
              f"{WORKING_COPY}/.before-reset/)", flush=True)
    if added:
        print(f"Copied {len(added)} notebook(s) into {WORKING_COPY}/, your working copy.", flush=True)
    new = [*added, *fresh]
    if new:
        # A copy made by a script is untrusted; trusting the pristine copies shows their stored
        # diagrams before the learner runs anything. Edited copies are trusted as JupyterLab saves them.
        run([py, "-m", "jupyter", "trust", *new], stdout=subprocess.DEVNULL)
    sys.exit(serve(lab_command(py, f"{WORKING_COPY}/{START}", extra), root))


def test(args: list[str]) -> None:
    py = setup("test")
    run([py, "-m", "pytest", *args])


# ---------------------------------------------------------------------------------------------
# The JupyterLite site: the series in a browser tab, nothing to install (lite/build.py builds it)

LITE = ROOT / "lite"
SITE = ROOT / "_site"
#: What the site's static server says each file is; a browser refuses a module worker (.mjs/.js)
#: or streaming WebAssembly compilation (.wasm) served with another type.
SITE_TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
              ".json": "application/json", ".ipynb": "application/json", ".whl": "application/octet-stream",
              ".zip": "application/zip", ".svg": "image/svg+xml", ".map": "application/json"}


def npm_install(lite_dir: Path = LITE) -> None:
    """`npm ci` in lite/ (the pinned Pyodide and WebAssembly Graphviz), unless already done for
    this package-lock.json."""
    lock = lite_dir / "package-lock.json"
    stamp = lite_dir / "node_modules" / ".mspl-lite-lock.sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("Building the site needs Node.js's npm (it fetches Pyodide and the WebAssembly "
                         "Graphviz): install Node.js 18 or newer (Debian/Ubuntu: sudo apt install nodejs npm), "
                         "then run the same command again.")
    print("Installing lite/package-lock.json (Pyodide, the WebAssembly Graphviz) with npm ci ...", flush=True)
    rc = subprocess.call([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=lite_dir)
    if rc:
        raise SetupError(f"npm ci in {lite_dir} failed (exit {rc})")
    stamp.write_text(digest)


def site_server(folder: Path, port: int = 0):
    """An HTTP server for the static site in ``folder`` on 127.0.0.1 (port 0: a free one)."""
    import functools
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **SITE_TYPES}

        def log_message(self, format, *args):  # one line per request would drown the URL
            pass

        def end_headers(self):
            # A rebuilt site must not meet a stale copy in the browser's cache.
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

    http.server.ThreadingHTTPServer.daemon_threads = True
    return http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                           functools.partial(Handler, directory=str(folder)))


def serve_site(folder: Path, port: int = 0) -> int:
    """Serve the site until Ctrl+C (or SIGTERM); print its address; stop cleanly."""
    try:
        server = site_server(folder, port)
    except OSError as err:
        raise SetupError(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}") from None

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.name != "nt":
        signal.signal(signal.SIGTERM, stop)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"The course is at {url}  (open it in a browser; Ctrl+C stops the server)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("\nServer stopped. The site stays in "
          f"{folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}/.", flush=True)
    return 0


def lite(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tasks.py lite",
                                     description="Build the series as a JupyterLite site (and serve it).")
    parser.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 after building it")
    parser.add_argument("--port", type=int, default=0, help="the port for --serve (default: a free one)")
    parser.add_argument("--out", type=Path, default=SITE, help="where the site goes (default: _site/)")
    parser.add_argument("--no-build", action="store_true", help="serve the site already in --out")
    opts = parser.parse_args(args)
    out = opts.out.resolve()
    try:
        if not opts.no_build:
            py = setup("lite")
            npm_install()
            run([py, LITE / "build.py", "--out", out])
        elif not (out / "jupyter-lite.json").is_file():
            raise SetupError(f"{out} holds no site: run `python3 tasks.py lite` first")
        if opts.serve:
            sys.exit(serve_site(out, opts.port))
    except SetupError as err:
        sys.exit(str(err))


def main(argv: list[str]) -> None:
    commands = {"lab": lab, "test": test, "lite": lite,
                "setup": lambda a: setup(a[0] if a and a[0] in REQUIREMENTS else "test")}
    if not argv or argv[0] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
