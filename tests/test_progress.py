"""Self-checks and progress(): every stored answer is what the simulator does, a right answer is
recorded, and the record lives outside the repository and never breaks a check."""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from mspl_lite.course import check_exercise, progress
from mspl_lite.course.capstone import REFERENCE_EXCEPTIONS, REFERENCE_MANIFEST, check_capstone
from mspl_lite.course.self_check import SELF_CHECKS, SelfCheckWidget, self_check, verdict_html
from mspl_lite.errors import UsageError

# mspl_lite.course.progress is the function progress(); the module is reached by its full name.
progress_module = importlib.import_module("mspl_lite.course.progress")
ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"\b(?:(?:dn|gg|hh|cc)\d{6}|D\d{1,3}|RFC \d{4})\b", re.IGNORECASE)


@pytest.fixture
def record_file(tmp_path, monkeypatch):
    path = tmp_path / "data" / "progress.json"
    monkeypatch.setenv(progress_module.ENV_VAR, str(path))
    return path


@pytest.mark.parametrize("check", [c for c in SELF_CHECKS.values() if c.observe], ids=lambda c: c.id)
def test_each_self_check_answer_is_what_the_simulator_does(check):
    assert check.observe() == check.answer


@pytest.mark.parametrize("check", SELF_CHECKS.values(), ids=lambda c: c.id)
def test_each_self_check_is_well_formed_and_cites_its_source(check):
    assert check.answer in check.choices and len(set(check.choices)) == len(check.choices) >= 2
    assert CITATION.search(check.why), check.why
    assert (ROOT / "notebooks" / f"{check.notebook}.ipynb").exists()


def test_every_notebook_01_to_10_asks_its_self_checks_before_the_trace():
    for nb_path in sorted((ROOT / "notebooks").glob("[01][0-9]-*.ipynb")):
        number = int(nb_path.name[:2])
        if not 1 <= number <= 10:      # 00 has no trace to predict; 11 and 12 are not this series' lessons
            continue
        cells = ["".join(c["source"]) for c in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]]
        asked = re.findall(r'self_check\("([0-9.a-z]+)"\)', "\n".join(cells))
        mine = [c.id for c in SELF_CHECKS.values() if c.notebook == nb_path.stem]
        assert len(mine) >= 2 and sorted(asked) == sorted(mine), nb_path.name


def test_the_widget_shows_the_verdict_in_place_and_records_a_right_answer(record_file):
    widget = self_check("5.a")
    widget.button.click()
    assert "Pick an answer" in widget.result.value and not record_file.exists()
    widget.choices.value = "IIMFilter, DefaultRouting"
    widget.button.click()
    assert "Not quite" in widget.result.value and "D1" in widget.result.value and not record_file.exists()
    widget.choices.value = "none of them"
    widget.button.click()
    assert "Right." in widget.result.value
    assert json.loads(record_file.read_text())["self_checks"] == ["5.a"]


def test_the_stored_form_of_a_self_check_is_its_question():
    text = repr(self_check("1.a"))
    assert "Jenny is signed in on two endpoints" in text and "( ) two, one to each endpoint (a fork)" in text


def test_an_unknown_self_check_is_a_usage_error():
    with pytest.raises(UsageError, match="no self-check"):
        self_check("99.z")


def test_a_passing_exercise_is_recorded_and_a_failing_one_is_not(record_file):
    assert not check_exercise("2.1", 9)
    assert not record_file.exists()
    assert check_capstone(REFERENCE_MANIFEST, REFERENCE_EXCEPTIONS)
    assert progress_module.load_record() == {"exercises": ["10.1"], "self_checks": []}
    shown = progress()
    assert "[x] 10.1" in shown.text() and "passed: 1 of" in shown.text() and str(record_file) in shown.text()


def test_progress_renders_a_given_record_without_reading_the_file(record_file):
    record_file.parent.mkdir(parents=True)
    record_file.write_text(json.dumps({"exercises": ["3.1", "3.2"], "self_checks": ["1.a"]}))
    demo = progress({"exercises": ["1.1"], "self_checks": []})
    assert "[x] 1.1" in demo.text() and "[ ] 3.1" in demo.text() and "[ ] 1.a" in demo.text()
    assert "passed: 1 of" in demo.text() and "Record:" not in demo.text()
    assert "1.1&nbsp;&#10004;" in demo._repr_html_() and "<table>" in demo._repr_html_()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"exercises": "3.1", "self_checks": [null, {}]}'])
def test_a_broken_record_reads_as_empty_and_is_repaired_by_the_next_pass(record_file, content):
    record_file.parent.mkdir(parents=True)
    record_file.write_text(content)
    assert progress_module.load_record() == {"exercises": [], "self_checks": []}
    assert progress_module.record_pass("self_checks", "2.a")
    assert progress_module.load_record()["self_checks"] == ["2.a"]


def test_a_record_that_cannot_be_written_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(progress_module.ENV_VAR, str(blocker / "progress.json"))   # its folder is a file
    assert check_capstone(REFERENCE_MANIFEST, REFERENCE_EXCEPTIONS).passed
    assert progress_module.record_pass("exercises", "10.1") is False


def test_the_default_record_is_in_the_users_data_folder_not_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(progress_module.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = progress_module.progress_path()
    assert ROOT not in path.parents
    if path.parent.parent == tmp_path:    # Linux and the BSDs
        assert path == tmp_path / "mspl-lite" / "progress.json"


def test_the_wrong_answer_verdict_names_the_answer():
    check = SELF_CHECKS["6.a"]
    assert "the answer is <i>Jenny</i>" in verdict_html(check, "Nuria")
    assert isinstance(self_check("6.a"), SelfCheckWidget)


def test_callwatch_of_the_self_checks_is_notebook_03s():
    module = importlib.import_module("mspl_lite.course.self_check")
    cells = json.loads((ROOT / "notebooks" / "03-your-first-mspl-application.ipynb").read_text())["cells"]
    assert module._CALL_WATCH in "".join(cells[2]["source"])


def test_every_header_says_its_time_and_prerequisites_and_links_the_cheat_sheet():
    for number in range(11):
        nb_path = next((ROOT / "notebooks").glob(f"{number:02d}-*.ipynb"))
        header = "".join(json.loads(nb_path.read_text(encoding="utf-8"))["cells"][0]["source"]).split("\n")[2]
        assert re.fullmatch(r"\*About \d+ minutes · prerequisites: (none|\d\d(, \d\d)*) · "
                            r"\[Cheat sheet and glossary\]\(12-cheat-sheet-and-glossary\.ipynb\)\*", header), header
        earlier = re.findall(r"\d\d", header.split("prerequisites:")[1].split("·")[0])
        assert all(int(e) < number for e in earlier), nb_path.name


def test_a_folded_output_shows_what_the_lesson_needs_and_keeps_the_whole_text():
    from mspl_lite.course.folding import folded

    text = "\n".join(f"line {i}" for i in range(10))
    shown = folded(text, keep=[0, 9], what="everything")
    assert shown.text() == "line 0\n...\nline 9\n(8 lines folded; everything below, one click away)"
    page = shown._repr_html_()
    assert "<details><summary>Everything (10 lines)</summary>" in page and "line 5" in page.split("<details>")[1]
    assert "line 5" not in page.split("<details>")[0]
