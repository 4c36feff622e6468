"""Every citation in the repository resolves to a source the repository ships.

A learner who reads "(dn439171)" in a notebook, a trace note or a checker hint must find that page
in docs/sources.md, and a "decision D3" in docs/ARCHITECTURE.md with the evidence on both sides.
The team's private notes (../shared/reference) are not shipped, so nothing may cite them.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "sources.md"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"

#: Microsoft's archived page ids: two letters and six digits (Dn439073, gg439513, cc165046, ...).
PAGE_ID = re.compile(r"(?<![\w/.-])((?:dn|gg|hh|cc|bb|dd|jj|ee|ff)\d{6})(?![\w-])", re.IGNORECASE)
RFC = re.compile(r"\bRFC ?(\d{3,5})\b")
OPEN_SPEC = re.compile(r"(?<![\w-])(MS-[A-Z]{4,})(?![\w-])")
DECISION = re.compile(r"(?<![\w-])(D\d{1,3})(?![\w-])")
NOTES = re.compile(r"mspl\.md|builtin-apps\.md|notebook-practice\.md|shared/reference")

TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".am", ".toml", ".txt", ".tsv", ".cfg", ".sip", ".mspl"}
#: Third-party test data (RFC 4475's torture messages) is quoted, not written by us.
SKIP_PARTS = ("tests/data/sip-torture/",)


def _entries() -> dict[str, str]:
    """id (lower case) -> the text of its entry in docs/sources.md."""
    text = SOURCES.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    entries = {}
    for part in parts:
        head, _, body = part.partition("\n")
        ident = head.split(":", 1)[0].strip()
        entries[ident.lower()] = body
    return entries


def _decisions() -> set[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return set(re.findall(r"^### (D\d+)\.", text, flags=re.MULTILINE))


def _files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    out = []
    for name in listed:
        if not name or any(name.startswith(p) for p in SKIP_PARTS):
            continue
        path = ROOT / name
        if path.suffix in TEXT_SUFFIXES and path.is_file() and path != SOURCES:
            out.append(path)
    return out


def _citations():
    """(file, line number, kind, id) for every citation-shaped token outside docs/sources.md."""
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in PAGE_ID.finditer(line):
                yield rel, number, "page", m.group(1).lower()
            for m in RFC.finditer(line):
                yield rel, number, "page", f"rfc{m.group(1)}"
            for m in OPEN_SPEC.finditer(line):
                yield rel, number, "page", m.group(1).lower()
            for m in DECISION.finditer(line):
                yield rel, number, "decision", m.group(1)
            if NOTES.search(line) and path != Path(__file__):
                yield rel, number, "notes", NOTES.search(line).group(0)


def test_every_entry_has_version_link_and_a_quotation():
    entries = _entries()
    assert len(entries) > 20, "docs/sources.md lists (almost) no sources"
    bad = []
    for ident, body in entries.items():
        missing = [field for field in ("* Version:", "* Link: http", "* Relied on:") if field not in body]
        if missing:
            bad.append(f"{ident}: missing {', '.join(missing)}")
        if "* Relied on:" in body and '"' not in body.split("* Relied on:", 1)[1]:
            bad.append(f"{ident}: 'Relied on' quotes nothing")
    assert not bad, "docs/sources.md entries incomplete:\n" + "\n".join(bad)


def test_every_decision_states_evidence_and_what_the_simulator_does():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    sections = re.split(r"^### (?=D\d+\.)", text, flags=re.MULTILINE)[1:]
    assert len(sections) >= 10
    bad = [s.split("\n", 1)[0] for s in sections
           if "simulator" not in s.lower() and "loader" not in s.lower()]
    assert not bad, "decisions that do not say what mspl-lite does: " + "; ".join(bad)


def test_every_citation_resolves():
    entries, decisions = _entries(), _decisions()
    unresolved = []
    for rel, number, kind, ident in _citations():
        if kind == "page" and ident not in entries:
            unresolved.append(f"{rel}:{number}: {ident} is not an entry of docs/sources.md")
        elif kind == "decision" and ident not in decisions:
            unresolved.append(f"{rel}:{number}: decision {ident} is not in docs/ARCHITECTURE.md")
        elif kind == "notes":
            unresolved.append(f"{rel}:{number}: cites the team's notes ({ident}), which the "
                              "repository does not ship: cite the page itself")
    assert not unresolved, f"{len(unresolved)} citations do not resolve:\n" + "\n".join(unresolved[:200])


@pytest.mark.parametrize("line,expected", [
    ("see dn439171 and Gg182575", ["dn439171", "gg182575"]),
    ("RFC 3261 section 16.7", ["rfc3261"]),
    ("[MS-OCSPROT] 2.5.11", ["ms-ocsprot"]),
    ("https://example.com/dn439171x", []),
])
def test_citation_patterns(line, expected):
    found = [m.group(1).lower() for m in PAGE_ID.finditer(line)]
    found += [f"rfc{m.group(1)}" for m in RFC.finditer(line)]
    found += [m.group(1).lower() for m in OPEN_SPEC.finditer(line)]
    assert found == expected
