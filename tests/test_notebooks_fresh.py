"""The stored notebooks are what tools/notebooks.py writes: run top to bottom, deterministic, no
widget state -- checked without running them (nbval runs them; `tools/notebooks.py --check` says
which ones are stale)."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _outputs_text(cell: dict) -> str:
    return json.dumps(cell.get("outputs", []))


# --- the tool's normalisation -------------------------------------------------------------------

def test_normalize_strips_widget_state_views_timing_and_python_version():
    nb = {
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
                     "language_info": {"name": "python", "version": "3.11.7"}},
        "cells": [{"cell_type": "code", "execution_count": 1, "source": "w", "id": "a",
                   "metadata": {"execution": {"iopub.status.busy": "2025-01-01T00:00:00Z"}, "tags": ["x"]},
                   "outputs": [{"output_type": "display_data", "metadata": {},
                                "data": {"text/plain": "Explorer: run this cell",
                                         tool.WIDGET_VIEW: {"model_id": "f00", "version_major": 2}}},
                               {"output_type": "display_data", "metadata": {}, "transient": {"display_id": "1"},
                                "data": {tool.WIDGET_VIEW: {"model_id": "ba5"}}}]}],
    }
    out = tool.normalize(nb)
    assert "widgets" not in out["metadata"]
    assert out["metadata"]["language_info"] == {"name": "python"}
    cell = out["cells"][0]
    assert cell["metadata"] == {"tags": ["x"]}
    assert cell["outputs"] == [{"output_type": "display_data", "metadata": {},
                                "data": {"text/plain": "Explorer: run this cell"}}]
    assert tool.normalize(out) == out                       # idempotent
    assert "widgets" in nb["metadata"]                      # the input is not changed


def test_normalize_cuts_a_traceback_to_its_last_line():
    nb = {"metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "source": "", "outputs": [
        {"output_type": "error", "ename": "SipParseError", "evalue": "bad",
         "traceback": ["\x1b[0;31m----\x1b[0m", 'File "/home/someone/x.py", line 3', "SipParseError: bad"]}]}]}
    assert tool.normalize(nb)["cells"][0]["outputs"][0]["traceback"] == ["SipParseError: bad"]


def test_normalize_joins_a_stream_the_kernel_sent_in_chunks():
    chunked = [{"output_type": "stream", "name": "stdout", "text": "one\n"},
               {"output_type": "stream", "name": "stdout", "text": "two\n"},
               {"output_type": "stream", "name": "stderr", "text": "warn\n"},
               {"output_type": "stream", "name": "stdout", "text": "three\n"}]
    nb = {"metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "source": "", "outputs": chunked}]}
    assert tool.normalize(nb)["cells"][0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "one\ntwo\n"},
        {"output_type": "stream", "name": "stderr", "text": "warn\n"},
        {"output_type": "stream", "name": "stdout", "text": "three\n"}]


def test_differences_name_the_stale_cell_and_show_a_diff():
    stored = {"metadata": {}, "cells": [
        {"cell_type": "markdown", "source": "x", "metadata": {}},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "old line\n"}]}]}
    fresh = json.loads(json.dumps(stored))
    assert tool.differences(stored, fresh) == []
    fresh["cells"][1]["outputs"][0]["text"] = "new line\n"
    (found,) = tool.differences(stored, fresh)
    assert found.startswith("cell 1: outputs differ") and "-old line" in found and "+new line" in found
    fresh = json.loads(json.dumps(stored))
    fresh["cells"][1]["execution_count"] = 2
    assert "execution count 1 stored, 2 in a fresh run" in tool.differences(stored, fresh)[0]


def test_unnormalised_says_exactly_what_was_stored():
    nb = {"metadata": {"widgets": {"state": {}}, "language_info": {"name": "python", "version": "3.11.7"}},
          "cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": ""},
                    {"cell_type": "code", "id": "c7", "execution_count": 1, "source": "",
                     "metadata": {"execution": {}},
                     "outputs": [{"output_type": "display_data", "metadata": {},
                                  "data": {"text/plain": "x", tool.WIDGET_VIEW: {"model_id": "f"}}},
                                 {"output_type": "stream", "name": "stdout", "text": "a\n"},
                                 {"output_type": "stream", "name": "stdout", "text": "b\n"}]}]}
    assert tool.unnormalised(nb) == [
        "metadata.widgets: widget state stored",
        "metadata.language_info.version 3.11.7 stored (JupyterLab writes the kernel's Python version "
        "on save; it is not stored)",
        "cell 1 (id c7): execution timing stored (metadata.execution)",
        "cell 1 (id c7): a widget view stored in its outputs",
        "cell 1 (id c7): a stream stored in chunks (consecutive ones are merged)"]
    assert tool.unnormalised(tool.normalize(nb)) == []


# --- the stored notebooks ------------------------------------------------------------------------

def test_the_series_exists():
    names = [p.name for p in NOTEBOOKS]
    for required in ("00-start-here.ipynb", "01-sip-in-fifteen-minutes.ipynb",
                     "03-your-first-mspl-application.ipynb", "04-the-language.ipynb"):
        assert required in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_notebook_is_normalised_and_run_top_to_bottom(path: Path):
    nb = _load(path)
    found = tool.unnormalised(nb)
    assert not found, (f"{path.name} is not as tools/notebooks.py stores it: " + "; ".join(found)
                       + ". Re-run tools/notebooks.py (did JupyterLab save it? open my-notebooks/ instead)")
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "every code cell run once, in order, by tools/notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_are_deterministic_and_error_free(path: Path):
    nb = _load(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = _outputs_text(cell)
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert "raises-exception" in tags, f"cell {i} stored an unexpected {out['ename']}"
        assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"cell {i}: a memory address"
        assert str(ROOT) not in text and "/home/" not in text and "site-packages" not in text, \
            f"cell {i}: an absolute path of this machine"
        assert not re.search(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", text), f"cell {i}: a time stamp"
        assert "NBVAL_IGNORE_OUTPUT" not in "".join(cell["source"]) or "because" in "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_links_between_notebooks_point_at_existing_files(path: Path):
    nb = _load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for target in re.findall(r"\]\(([^)#]+\.ipynb)", "".join(cell["source"])):
                assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
