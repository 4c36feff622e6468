"""The JupyterLite site against JupyterLab, side by side in one run: size, kernel start, Run All.

    .venv/bin/python bench/bench_lite.py [--site _site] [--notebook 02] [--repeats 2]

Figures:
* the site's size on disk: all of it, the Pyodide core, the wheels the kernel loads;
* time to first usable kernel: from opening the notebook's address to the kernel reading Idle
  (the site: page, Pyodide, every wheel, IPython; JupyterLab: page, a new ipykernel process);
* Run All of one notebook, from the command to the last cell idle, widgets settled.

Both run in the same headless Chromium (Debian's), one after the other, with the browser's cache
warm for the site after the first repeat (as a learner's browser is after the first visit); each
figure is the best of --repeats, the first (cold) kernel start is printed too. The site is built
first unless --site names a built one. Servers bind 127.0.0.1 on free ports and are stopped at the end.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "lite"))

import build as lite_build  # noqa: E402  (lite/build.py)
import tasks  # noqa: E402
from tests.browser import conftest as browser  # noqa: E402
from tests.browser.labpage import LabPage  # noqa: E402


class _Site:
    def __init__(self, folder: Path):
        self.server = tasks.site_server(folder, 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def lab_url(self, relpath: str, workspace: str) -> str:
        return f"{self.url}/lab/index.html?path={relpath}"


def _measure(context, server, relpath: str) -> tuple[float, float]:
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        start = time.monotonic()
        lab = LabPage(page, server, relpath).open()
        ready = time.monotonic() - start
        return ready, lab.run_all()
    finally:
        page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one into a temp folder)")
    parser.add_argument("--notebook", default="02", help="the notebook's number (default 02)")
    parser.add_argument("--repeats", type=int, default=2)
    opts = parser.parse_args()
    missing = browser.missing_requirements()
    if missing:
        sys.exit("; ".join(missing))
    [notebook] = [p for p in lite_build.site_notebooks() if p.name.startswith(opts.notebook)]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        site_dir = opts.site
        if site_dir is None:
            t0 = time.monotonic()
            site_dir = tmp / "_site"
            tasks.npm_install()
            subprocess.run([sys.executable, str(ROOT / "lite" / "build.py"), "--out", str(site_dir)],
                           check=True, stdout=subprocess.DEVNULL, timeout=900)
            print(f"site built in {time.monotonic() - t0:.0f} s")
        pyodide = site_dir / "static" / "pyodide"
        total = lite_build.folder_size(site_dir)
        core = sum((pyodide / n).stat().st_size for n in lite_build.PYODIDE_CORE)
        wheels = sum(p.stat().st_size for p in pyodide.glob("*.whl"))
        print(f"site size: {total / 1e6:.1f} MB in all; Pyodide core {core / 1e6:.1f} MB; "
              f"{len(list(pyodide.glob('*.whl')))} wheels {wheels / 1e6:.1f} MB")
        site = _Site(site_dir)
        lab_server = browser.start_server(tmp / "lab")
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
                results = {"JupyterLite site": [], "JupyterLab": []}
                contexts = {name: chromium.new_context(viewport=dict(browser.VIEWPORT)) for name in results}
                for _ in range(opts.repeats):   # interleaved: both see the same machine load
                    results["JupyterLite site"].append(_measure(contexts["JupyterLite site"], site, notebook.name))
                    results["JupyterLab"].append(_measure(contexts["JupyterLab"], lab_server,
                                                          f"notebooks/{notebook.name}"))
                chromium.close()
        finally:
            browser.stop_server(lab_server)
            site.server.shutdown()
    print(f"\n{notebook.name}, best of {opts.repeats} (first kernel start in brackets: cold cache)")
    print(f"{'':18} {'kernel ready':>14} {'Run All':>9}")
    best = {}
    for name, runs in results.items():
        best[name] = (min(r[0] for r in runs), min(r[1] for r in runs))
        print(f"{name:18} {best[name][0]:8.1f} s ({runs[0][0]:.0f}) {best[name][1]:7.1f} s")
    lite, lab = best["JupyterLite site"], best["JupyterLab"]
    print(f"{'site / lab':18} {lite[0] / lab[0]:12.1f}x {lite[1] / lab[1]:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
