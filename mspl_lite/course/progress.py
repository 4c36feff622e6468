"""Which exercises and self-checks a learner has passed, across the series: ``progress()``.

    progress()                  # a table: each notebook, its exercises and self-checks, passed or not
    progress(record)            # the same table for a given record (the notebooks' stored cell uses one)

Each notebook runs in its own kernel, so what a learner passed is kept in a small JSON file:
``$MSPL_LITE_PROGRESS`` when set (tests point it at a temporary file), else ``progress.json`` in the
user's data folder (``$XDG_DATA_HOME/mspl-lite`` or ``~/.local/share/mspl-lite`` on Linux,
``~/Library/Application Support/mspl-lite`` on macOS, ``%APPDATA%\\mspl-lite`` on Windows), never in
the repository, so it cannot dirty a clone. A passing ``check_exercise`` and a right self-check
write it; a file that cannot be read or written is ignored (a record must never break a check).
"""
from __future__ import annotations

import html
import json
import os
import sys
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["progress", "Progress", "progress_path", "load_record", "record_pass", "ENV_VAR"]

ENV_VAR = "MSPL_LITE_PROGRESS"
_KINDS = ("exercises", "self_checks")


def progress_path() -> Path:
    """Where the record lives: $MSPL_LITE_PROGRESS, else the user's data folder."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mspl-lite" / "progress.json"


def _clean(record: object) -> dict[str, list[str]]:
    """A record as {kind: sorted ids}; anything else in it (a hand-edited or broken file) is dropped."""
    out: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    if isinstance(record, Mapping):
        for kind in _KINDS:
            ids = record.get(kind, ())
            if isinstance(ids, (list, tuple, set, frozenset)):
                out[kind] = sorted({str(i) for i in ids if isinstance(i, (str, int, float))})
    return out


def load_record(path: Path | None = None) -> dict[str, list[str]]:
    """The learner's record; empty when there is none yet or it cannot be read."""
    try:
        return _clean(json.loads((path or progress_path()).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return _clean(None)


def record_pass(kind: str, item: str) -> bool:
    """Add ``item`` to the ``kind`` ("exercises" or "self_checks") of the record; False when it cannot be saved."""
    if kind not in _KINDS:
        return False
    path = progress_path()
    record = load_record(path)
    if str(item) in record[kind]:
        return True
    record[kind] = sorted({*record[kind], str(item)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        os.replace(temp, path)   # a kernel stopped mid-write leaves the old record, not half a file
    except OSError:
        return False
    return True


def _notebook_rows() -> list[tuple[str, list[str], list[str]]]:
    """(notebook, exercise ids, self-check ids) in series order."""
    from .exercises import EXERCISES
    from .self_check import SELF_CHECKS

    notebooks: dict[str, tuple[list[str], list[str]]] = {}
    for e in EXERCISES.values():
        notebooks.setdefault(e.notebook, ([], []))[0].append(e.id)
    for c in SELF_CHECKS.values():
        notebooks.setdefault(c.notebook, ([], []))[1].append(c.id)
    return [(name, ex, sorted(sc)) for name, (ex, sc) in sorted(notebooks.items())]


class Progress:
    """The table progress() shows: per notebook, each exercise and self-check, passed or not yet."""

    def __init__(self, record: Mapping | None = None, source: str = ""):
        self.record = _clean(record)
        self.source = source
        self.rows = _notebook_rows()

    def _marks(self, ids: Iterable[str], kind: str) -> list[tuple[str, bool]]:
        done = set(self.record[kind])
        return [(i, i in done) for i in ids]

    def totals(self) -> tuple[int, int, int, int]:
        """(exercises passed, exercises, self-checks passed, self-checks)."""
        ex = [m for _, e, _ in self.rows for m in self._marks(e, "exercises")]
        sc = [m for _, _, s in self.rows for m in self._marks(s, "self_checks")]
        return sum(p for _, p in ex), len(ex), sum(p for _, p in sc), len(sc)

    def text(self) -> str:
        """The table as plain text: [x] passed, [ ] not yet."""
        table = [("notebook", "exercises", "self-checks")]
        for name, ex, sc in self.rows:
            table.append((name, *("  ".join(f"[{'x' if p else ' '}] {i}" for i, p in self._marks(ids, kind)) or "-"
                                  for ids, kind in ((ex, "exercises"), (sc, "self_checks")))))
        widths = [max(len(row[k]) for row in table) for k in (0, 1)]
        lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in table]
        e_done, e_all, s_done, s_all = self.totals()
        lines.append(f"passed: {e_done} of {e_all} exercises, {s_done} of {s_all} self-checks ([x] passed, [ ] not yet)")
        if self.source:
            lines.append(self.source)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        def cell(ids, kind):
            marks = self._marks(ids, kind)
            if not marks:
                return "&ndash;"
            return " ".join(f'<span title="{"passed" if p else "not yet"}">{html.escape(i)}&nbsp;'
                            f'{"&#10004;" if p else "&middot;"}</span>' for i, p in marks)

        rows = "".join(f'<tr><td style="text-align:left">{html.escape(name)}</td>'
                       f'<td style="text-align:left">{cell(ex, "exercises")}</td>'
                       f'<td style="text-align:left">{cell(sc, "self_checks")}</td></tr>'
                       for name, ex, sc in self.rows)
        e_done, e_all, s_done, s_all = self.totals()
        foot = (f"<p><b>Passed: {e_done} of {e_all} exercises, {s_done} of {s_all} self-checks</b> "
                "(&#10004; passed, &middot; not yet).")
        if self.source:
            foot += f" {html.escape(self.source)}"
        return ('<table><tr><th style="text-align:left">notebook</th><th style="text-align:left">exercises</th>'
                f'<th style="text-align:left">self-checks</th></tr>{rows}</table>{foot}</p>')


def progress(record: Mapping | None = None) -> Progress:
    """Which exercises and self-checks are passed: from ``record`` if given, else from the learner's file."""
    if record is not None:
        return Progress(record)
    path = progress_path()
    return Progress(load_record(path), f"Record: {path}")
