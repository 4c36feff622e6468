"""Build the JupyterLite site of the series: `python3 tasks.py lite` runs this with .venv's Python.

    .venv/bin/python lite/build.py [--out _site]

Theory of operation. JupyterLite's builder (jupyterlite-core, with jupyterlite-pyodide-kernel)
turns a "lite dir" into a static site; this module makes that lite dir in build/lite/src and runs
the builder on it. Everything the site needs at run time is inside the site (decision D113):

* static/pyodide/: the Pyodide core from the npm package `pyodide` (the version the kernel
  expects, checked), every wheel the kernel loads, and a pyodide-lock.json that lists exactly
  those wheels with their own sha256 (Pyodide checks it on load). The kernel preloads them all
  when it starts (loadPyodideOptions.packages), so `import mspl_lite` just works, as in JupyterLab.
* The wheels: the pinned ones of lite/browser-wheels.txt from PyPI; mspl-lite built from this tree;
  mspl-lite-graphviz-wasm, made here from the npm package @viz-js/viz (decision D114): its
  Emscripten glue instantiates WebAssembly asynchronously, while `Diagram.svg()` is synchronous,
  so the glue is rewritten to compile and instantiate synchronously (allowed in the kernel's web
  worker), with every rewrite counted so that a changed @viz-js/viz stops the build.
* files/: the notebooks, less the ones that need what a browser cannot give (LEFT_OUT).
* index.html: the start page (lite/start.html), which says where a learner's work is kept.

The build reaches only PyPI (pip) and what `npm ci` put in lite/node_modules.
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "lite"
NODE = LITE / "node_modules"
NOTEBOOKS = ROOT / "notebooks"
#: Build scratch (git-ignored build/): the lite dir, the wheel cache, JupyterLite's doit cache.
WORK = ROOT / "build" / "lite"
DEFAULT_OUT = ROOT / "_site"
WHEEL_PINS = LITE / "browser-wheels.txt"
START_PAGE = LITE / "start.html"

#: Notebooks the site leaves out (by number), and why: said on the start page.
LEFT_OUT = {"13": "it sends real SIP over sockets, and a page in a browser cannot open sockets"}
#: The Pyodide core files the site serves (the npm package also holds its Node.js and
#: classic-script entry points and source maps, which the kernel's module worker never loads).
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "package.json")
#: The kernel's plugin id in jupyter-lite.json.
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
#: The wheel that carries the WebAssembly Graphviz into the kernel (mspl_lite.view.wasm_graphviz).
GRAPHVIZ_DIST = "mspl_lite_graphviz_wasm"
#: What mspl_lite's Requires-Dist markers are evaluated against: Pyodide 314's Python.
PYODIDE_MARKERS = {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
                   "platform_machine": "wasm32", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython", "extra": ""}
#: JupyterLab settings the site ships (overrides.json): no news pop-up (it asks to fetch news
#: from the internet), and every cell drawn, so what a learner sees after scrolling is on the
#: page at once (the browser test reads it; the series' notebooks are short enough).
SITE_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


class BuildError(Exception):
    """The site cannot be built; the message says what to do."""


def canonical(name: str) -> str:
    """PEP 503 name: what Pyodide's lock and micropip compare."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_version(package: str) -> str:
    manifest = NODE / package / "package.json"
    if not manifest.is_file():
        raise BuildError(f"{manifest.relative_to(ROOT)} is missing: run `npm ci` in lite/ "
                         "(python3 tasks.py lite does it)")
    return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def check_pyodide_version() -> str:
    """The npm Pyodide must be the one jupyterlite-pyodide-kernel was made for."""
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    found = npm_version("pyodide")
    if found != PYODIDE_VERSION:
        raise BuildError(f"lite/package.json pins pyodide {found}, but jupyterlite-pyodide-kernel expects "
                         f"{PYODIDE_VERSION}: pin them together (requirements-lite.txt, lite/package.json)")
    return found


# ---------------------------------------------------------------------------------------------
# Wheels


def pinned_wheels() -> dict[str, str]:
    """lite/browser-wheels.txt as {canonical name: version}."""
    pins = {}
    for line in WHEEL_PINS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins


def download_wheels(dest: Path) -> list[Path]:
    """The pinned wheels from PyPI (pip's own cache makes a second build fast)."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = pinned_wheels()
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
           "--only-binary=:all:", "--python-version", "3.14", "--implementation", "py", "--abi", "none",
           "--platform", "any", "-d", str(dest), *[f"{n}=={v}" for n, v in pins.items()]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise BuildError("pip could not download the site's wheels (lite/browser-wheels.txt):\n"
                         + "\n".join(ln for ln in done.stderr.splitlines() if not ln.startswith("WARNING"))[-2000:])
    wheels = []
    for name, version in pins.items():
        found = [w for w in dest.glob("*.whl") if canonical(w.name.split("-")[0]) == name
                 and w.name.split("-")[1] == version]
        if not found:
            raise BuildError(f"no wheel of {name}=={version} after pip download")
        wheels.append(found[0])
    return wheels


def build_project_wheel(dest: Path) -> Path:
    """mspl-lite as a wheel, built from this tree."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
                           "-w", str(dest), str(ROOT)], capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise BuildError(f"building the mspl-lite wheel failed:\n{done.stderr[-2000:]}")
    # pip leaves build/lib and an egg-info behind in the tree; build/ is git-ignored.
    return next(dest.glob("mspl_lite-*.whl"))


#: The rewrites that make Viz.js synchronous: (what, found in 3.31.0's dist/viz-global.js, becomes).
#: Each must match exactly once, except the async/await keywords, counted separately.
_VIZ_REWRITES = (
    ("WebAssembly instantiation", "return await WebAssembly.instantiate(r,v)",
     "return{instance:new WebAssembly.Instance(new WebAssembly.Module(r),v)}"),
    ("the global it defines", ".Viz={})}", ".MsplLiteViz={})}"),
    ("instance()", "A.instance=function(){return r().then(A=>new a(A))}",
     "A.instance=function(){return new a(r())}"),
)
#: `async`/`await` left in the glue code (not inside the embedded WebAssembly) after those: all removed.
_VIZ_ASYNC, _VIZ_AWAIT = 11, 9


def synchronous_viz(text: str) -> str:
    """Viz.js's UMD build with its asynchronous start made synchronous (decision D114).

    The WebAssembly module is embedded in the file as one string literal; the glue code around
    it is changed, never the literal. Raises BuildError when the file is not the one expected.
    """
    start = text.find("('\\0asm")
    end = text.find("')}async function", start)
    if start < 0 or end < 0 or text.count("('\\0asm") != 1:
        raise BuildError("@viz-js/viz: the embedded WebAssembly module was not found; is lite/package.json's "
                         "version the one lite/build.py was written for?")
    head, literal, tail = text[:start], text[start:end], text[end:]
    glue = head + "\0" + tail
    for what, old, new in _VIZ_REWRITES:
        if glue.count(old) != 1:
            raise BuildError(f"@viz-js/viz: {what} ({old!r}) found {glue.count(old)} times, expected once")
        glue = glue.replace(old, new)
    counts = (len(re.findall(r"\basync\b", glue)), len(re.findall(r"\bawait\b", glue)))
    if counts != (_VIZ_ASYNC, _VIZ_AWAIT):
        raise BuildError(f"@viz-js/viz: {counts[0]} async and {counts[1]} await in its glue code, expected "
                         f"{_VIZ_ASYNC} and {_VIZ_AWAIT}")
    glue = re.sub(r"\b(?:async|await)\b ?", "", glue)
    head, tail = glue.split("\0")
    return head + literal + tail


def _wheel(dest: Path, dist: str, version: str, files: dict[str, bytes], summary: str, license_: str,
           requires: tuple[str, ...] = ()) -> Path:
    """Write a pure-Python wheel holding ``files`` (path in the wheel -> bytes)."""
    info = f"{dist}-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: {version}\n"
                                 f"Summary: {summary}\nLicense: {license_}\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: mspl-lite lite/build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = f"{dist}\n".encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))   # the same bytes every build
            zi.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(zi, data)
    return path


def build_graphviz_wheel(dest: Path) -> Path:
    """mspl-lite-graphviz-wasm: Viz.js (Graphviz compiled to WebAssembly), synchronous, as a wheel."""
    version = npm_version("@viz-js/viz")
    source = (NODE / "@viz-js" / "viz" / "dist" / "viz-global.js").read_text(encoding="utf-8")
    init = (f'"""Viz.js {version} (Graphviz compiled to WebAssembly, npm @viz-js/viz, MIT; Graphviz is EPL-1.0),\n'
            'rewritten by mspl-lite\'s lite/build.py to start synchronously. mspl_lite.view.wasm_graphviz\n'
            'runs it in the JupyterLite kernel\'s web worker."""\n'
            "from importlib.resources import files\n\n"
            f'VERSION = "{version}"\n\n\n'
            "def script() -> str:\n"
            '    """The JavaScript that defines globalThis.MsplLiteViz (instance() is synchronous)."""\n'
            '    return files(__name__).joinpath("viz-sync.js").read_text(encoding="utf-8")\n')
    dest.mkdir(parents=True, exist_ok=True)
    return _wheel(dest, GRAPHVIZ_DIST, version,
                  {f"{GRAPHVIZ_DIST}/__init__.py": init.encode(),
                   f"{GRAPHVIZ_DIST}/viz-sync.js": synchronous_viz(source).encode("utf-8")},
                  "Graphviz in WebAssembly (Viz.js), synchronous, for mspl-lite in JupyterLite", "MIT AND EPL-1.0")


#: The kernel's own wheels, shipped inside jupyterlite-pyodide-kernel: the kernel, its package
#: manager (piplite), ipykernel's stand-in, and an empty widgetsnbextension 4 (ipywidgets requires
#: the name; the page side is the jupyterlab_widgets labextension). In the lock they load with
#: the rest when the kernel starts, instead of one micropip install after another.
KERNEL_WHEELS = ("pyodide_kernel-*", "piplite-*", "ipykernel-*", "widgetsnbextension-4.*")


def kernel_wheels() -> list[Path]:
    pypi = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite" / "pyodide-kernel-extension" \
        / "static" / "pypi"
    wheels = []
    for pattern in KERNEL_WHEELS:
        found = sorted(pypi.glob(f"{pattern}-py3-none-any.whl"))
        if not found:
            raise BuildError(f"no {pattern} wheel in {pypi}: reinstall requirements-lite.txt")
        wheels.append(found[-1])
    return wheels


# ---------------------------------------------------------------------------------------------
# The lock


def wheel_facts(path: Path) -> dict:
    """Name, version, top-level imports and Requires-Dist (for Pyodide's Python) of a wheel."""
    from email.parser import Parser

    from packaging.markers import Marker
    from packaging.requirements import Requirement

    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        meta = Parser().parsestr(whl.read(meta_name).decode("utf-8"))
    imports = sorted({n.split("/")[0].removesuffix(".py") for n in names
                      if "/" in n and not n.split("/")[0].endswith((".dist-info", ".data"))
                      and (n.endswith("/__init__.py") and n.count("/") == 1 or n.count("/") == 0)}
                     | {n.removesuffix(".py") for n in names if "/" not in n and n.endswith(".py")})
    env = dict(PYODIDE_MARKERS, python_version="3.14", python_full_version="3.14.2")
    requires = []
    for text in meta.get_all("Requires-Dist") or []:
        req = Requirement(text)
        if req.marker is None or Marker(str(req.marker)).evaluate(env):
            requires.append(req)
    return {"name": canonical(meta["Name"]), "version": meta["Version"], "imports": imports, "requires": requires}


def make_lock(upstream: dict, wheels: list[Path]) -> dict:
    """Pyodide's lock with exactly ``wheels`` in it: no entry points at a file the site lacks.

    Raises BuildError when a wheel requires a package no wheel provides, or a version outside its
    range: the closure of what the kernel loads is checked here, not in the learner's browser.
    """
    facts = {}
    for path in wheels:
        f = wheel_facts(path)
        f["path"] = path
        facts[f["name"]] = f
    problems = []
    for f in facts.values():
        for req in f["requires"]:
            dep = facts.get(canonical(req.name))
            if dep is None:
                problems.append(f"{f['name']} requires {req}, which the site does not ship")
            elif not req.specifier.contains(dep["version"], prereleases=True):
                problems.append(f"{f['name']} requires {req}, the site ships {dep['version']}")
    if problems:
        raise BuildError("the site's wheels do not fit together (lite/browser-wheels.txt):\n  " + "\n  ".join(problems))
    packages = {}
    for name, f in sorted(facts.items()):
        packages[name] = {
            "depends": sorted(canonical(r.name) for r in f["requires"]),
            "file_name": f["path"].name, "imports": f["imports"], "install_dir": "site", "name": name,
            "package_type": "package", "sha256": sha256(f["path"]), "unvendored_tests": False,
            "version": f["version"]}
    return {"info": upstream["info"], "packages": packages}


def check_kernel_pins(upstream: dict) -> None:
    """The kernel's own packages must be the versions Pyodide's lock lists; ipywidgets and its front
    end the ones requirements.txt installs here (the labextension the site bundles)."""
    import importlib.metadata

    pins = pinned_wheels()
    locked = {canonical(k): v["version"] for k, v in upstream["packages"].items()}
    wrong = [f"{n}=={v} (Pyodide {upstream['info'].get('python', '')} lists {locked[n]})"
             for n, v in pins.items() if n in locked and locked[n] != v]
    for name in ("ipywidgets", "jupyterlab-widgets"):
        have = importlib.metadata.version(name)
        if pins.get(name) != have:
            wrong.append(f"{name}=={pins.get(name)} in the site, {have} in .venv (its labextension is the page side)")
    if wrong:
        raise BuildError("lite/browser-wheels.txt disagrees with:\n  " + "\n  ".join(wrong))


# ---------------------------------------------------------------------------------------------
# The site


def left_out(name: str) -> str | None:
    """Why notebook ``name`` is not in the site, or None."""
    return LEFT_OUT.get(name[:2])


def site_notebooks(notebooks: Path = NOTEBOOKS) -> list[Path]:
    return [p for p in sorted(notebooks.glob("*.ipynb")) if not left_out(p.name)]


def stage_files(dest: Path, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Copy the notebooks (and any file beside them) into ``dest``, less LEFT_OUT."""
    dest.mkdir(parents=True)
    copied = []
    for src in sorted(notebooks.iterdir()):
        if src.name.startswith(".") or src.name == "__pycache__" or left_out(src.name):
            continue
        target = dest / src.name
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, target)
        copied.append(target)
    return copied


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook (its name when it has none)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "markdown":
                source = "".join(cell.get("source", ""))
                m = re.search(r"^#\s+(.+)$", source, re.M)
                if m:
                    return m.group(1).strip()
    except (OSError, ValueError):
        pass
    return path.stem


def start_page(notebooks: list[Path], all_notebooks: list[Path]) -> str:
    """lite/start.html with the list of notebooks and of those left out filled in."""
    import html

    items = "\n".join(f'    <li><a href="lab/index.html?path={html.escape(p.name)}">{html.escape(notebook_title(p))}</a></li>'
                      for p in notebooks)
    missing = [p for p in all_notebooks if left_out(p.name)]
    if missing:
        gone = "\n".join(f"    <li><b>{html.escape(notebook_title(p))}</b> ({html.escape(p.name)}) is not here: "
                         f"{html.escape(left_out(p.name))}. Install the series (below) to run it.</li>"
                         for p in missing)
        gone = f"  <ul>\n{gone}\n  </ul>"
    else:
        gone = "  <p>Every notebook of the series is here.</p>"
    first = notebooks[0].name if notebooks else ""
    return (START_PAGE.read_text(encoding="utf-8").replace("{{NOTEBOOKS}}", items)
            .replace("{{LEFT_OUT}}", gone).replace("{{FIRST}}", html.escape(first)))


def site_config(packages: list[str]) -> dict:
    """jupyter-lite.json: the app's settings, the kernel's packages, no PyPI at run time."""
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "mspl-lite",
            # window.jupyterapp, as tasks.py's JupyterLab has for the browser tests.
            "exposeAppInBrowser": True,
            "litePluginSettings": {
                KERNEL_PLUGIN: {
                    # micropip must never reach PyPI: every package is in the site.
                    "disablePyPIFallback": True,
                    "loadPyodideOptions": {"packages": packages},
                },
            },
        },
    }


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(out: Path = DEFAULT_OUT, work: Path = WORK, log=print) -> dict:
    """Build the site into ``out``; return its sizes in bytes (total, pyodide, wheels)."""
    check_pyodide_version()
    upstream = json.loads((NODE / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    check_kernel_pins(upstream)
    src = work / "src"
    shutil.rmtree(src, ignore_errors=True)
    pyodide = src / "static" / "pyodide"
    pyodide.mkdir(parents=True)
    for name in PYODIDE_CORE:
        shutil.copy2(NODE / "pyodide" / name, pyodide / name)

    log("Wheels: the pinned ones from PyPI, mspl-lite from this tree, the WebAssembly Graphviz ...")
    wheels = [*download_wheels(work / "wheels"), build_project_wheel(work / "project-wheel"),
              build_graphviz_wheel(work / "graphviz-wheel"), *kernel_wheels()]
    for wheel in wheels:
        shutil.copy2(wheel, pyodide / wheel.name)
    lock = make_lock(upstream, [pyodide / w.name for w in wheels])
    (pyodide / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    notebooks = site_notebooks()
    stage_files(src / "files")
    (src / "jupyter-lite.json").write_text(json.dumps(site_config(sorted(lock["packages"])), indent=2) + "\n",
                                           encoding="utf-8")
    (src / "overrides.json").write_text(json.dumps(SITE_SETTINGS, indent=2) + "\n", encoding="utf-8")

    log(f"JupyterLite: building the site into {out} ...")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter-lite"), "build", "--lite-dir", str(src),
                           "--output-dir", str(out), "--contents", "files", "--apps", "lab", "--no-sourcemaps",
                           "--no-unused-shared-packages"],
                          cwd=src, env=env, capture_output=True, text=True, timeout=1200)
    if done.returncode:
        raise BuildError(f"jupyter lite build failed:\n{(done.stdout + done.stderr)[-3000:]}")
    (out / "index.html").write_text(start_page(notebooks, sorted(NOTEBOOKS.glob("*.ipynb"))), encoding="utf-8")
    check_site(out)
    sizes = {"total": folder_size(out), "pyodide": sum((out / "static" / "pyodide" / n).stat().st_size
                                                        for n in PYODIDE_CORE),
             "wheels": sum(p.stat().st_size for p in (out / "static" / "pyodide").glob("*.whl"))}
    return sizes


def check_site(out: Path) -> None:
    """The built site points only at itself: its kernel settings name no other host."""
    config = json.loads((out / "jupyter-lite.json").read_text(encoding="utf-8"))
    kernel = config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    url = kernel.get("pyodideUrl", "")
    if not url.startswith("./") or not (out / url).is_file():
        raise BuildError(f"the site's pyodideUrl is {url!r}, not the bundled Pyodide")
    for key in ("pipliteUrls",):
        for u in kernel.get(key, []):
            if re.match(r"^[a-z]+://", u):
                raise BuildError(f"the site's {key} names another host: {u}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lite/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the site goes (default _site/)")
    opts = parser.parse_args(argv)
    try:
        sizes = build(opts.out.resolve())
    except BuildError as err:
        print(f"lite: {err}", file=sys.stderr)
        return 1
    mb = {k: v / 1e6 for k, v in sizes.items()}
    print(f"Site built in {opts.out}: {mb['total']:.0f} MB (Pyodide {mb['pyodide']:.0f} MB, "
          f"wheels {mb['wheels']:.1f} MB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
