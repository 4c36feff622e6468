"""A .sip file, or a folder of them, as a capture: one message per file, as ``mspl-lite trace`` reads one.

A folder's ``.sip`` files are read in name order (name them 001-invite.sip, 002-200.sip, ... to set
the order); other files and sub-folders are skipped and counted. A file that cannot be read is a
diagnostic, and the folder goes on.
"""
from __future__ import annotations

import os
from typing import Iterator

from ..errors import InputError
from ..text import MAX_MESSAGE_FILE, display_path, read_input
from . import Capture, CapturedMessage, CaptureError

__all__ = ["folder_capture", "file_capture", "MAX_FOLDER_FILES"]

#: Most .sip files read from one folder. A replay of a hand-made folder has tens; 100,000 names
#: sorted in memory are a few MB. Past it, the rest are counted and a diagnostic says so.
MAX_FOLDER_FILES = 100_000


def file_capture(path: str, name: str) -> Capture:
    return Capture(path, name, "sip-file", _one_file)


def folder_capture(path: str, name: str) -> Capture:
    try:
        entries = os.scandir(path)
    except OSError as err:
        raise CaptureError.at(f"cannot read the folder: {err.strerror or err}", filename=name, code="unreadable",
                              hint="check the path and that you may read the folder") from None
    names, others, over = [], 0, 0
    with entries:
        for entry in entries:
            try:
                is_file = entry.is_file()
            except OSError:
                is_file = False
            if is_file and entry.name.lower().endswith(".sip"):
                if len(names) < MAX_FOLDER_FILES:
                    names.append(entry.name)
                else:
                    over += 1
            else:
                others += 1
    if not names:
        raise CaptureError.at("this folder holds no .sip file", filename=name, code="empty-folder",
                              hint="give a folder of .sip files (one SIP message each), or a pcap, pcapng or "
                                   "log file")
    names.sort()
    cap = Capture(path, name, "sip-folder", lambda c: _folder(c, names))
    cap.stats.non_sip = others
    if over:
        cap.note(f"the folder holds more than {MAX_FOLDER_FILES} .sip files: the first {MAX_FOLDER_FILES} by name "
                 f"are read, {over} are not", code="too-many-files", hint="split the folder")
    return cap


def _one_file(cap: Capture) -> Iterator[CapturedMessage]:
    data = read_input(cap.path, limit=MAX_MESSAGE_FILE, what="SIP message", error=CaptureError, filename=cap.name)
    cap.stats.packets += 1
    cap.stats.sip_messages += 1
    yield CapturedMessage(data, cap.name, 0, None, "file", None, None, None, cap.path, 1)


def _folder(cap: Capture, names: list[str]) -> Iterator[CapturedMessage]:
    index = 0
    for entry in names:
        path = os.path.join(cap.path, entry)
        shown_name = display_path(path)
        cap.stats.packets += 1
        try:
            data = read_input(path, limit=MAX_MESSAGE_FILE, what="SIP message", error=CaptureError,
                              filename=shown_name)
        except InputError as err:
            cap.stats.malformed += 1
            for diagnostic in err.diagnostics:
                cap.stats.report(diagnostic)
            continue
        cap.stats.sip_messages += 1
        yield CapturedMessage(data, shown_name, index, None, "file", None, None, None, path, 1)
        index += 1
