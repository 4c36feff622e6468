#!/usr/bin/env python3
"""Write the instructor's answer key: every exercise of the series with its solution and its check.

    .venv/bin/python tools/answer_key.py                # writes answer-key/answer-key.ipynb
    .venv/bin/python tools/answer_key.py --out DIR      # writes DIR/answer-key.ipynb

For each exercise (mspl_lite.course EXERCISES, in the series' order) the key holds the exercise's
text as the notebook gives it: its ``### Exercise N.M`` markdown up to the next heading, the code
cells of that section that show the learner what to work on (run in the key too, so their output is
there), and the learner's starting cell, whose comments are part of the task ("# your code here:
(Call-ID, From tag, To tag)"), shown as code; then the solution (mspl_lite.course SOLUTIONS) as a
code cell and ``check_exercise("N.M", answer)``, the call the notebooks make. Run the key top to
bottom: every check says "passed".

answer-key/ is git-ignored: the key is generated on demand, so it is never out of date and never
handed to learners by accident (solutions are collapsed in the notebooks; here they are open).
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KEY_NAME = "answer-key.ipynb"

sys.path.insert(0, str(ROOT))

_HEADING = re.compile(r"^#{1,6}\s", re.M)
_EXERCISE_HEADING = re.compile(r"^###\s+Exercise\s+(\d+\.\d+)\b", re.M)
# The capstone has no "### Exercise 10.1" heading: its task is the brief of section 1, and the
# learner's starting cell (section 5) ends with check_capstone(...), which is what check_exercise runs.
_SECTION_FOR = {"10.1": "## 1. The brief"}
_STARTER_CALL = {"10.1": "check_capstone("}
_SOLUTION_CALL = re.compile(r"^\s*show_solution\(")

SETUP = """\
# Answer key: run every cell (Kernel > Restart Kernel and Run All Cells); every check says "passed".
from mspl_lite.course import check_exercise
from mspl_lite.sip import Request, get_parameter_value, get_user_at_host"""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def exercise_texts(notebooks: Path = NOTEBOOKS) -> dict[str, str]:
    """The markdown of every ``### Exercise N.M`` in ``notebooks``, up to the next heading, by id."""
    return {exercise: section.text for exercise, section in exercise_sections(notebooks).items()}


class Section:
    """One exercise as a notebook gives it: ``text`` (markdown), ``given`` (the code cells of its section
    that show the learner what to work on) and ``starter`` (the cell the learner edits, or '')."""

    __slots__ = ("text", "given", "starter")

    def __init__(self, text: str) -> None:
        self.text, self.given, self.starter = text, [], ""


def _starter_of(exercise: str, code: str) -> bool:
    return f'check_exercise("{exercise}"' in code or (exercise in _STARTER_CALL and _STARTER_CALL[exercise] in code)


def exercise_sections(notebooks: Path = NOTEBOOKS) -> dict[str, Section]:
    """Every exercise of ``notebooks`` by id: its markdown section, the code given in it, its starting cell."""
    sections: dict[str, Section] = {}
    for path in sorted(notebooks.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        current: str | None = None   # the exercise whose section the cells are in
        for cell in cells:
            source = _source(cell)
            if cell.get("cell_type") == "markdown":
                starts = [m.start() for m in _HEADING.finditer(source)]
                if not starts:
                    if current is not None:
                        sections[current].text += "\n\n" + source.strip()
                    continue
                if starts[0] > 0 and current is not None:
                    sections[current].text += "\n\n" + source[:starts[0]].strip()
                for here, nxt in zip(starts, starts[1:] + [len(source)]):
                    part = source[here:nxt].strip()
                    match = _EXERCISE_HEADING.match(part)
                    current = match.group(1) if match else None
                    for exercise, heading in _SECTION_FOR.items():
                        if (part + "\n").startswith(heading + "\n") and exercise not in sections:
                            current = exercise
                    if current is not None and current not in sections:
                        sections[current] = Section(part)
                    elif current is not None:
                        current = None   # the same id twice: the first one is the exercise
            elif cell.get("cell_type") == "code" and current is not None and source.strip() \
                    and not _starter_of(current, source) and not _SOLUTION_CALL.match(source):
                sections[current].given.append(source)
        for cell in cells:   # the starting cell may sit in a later section (the capstone's)
            source = _source(cell)
            if cell.get("cell_type") == "code":
                for exercise, section in sections.items():
                    if not section.starter and _starter_of(exercise, source):
                        section.starter = source
    return sections


def _fenced(code: str) -> str:
    """``code`` as a Markdown code block, its fence longer than any run of backticks inside."""
    longest = max((len(m.group()) for m in re.finditer(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}"


def _string_literal(text: str) -> str:
    """``text`` as a Python literal that reads well: a raw triple-quoted string when that is exact."""
    if '"""' not in text and not text.endswith("\\") and "\r" not in text:
        return f'r"""{text}"""'
    return repr(text)


def answer_cells(exercise: str, language: str, code: str) -> tuple[str, str]:
    """(the solution cell, the check cell) for one exercise, in the notebooks' calling form."""
    name = f"answer_{exercise.replace('.', '_')}"
    if language != "python":
        # A script, a manifest, SIP text, a command or a name: the answer is the text itself.
        text = code.lstrip("\n") if language == "sip" else code
        return f"{name} = {_string_literal(text)}", f'check_exercise("{exercise}", {name})'
    solution = code.strip("\n")
    tree = ast.parse(solution)
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    if name not in assigned:
        # A function answer (1.1, 1.2, 9.1): pass the function the solution defines.
        functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        name = functions[-1]
    return solution, f'check_exercise("{exercise}", {name})'


def _cell(kind: str, source: str, index: int) -> dict:
    cell = {"cell_type": kind, "id": f"key-{index:03d}", "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def build(notebooks: Path = NOTEBOOKS) -> dict:
    """The answer key as a notebook (nbformat 4 JSON dict)."""
    from mspl_lite.course import EXERCISES, SOLUTIONS

    found = exercise_sections(notebooks)
    sources: list[tuple[str, str]] = [
        ("markdown", "# Answer key (instructors only)\n\n"
                     "Generated by `tools/answer_key.py` from the notebooks and "
                     "`mspl_lite/course/solutions.py`; do not hand it out. Each exercise: its text, "
                     "the solution, the check the notebook runs."),
        ("code", SETUP),
    ]
    notebook = None
    for exercise, entry in EXERCISES.items():
        if entry.notebook != notebook:
            notebook = entry.notebook
            sources.append(("markdown", f"## {notebook}\n\n[Open the notebook](../notebooks/{notebook}.ipynb)"))
        solution = SOLUTIONS[exercise]
        section = found.get(exercise)
        text = section.text if section else f"### Exercise {exercise}: {entry.title}\n\n(See notebook {notebook}.)"
        # Demote the notebook's heading one level so the key's outline reads notebook > exercise.
        sources.append(("markdown", re.sub(r"^(#{2,5})\s", r"#\1 ", text, count=1)))
        for given in section.given if section else ():
            sources.append(("code", given))
        if section and section.starter:
            sources.append(("markdown", "The learner starts from this cell (its comments are part of the task):\n\n"
                                        + _fenced(section.starter)))
        solution_cell, check_cell = answer_cells(exercise, solution.language, solution.code)
        sources.append(("code", solution_cell))
        sources.append(("markdown", f"**Why:** {solution.why}"))
        sources.append(("code", check_cell))
    return {
        "cells": [_cell(kind, src, i) for i, (kind, src) in enumerate(sources)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_key(out: Path) -> Path:
    """Write the key into directory ``out`` (created if missing); return the file's path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / KEY_NAME
    path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the key; 2 with a one-line message when ``--out`` cannot hold it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "answer-key",
                        help="directory to write answer-key.ipynb into (default: answer-key/)")
    args = parser.parse_args(argv)
    try:
        path = write_key(args.out)
    except OSError as err:
        print(f"answer_key.py: cannot write into {args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    count = sum(1 for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                if c["cell_type"] == "code" and c["source"].startswith("check_exercise("))
    print(f"wrote {path} ({count} exercises); open it in JupyterLab and run all cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
