"""Flat files (``<lc:file>``): the value a script indexes, reading its rows, finding it on disk.

Decision D33: there are no comment lines; a row may have fewer fields than
columns (missing trailing fields read as "", as FilteringApp's optional last column needs), never
more; double quotes may protect a delimiter (inferred: the sentence of dn439112 on this could not be read whole).
Relative paths are read from the manifest's folder, and only from inside it (decision D56).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Iterable, Literal

from ..errors import Diagnostic, ManifestError, UsageError
from .source import LINE_BREAK, SourceMap

Delimiter = Literal["comma", "tab", "whitespace"]

#: Most bad lines of one flat file reported (as the SIP and script parsers report 20).
MAX_FILE_ERRORS = 20
DELIMITERS = ("comma", "tab", "whitespace")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FlatFile:
    """A text file the script reads as ``name[index].column`` (``<lc:file>``, hh347232/dn439112).

    ``rows`` keep the column order of ``columns``. ``row(i)`` is 0-based; ``lookup(key)`` uses the
    key column (case-insensitively when ``ignore_case``). Out of range or a missing key give None,
    which the script sees as null (Dn439066). ``loaded`` is False when the manifest was parsed
    without access to the file (``parse_manifest`` without ``base_dir``): then ``rows`` is empty.
    Compared and hashed by identity (its rows are dicts).
    """

    name: str
    path: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...] = ()
    key_column: str | None = None
    ignore_case: bool = False
    delimited_by: Delimiter = "comma"
    static: bool = False
    loaded: bool = False
    _index: dict | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(dict(r) for r in self.rows))
        if not self.columns:
            raise UsageError(f"flat file {self.name!r} needs at least one column")
        if self.delimited_by not in DELIMITERS:
            raise UsageError(f"delimited_by must be one of {DELIMITERS}, not {self.delimited_by!r}")
        if self.key_column is None:
            if self.ignore_case:
                raise UsageError(f"flat file {self.name!r}: ignore_case needs a key_column")
            return
        if self.key_column not in self.columns:
            raise UsageError(f"flat file {self.name!r}: key column {self.key_column!r} is not one of {self.columns}")
        index: dict[str, int] = {}
        for number, row in enumerate(self.rows):
            key = self._fold(row.get(self.key_column, ""))
            if key in index:
                raise UsageError(f"flat file {self.name!r}: duplicate key {row.get(self.key_column)!r}")
            index[key] = number
        object.__setattr__(self, "_index", index)

    def _fold(self, key: str) -> str:
        return key.casefold() if self.ignore_case else key

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, index: int) -> dict[str, str] | None:
        """Row ``index`` (0-based) as {column: value}, or None when out of range (MSPL null)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise UsageError(f"FlatFile.row takes an int, not {type(index).__name__}")
        if 0 <= index < len(self.rows):
            return dict(self.rows[index])
        return None

    def lookup(self, key: str) -> dict[str, str] | None:
        """The row whose key column equals ``key``, or None; UsageError if there is no key column.

        The script-level rule (Dn439066): a key-string reference to a file without keyColumnName
        is a script error that aborts the script; the interpreter turns this UsageError into that.
        """
        if self.key_column is None or self._index is None:
            raise UsageError(
                f"flat file {self.name!r} has no keyColumnName, so it can only be indexed by row number"
            )
        number = self._index.get(self._fold(key))
        return None if number is None else dict(self.rows[number])

    def __repr__(self) -> str:
        key = f", key={self.key_column!r}" + (" (ignore case)" if self.ignore_case else "") if self.key_column else ""
        rows = f"{len(self.rows)} rows" if self.loaded else "not loaded"
        return f"FlatFile({self.name!r}, {self.path!r}, columns={list(self.columns)}{key}, {self.delimited_by}, {rows})"


def parse_flat_file(
    text: str,
    *,
    name: str,
    columns: Iterable[str],
    key_column: str | None = None,
    ignore_case: bool = False,
    delimited_by: Delimiter = "comma",
    static: bool = False,
    path: str = "<flat file>",
) -> FlatFile:
    """Parse the text of a flat file as a ``<lc:file>`` declaration describes it.

    One record per line; blank lines are skipped; fields are stripped. There are no comment lines
    (the server documentation describes none), so every other line is a record. A field may be
    enclosed in double quotes to hold the delimiter (``"a,b"``; ``""`` is a quote): decision D33,
    inferred, since the sentence of dn439112 on this could not be read whole. Raises ManifestError pointing at the file's line.
    """
    columns = tuple(columns)
    if delimited_by not in DELIMITERS:
        raise UsageError(f"delimited_by must be one of {DELIMITERS}, not {delimited_by!r}")
    if key_column is not None and key_column not in columns:
        raise UsageError(f"key column {key_column!r} is not one of {columns}")
    if ignore_case and key_column is None:
        raise UsageError("ignore_case needs a key_column")
    text = text.removeprefix("\ufeff")
    rows, errors = _read_rows(text, path, columns, key_column, ignore_case, delimited_by, name)
    if errors:
        raise ManifestError(errors)
    return FlatFile(name=name, path=path, columns=columns, rows=rows, key_column=key_column,
                    ignore_case=ignore_case, delimited_by=delimited_by, static=static, loaded=True)


# =============================================================================================
# Records: one line, one row
# =============================================================================================

def _split_fields(line: str, delimited_by: str) -> list[tuple[str, int]]:
    """Split one record into (value, 1-based column) pairs.

    Double quotes protect delimiters ("a,b"; "" inside quotes is a quote). With ``whitespace`` the
    reference says leading, trailing and separating white space are all stripped.
    """
    fields: list[tuple[str, int]] = []
    current: list[str] = []
    start, quoted, was_quoted, i, n = 0, False, False, 0, len(line)
    separator = {"comma": ",", "tab": "\t"}.get(delimited_by)
    if delimited_by == "whitespace":
        while i < n and line[i] in " \t":
            i += 1
        start = i
        while n > i and line[n - 1] in " \t":
            n -= 1

    def close() -> None:
        text = "".join(current)
        if was_quoted:  # a quoted value keeps its spaces
            fields.append((text, start + 1))
        else:
            fields.append((text.strip(), start + len(text) - len(text.lstrip()) + 1))

    while i < n:
        c = line[i]
        if quoted:
            if c == '"' and i + 1 < n and line[i + 1] == '"':
                current.append('"')
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == '"' and not was_quoted and not "".join(current).strip():
            current, quoted, was_quoted, start = [], True, True, i
        elif c == separator:
            close()
            current, start, was_quoted = [], i + 1, False
        elif delimited_by == "whitespace" and c in " \t":
            close()
            while i + 1 < n and line[i + 1] in " \t":
                i += 1
            current, start, was_quoted = [], i + 1, False
        else:
            current.append(c)
        i += 1
    close()
    return fields


def _read_rows(text: str, path: str, columns: tuple[str, ...], key_column: str | None, ignore_case: bool,
               delimited_by: str, name: str) -> tuple[tuple[dict[str, str], ...], list[Diagnostic]]:
    """Records of a flat file, and a diagnostic per bad line (at most 20)."""
    smap = SourceMap(text, path)
    rows: list[dict[str, str]] = []
    errors: list[Diagnostic] = []
    keys: dict[str, int] = {}  # folded key -> line number

    def report(message: str, number: int, column: int, hint: str, code: str) -> None:
        errors.append(smap.diagnostic("error", message, (number, column), hint, code))

    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        fields = _split_fields(line, delimited_by)
        while len(fields) > len(columns) and not fields[-1][0]:
            fields.pop()  # a trailing delimiter (an invisible tab) adds no field
        if len(fields) > len(columns):
            hint = (f"{name} declares {len(columns)} column(s) ({', '.join(columns)}), delimited by {delimited_by}: "
                    "remove the extra field(s) or declare more columns")
            if line.lstrip().startswith(("#", "//", ";")):
                hint = "flat files have no comment lines (the server documents none): every line is a record; " + hint
            elif delimited_by == "whitespace":
                hint += '; enclose a value holding spaces in double quotes ("two words")'
            report(f"line has {len(fields)} fields but flat file {name!r} has {len(columns)} column(s)",
                   number, fields[len(columns)][1], hint, "flat-file-fields")
        else:
            # FilteringApp's policy file leaves its last column out on some lines ("The Value column is
            # optional"): a missing trailing field reads as "".
            values = [value for value, _ in fields] + [""] * (len(columns) - len(fields))
            row = dict(zip(columns, values))
            if key_column is not None:
                key = row[key_column]
                folded = key.casefold() if ignore_case else key
                if folded in keys:
                    index = columns.index(key_column)
                    column = fields[index][1] if index < len(fields) else 1
                    case = " (ignoreCase is on, so case does not count)" if ignore_case else ""
                    report(f"duplicate key {key!r} in flat file {name!r}: line {keys[folded]} has it too{case}",
                           number, column,
                           f"the values of the key column {key_column} must be unique: Lync Server logs an error "
                           "and terminates the application when it loads this file", "flat-file-duplicate-key")
                else:
                    keys[folded] = number
            rows.append(row)
        if len(errors) >= MAX_FILE_ERRORS:
            rest = LINE_BREAK.split(text[smap.starts[number]:]) if number < len(smap.starts) else []
            if any(line.strip() for line in rest):
                errors.append(Diagnostic(severity="note", message=f"the lines after line {number} were not checked",
                                         filename=path, hint=f"mspl-lite reports the first {MAX_FILE_ERRORS} bad "
                                                             "lines of a flat file: fix them and check again",
                                         code="too-many"))
            break
    return tuple(rows), errors


# =============================================================================================
# Where the file is
# =============================================================================================

class FlatFilePathError(Exception):
    """A ``path`` attribute mspl-lite will not follow (decision D56); ``reason`` and ``hint`` say why."""

    def __init__(self, reason: str, hint: str):
        super().__init__(reason)
        self.reason, self.hint = reason, hint


_INSIDE_HINT = ("mspl-lite reads a flat file only from the manifest's folder or a folder below it (Lync Server "
                "reads a relative path from RTCSRV.EXE's folder, where the SDK samples copy the .am and its "
                "files; decision D56): copy the file next to the .am and write path=\"policy.txt\"")


def resolve_flat_file(raw: str, base_dir: Path) -> str | None:
    """The file a ``path`` attribute names, inside the manifest's folder (None: a Windows server path).

    The server reads relative paths from RTCSRV.EXE's folder (...\\Server\\Core), where the SDK
    samples tell you to copy the .am and its files: the manifest's folder plays that part here.
    Decision D56: the file must be inside that folder once every ``..`` and symbolic link is
    resolved; anything else raises FlatFilePathError before a byte of it is read, so a manifest
    cannot turn /etc/passwd or another user's file into rows (or into quoted diagnostics).
    """
    windows = PureWindowsPath(raw)
    if os.name != "nt" and (windows.drive or raw.startswith("\\\\")):
        return None  # C:\... or \\server\share: not a path on this computer
    if os.name != "nt":
        raw = raw.replace("\\", "/")  # .\hostname.csv, as the MSPL syntax page writes it
    if "\0" in raw:
        raise FlatFilePathError("the path holds a NUL character", _INSIDE_HINT)
    path = Path(raw)
    if path.is_absolute() or windows.drive or windows.root:
        raise FlatFilePathError("an absolute path; mspl-lite does not read files outside the manifest's folder",
                                _INSIDE_HINT)
    try:
        base = Path(base_dir).resolve()
        target = (base / path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symbolic link loop, a name too long
        raise FlatFilePathError("the path cannot be resolved (a loop of symbolic links, or a name too long)",
                                _INSIDE_HINT) from None
    if target != base and base not in target.parents:
        raise FlatFilePathError("the path leads out of the manifest's folder (through .. or a symbolic link)",
                                _INSIDE_HINT)
    return str(target)


def missing_file_hint(raw: str) -> str:
    """What to do when the file a ``path`` attribute names cannot be read."""
    if PureWindowsPath(raw).drive or raw.startswith("\\\\"):
        return ("this is a path on the Front End server; mspl-lite reads flat files on this computer: copy the file "
                "next to the .am and write a relative path, e.g. path=\"policy.txt\"")
    return ("relative paths are read from the manifest's folder (Lync Server reads them from RTCSRV.EXE's folder, "
            "...\\Server\\Core, where the SDK samples copy the .am and its files): put the file there or fix path")
