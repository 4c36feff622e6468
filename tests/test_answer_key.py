"""tools/answer_key.py: the instructor's key covers every exercise of the series, and every check passes."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "answer_key.py"
CHECK_CALL = re.compile(r'^check_exercise\("(\d+\.\d+)", (\w+)\)$')


def notebook_exercise_ids() -> set[str]:
    """Every exercise id a notebook checks: check_exercise("N.M", ...) in its code cells."""
    ids = set()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                ids.update(re.findall(r'check_exercise\("(\d+\.\d+)"', "".join(cell["source"])))
    return ids


def generate(tmp_path: Path) -> dict:
    run = subprocess.run([sys.executable, str(TOOL), "--out", str(tmp_path / "key")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout
    return json.loads((tmp_path / "key" / "answer-key.ipynb").read_text(encoding="utf-8"))


def test_every_exercise_of_the_notebooks_is_in_the_key_with_text_and_solution(tmp_path):
    cells = generate(tmp_path)["cells"]
    checks = {}
    for i, cell in enumerate(cells):
        match = CHECK_CALL.match(cell["source"]) if cell["cell_type"] == "code" else None
        if match:
            checks[match.group(1)] = i
    assert notebook_exercise_ids() <= set(checks)
    for exercise, i in checks.items():
        solution = cells[i - 2]
        assert solution["cell_type"] == "code" and solution["source"].strip(), exercise
        # The exercise's own text comes first, as the notebook words it, then the cells it gives.
        heading = next(j for j in range(i - 1, -1, -1) if cells[j]["cell_type"] == "markdown"
                       and re.search(rf"Exercise {re.escape(exercise)}\b|The brief", cells[j]["source"]))
        assert heading < i - 2, exercise


def _starter_cells() -> dict[str, str]:
    """The cell a learner edits for each exercise: the notebook's code cell that calls check_exercise."""
    found = {}
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for exercise in re.findall(r'check_exercise\("(\d+\.\d+)"', source) if cell["cell_type"] == "code" else ():
                found.setdefault(exercise, source)
    return found


def test_the_exercise_text_in_code_cells_is_in_the_key(tmp_path):
    """The comments of a starting cell ("# your code here: (Call-ID, From tag, To tag)") are part of the
    task, and so are the cells that show what to work on (7.3's watchers, 8.1's trace)."""
    cells = generate(tmp_path)["cells"]
    markdown = "\n".join(c["source"] for c in cells if c["cell_type"] == "markdown")
    code = [c["source"] for c in cells if c["cell_type"] == "code"]
    starters = _starter_cells()
    comments = {e: re.findall(r"(?:#|//|<!--) *your code here[^\n]*", s) for e, s in starters.items()}
    assert sum(map(len, comments.values())) >= 10   # the notebooks do word their tasks there
    for exercise, found in comments.items():
        for comment in found:
            assert comment in markdown, (exercise, comment)
    assert "# the application that sent the INVITE out of the server" in markdown   # 8.1's answer dict
    assert "<!-- your code here: the elements of the manifest" in markdown           # the capstone's
    assert any("ben_trace()" in c for c in code) and any("response_path_front_end()" in c for c in code)
    assert not any(c.lstrip().startswith("show_solution(") for c in code)


def test_the_key_runs_top_to_bottom_and_every_check_passes(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("MSPL_LITE_PROGRESS", str(tmp_path / "progress.json"))
    nb = nbformat.from_dict(generate(tmp_path))
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    verdicts = {}
    for cell in nb.cells:
        match = CHECK_CALL.match(cell.source) if cell.cell_type == "code" else None
        if match:
            text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
            verdicts[match.group(1)] = text
    assert verdicts and notebook_exercise_ids() <= set(verdicts)
    not_passed = {e: t for e, t in verdicts.items() if not t.startswith(f"Exercise {e}: passed -- ")}
    assert not not_passed, not_passed


def test_an_out_that_is_a_file_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    run = subprocess.run([sys.executable, str(TOOL), "--out", str(blocker)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "cannot write into" in run.stderr and "Traceback" not in run.stderr
