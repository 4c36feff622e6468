"""``environment_check()``: is this kernel ready for the series, and if not, exactly what to fix.

On a good machine the report is the same everywhere (no versions, paths or times in it), so
notebook 00 can store it and nbval can compare it. Versions and paths appear only in the line of
something that is wrong, where they help.
"""
from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from typing import Callable

__all__ = ["Check", "EnvironmentReport", "environment_check", "CHECKS"]

_SETUP = "python3 tasks.py lab"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: ``ok``, what was checked, and (when not ok) what to do."""

    ok: bool
    what: str
    fix: str = ""


def _python() -> Check:
    if sys.version_info >= (3, 10):
        return Check(True, "Python 3.10 or newer")
    found = ".".join(map(str, sys.version_info[:3]))
    return Check(False, f"Python {found} is too old", "install Python 3.10 or newer, then run "
                                                       f"`{_SETUP}` again (it makes .venv with that Python)")


def _package() -> Check:
    try:
        from ..frontend import FrontEnd, sample_path
    except Exception as exc:  # a broken install must be reported, not crash the check
        return Check(False, f"mspl_lite cannot load its Front End simulator ({type(exc).__name__}: {exc})",
                     f"reinstall the project: `{sys.executable} -m pip install -e .` in the project folder")
    if not sample_path("lab.toml").is_file():
        return Check(False, "mspl_lite is installed without its sample lab and messages",
                     "install it from the project folder with `pip install -e .` (the package data is "
                     "listed in pyproject.toml)")
    try:
        FrontEnd()
    except Exception as exc:
        return Check(False, f"the sample lab does not load ({type(exc).__name__}: {exc})",
                     "this is a bug in mspl_lite: please report it with this message")
    return Check(True, "mspl_lite with its sample lab (contoso.com)")


def _renderer() -> Check:
    try:
        from ..view.render import render
    except Exception as exc:
        return Check(False, f"mspl_lite.view cannot be imported ({type(exc).__name__}: {exc})",
                     "reinstall the project: `pip install -e .`")
    try:
        svg = render("digraph { a -> b }").decode("utf-8")
    except Exception as exc:
        return Check(False, "diagrams cannot be drawn: " + str(exc).split("\n")[0],
                     f"`{sys.executable} -m pip install graphviz-pure==0.2.2` (no system Graphviz needed)")
    if "<svg" not in svg:
        return Check(False, "the diagram renderer did not produce SVG",
                     "reinstall it: `pip install --force-reinstall graphviz-pure==0.2.2`")
    if sys.platform == "emscripten":  # the JupyterLite site: its WebAssembly Graphviz (decision D114)
        return Check(True, "the site's WebAssembly Graphviz draws diagrams in this browser")
    return Check(True, "graphviz-pure draws diagrams (no system Graphviz needed)")


def _widgets() -> Check:
    try:
        import ipywidgets
    except ImportError:
        return Check(False, "ipywidgets is not installed in this kernel's Python",
                     f"`{sys.executable} -m pip install ipywidgets==8.1.9`, then restart the kernel")
    major = str(getattr(ipywidgets, "__version__", "0")).split(".")[0]
    if major != "8":
        return Check(False, f"ipywidgets {ipywidgets.__version__} is installed; the series needs 8.x",
                     f"`{sys.executable} -m pip install ipywidgets==8.1.9`, then restart JupyterLab")
    try:
        import jupyterlab_widgets  # noqa: F401  (the JupyterLab side of ipywidgets)
    except ImportError:
        return Check(False, "ipywidgets 8 is here but jupyterlab_widgets is not: widgets would show as text",
                     "`pip install jupyterlab_widgets` into the environment that runs JupyterLab")
    return Check(True, "ipywidgets 8 with its JupyterLab extension")


#: The checks, in the order they are reported.
CHECKS: tuple[Callable[[], Check], ...] = (_python, _package, _renderer, _widgets)


@dataclass(frozen=True, slots=True)
class EnvironmentReport:
    """The result of environment_check(): one Check per item; ``ok`` when nothing needs fixing."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing."""
        return all(c.ok for c in self.checks)

    def _summary(self) -> str:
        if self.ok:
            return "Everything is ready. Go on to 01-sip-in-fifteen-minutes.ipynb."
        bad = sum(not c.ok for c in self.checks)
        return f"{bad} thing{'s' if bad > 1 else ''} to fix (see 'fix:' above), then run this cell again."

    def text(self) -> str:
        """The report as plain text: one line per check, a fix under each that failed, the summary."""
        lines = []
        for c in self.checks:
            lines.append(f"{'ok ' if c.ok else 'FIX'}  {c.what}")
            if not c.ok:
                lines.append(f"     fix: {c.fix}")
        lines.append(self._summary())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        rows = []
        for c in self.checks:
            mark = "&#10004; ok" if c.ok else "&#10008; fix"
            fix = "" if c.ok else f"<br><b>fix:</b> {html.escape(c.fix)}"
            rows.append(f'<tr><td style="text-align:left;white-space:nowrap"><b>{mark}</b></td>'
                        f'<td style="text-align:left">{html.escape(c.what)}{fix}</td></tr>')
        return (f'<table>{"".join(rows)}</table><p><b>{html.escape(self._summary())}</b></p>')


def environment_check() -> EnvironmentReport:
    """Run every check; never raises (a failing check is a line that says what to fix)."""
    return EnvironmentReport(tuple(check() for check in CHECKS))
