#!/usr/bin/env python3
"""Re-execute the teaching series and store its outputs, or report which notebooks are stale.

    .venv/bin/python tools/notebooks.py                 # run every notebooks/*.ipynb, store outputs
    .venv/bin/python tools/notebooks.py 03-*.ipynb      # only these (names or paths)
    .venv/bin/python tools/notebooks.py --check         # run fresh copies; exit 1 listing stale ones

Each notebook runs top to bottom in a fresh kernel of *this* Python (kernel "python3", which
jupyter_client starts with sys.executable), with notebooks/ as working directory: the same
conditions as ``pytest --nbval --nbval-current-env notebooks/``.

What is stored is made deterministic, so that a re-run changes nothing in git:

* ``metadata.widgets`` (saved widget state) is removed: its model ids change on every run, and
  stale state from another ipywidgets version breaks the front end ("module @jupyter-widgets/controls ... is not registered").
* The ``application/vnd.jupyter.widget-view+json`` part of an output is removed too: without the
  saved state it only makes JupyterLab print "model not found"; what stays is the widget's
  text/plain, which says to run the cell. nbval never compares that part anyway (random ids).
* Execution timing (``metadata.execution``, ``ExecuteTime``) is not recorded; the Python version
  in ``metadata.language_info`` is dropped (it differs between machines).
* The traceback of a cell tagged ``raises-exception`` is cut to its last line (the full one holds
  this machine's paths; nbval does not compare tracebacks).

``--check`` executes each notebook into memory, normalises it the same way, and compares the
code cells' outputs and execution counts with the stored ones; it changes no file. Exit status:
0 all fresh, 1 some stale, 2 a notebook failed to run (an unexpected exception in a cell).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import copy
import difflib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
CELL_TIMEOUT_S = 120
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_TIMING_KEYS = ("execution", "ExecuteTime")


# ---------------------------------------------------------------------------------------------
# Normalising a notebook (pure functions on the JSON dict; tested in tests/test_notebooks_fresh.py)


def normalize_output(output: dict) -> dict | None:
    """One output as it is stored: no widget view, no transient ids; None when nothing is left."""
    out = copy.deepcopy(output)
    out.pop("transient", None)
    data = out.get("data")
    if isinstance(data, dict) and WIDGET_VIEW in data:
        del data[WIDGET_VIEW]
        if not data:
            return None
    if out.get("output_type") == "error":
        # Keep "Name: message" only: the rest of a traceback names files of this machine.
        out["traceback"] = [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
    return out


def normalize(nb: dict) -> dict:
    """The notebook as stored: widget state, timing and machine-specific metadata removed."""
    nb = copy.deepcopy(nb)
    meta = nb.setdefault("metadata", {})
    meta.pop("widgets", None)
    info = meta.get("language_info")
    if isinstance(info, dict):
        # Dropped, not ignored: it is the Python of whoever ran the notebook last (3.10 on one
        # laptop, 3.12 on the next), says nothing about the lesson, and stored it would change
        # the file, and conflict on `git pull`, every time someone else re-ran the series.
        info.pop("version", None)
    for cell in nb.get("cells", []):
        cmeta = cell.get("metadata", {})
        for key in _TIMING_KEYS:
            cmeta.pop(key, None)
        if cell.get("cell_type") == "code":
            outputs = (normalize_output(o) for o in cell.get("outputs", []))
            cell["outputs"] = merge_streams([o for o in outputs if o is not None])
    return nb


def merge_streams(outputs: list[dict]) -> list[dict]:
    """Join consecutive stream outputs of the same name into one, as nbval does before comparing.

    A busy kernel may deliver one cell's printing in several chunks; stored merged, the
    notebook is the same however the output was chunked.
    """
    merged: list[dict] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev.get("text", "")) + "".join(out.get("text", ""))
        else:
            merged.append(out)
    return merged


def _cell_name(i: int, cell: dict) -> str:
    return f"cell {i} (id {cell['id']})" if cell.get("id") else f"cell {i}"


def unnormalised(nb: dict) -> list[str]:
    """What exactly in ``nb`` is not as tools/notebooks.py stores it ([] when normalised)."""
    found = []
    meta = nb.get("metadata", {})
    if "widgets" in meta:
        found.append("metadata.widgets: widget state stored")
    info = meta.get("language_info")
    version = info.get("version") if isinstance(info, dict) else None
    if version is not None:
        found.append(f"metadata.language_info.version {version} stored (JupyterLab writes the kernel's "
                     "Python version on save; it is not stored)")
    for i, cell in enumerate(nb.get("cells", [])):
        name = _cell_name(i, cell)
        keys = [k for k in _TIMING_KEYS if k in cell.get("metadata", {})]
        if keys:
            found.append(f"{name}: execution timing stored (metadata.{', metadata.'.join(keys)})")
        if cell.get("cell_type") != "code":
            continue
        outputs = cell.get("outputs", [])
        if any(WIDGET_VIEW in (o.get("data") or {}) for o in outputs):
            found.append(f"{name}: a widget view stored in its outputs")
        if any("transient" in o for o in outputs):
            found.append(f"{name}: transient output ids stored")
        if any(o.get("output_type") == "error" and normalize_output(o) != o for o in outputs):
            found.append(f"{name}: a full traceback stored (only its last line is kept)")
        if len(merge_streams(copy.deepcopy(outputs))) != len(outputs):
            found.append(f"{name}: a stream stored in chunks (consecutive ones are merged)")
    if not found and normalize(nb) != nb:
        found.append("not as tools/notebooks.py stores it")
    return found


def _output_text(output: dict) -> str:
    """A readable rendering of one output, for the --check report."""
    kind = output.get("output_type")
    if kind == "stream":
        return f"[{output.get('name')}]\n" + "".join(output.get("text", ""))
    if kind == "error":
        return f"[error] {output.get('ename')}: {output.get('evalue')}"
    parts = []
    for mime, value in sorted(output.get("data", {}).items()):
        text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else json.dumps(value)
        parts.append(f"[{mime}]\n{text}")
    return "\n".join(parts)


def _comparable(nb: dict) -> list[tuple[int, object, list[str]]]:
    """(cell index, execution count, outputs as text) of every code cell."""
    rows = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            rows.append((i, cell.get("execution_count"), [_output_text(o) for o in cell.get("outputs", [])]))
    return rows


def differences(stored: dict, fresh: dict, *, context: int = 2, limit: int = 3) -> list[str]:
    """Readable differences between the stored and a fresh run's outputs ([] when fresh)."""
    a, b = _comparable(normalize(stored)), _comparable(normalize(fresh))
    if [i for i, _, _ in a] != [i for i, _, _ in b]:
        return ["the code cells differ (was the notebook edited while it ran?)"]
    cells = stored.get("cells", [])
    found = []
    for (i, count_a, outs_a), (_, count_b, outs_b) in zip(a, b):
        name = _cell_name(i, cells[i])
        if count_a != count_b:
            found.append(f"{name}: execution count {count_a} stored, {count_b} in a fresh run "
                         "(the notebook was not run top to bottom by this tool)")
        elif outs_a != outs_b:
            diff = difflib.unified_diff("\n".join(outs_a).splitlines(), "\n".join(outs_b).splitlines(),
                                        "stored", "fresh run", n=context, lineterm="")
            body = "\n".join("      " + line for line in list(diff)[:40])
            found.append(f"{name}: outputs differ\n{body}")
        if len(found) >= limit:
            found.append("... (more cells differ)")
            break
    return found


# ---------------------------------------------------------------------------------------------
# Executing


class NotebookFailed(Exception):
    """A cell raised although it is not tagged raises-exception."""


def execute(path: Path) -> dict:
    """Run the notebook at ``path`` in a fresh kernel of this Python; return it normalised."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT_S,
        record_timing=False,
        # store_widget_state=False crashes nbclient 0.11 on Output widgets: strip afterwards instead.
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        raise NotebookFailed(_first_lines(str(err), 25)) from None
    return normalize(json.loads(nbformat.writes(nb)))


def _first_lines(text: str, n: int) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:n] + (["..."] if len(lines) > n else []))


def write(path: Path, nb: dict) -> None:
    """Write as nbformat does (one-space indent, sorted keys) with a final newline."""
    import nbformat

    node = nbformat.from_dict(nb)
    nbformat.validate(node)
    text = nbformat.writes(node)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _job(path_text: str, check: bool) -> tuple[str, str, list[str], float]:
    """Run one notebook (in a worker process): (name, status, details, seconds)."""
    path = Path(path_text)
    start = time.perf_counter()
    try:
        fresh = execute(path)
    except NotebookFailed as err:
        return path.name, "failed", [str(err)], time.perf_counter() - start
    if check:
        stored = json.loads(path.read_text(encoding="utf-8"))
        found = differences(stored, fresh)
        found += [f"{what}: re-run tools/notebooks.py" for what in unnormalised(stored)]
        return path.name, "stale" if found else "fresh", found, time.perf_counter() - start
    write(path, fresh)
    return path.name, "written", [], time.perf_counter() - start


def _select(names: list[str]) -> list[Path]:
    if not names:
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    picked = []
    for name in names:
        p = Path(name)
        candidates = [p] if p.exists() else sorted(NOTEBOOKS.glob(name)) or [NOTEBOOKS / name]
        for c in candidates:
            if not c.exists():
                sys.exit(f"notebooks.py: no notebook {name!r} (looked in {NOTEBOOKS.relative_to(ROOT)}/)")
            picked.append(c.resolve())
    return picked


def main(argv: list[str] | None = None) -> int:
    """Run (or with --check, compare) the notebooks named in ``argv``; the exit status of the docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="names or paths (default: every notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 listing the notebooks whose outputs are stale")
    parser.add_argument("--jobs", "-j", type=int, default=min(4, os.cpu_count() or 1),
                        help="notebooks run in parallel (default: %(default)s)")
    args = parser.parse_args(argv)
    paths = _select(args.notebooks)
    if not paths:
        print("notebooks.py: no notebooks to run")
        return 0
    start = time.perf_counter()
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_job, str(p), args.check) for p in paths]
        for future in futures:
            name, status, details, seconds = future.result()
            results.append((name, status))
            print(f"{status:8} {name}  ({seconds:.1f} s)", flush=True)
            for d in details:
                print("    " + d.replace("\n", "\n    "), flush=True)
    total = time.perf_counter() - start
    failed = [n for n, s in results if s == "failed"]
    stale = [n for n, s in results if s == "stale"]
    print(f"{len(results)} notebook(s) in {total:.1f} s", flush=True)
    if failed:
        print("failed to run: " + ", ".join(failed))
        return 2
    if stale:
        print("stale (re-run tools/notebooks.py and commit): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
