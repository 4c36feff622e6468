"""Which kind of capture a path holds, told from its content (never its name), and opening it safely.

A file that is none of the formats gets an error that names what it looks like ("a gzip archive:
gunzip it first", "a JSON file", "an HTML page"), so the learner knows what to do next.
"""
from __future__ import annotations

import os
import re
import stat
from typing import BinaryIO

from ..text import display_path, shown
from . import Capture, CaptureError
from .stream import SIP_START

__all__ = ["open_capture", "open_stream", "SNIFF_BYTES"]

#: How much of a file is read to tell its format. A server log may start with many diagnostic
#: records before its first protocol record, and a client log with sign-in chatter: 1 MiB covers
#: minutes of a busy log, and is read once.
SNIFF_BYTES = 1 << 20

_PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_UCCAPI = re.compile(rb"(?:Sending Packet|Data Received) -\s*\S+\s*\((?:From|To) Local Address")  # as uccapi_log reads

# Binary formats a learner may give by mistake: (magic, what it looks like, what to do).
_LOOKALIKES = [
    (b"\x1f\x8b", "a gzip archive", "gunzip it first (gunzip FILE.gz) and give the capture inside"),
    (b"PK\x03\x04", "a zip archive", "unzip it first and give the capture inside"),
    (b"BZh", "a bzip2 archive", "bunzip2 it first and give the capture inside"),
    (b"\xfd7zXZ\x00", "an xz archive", "unxz it first and give the capture inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first and give the capture inside"),
    (b"GMBU", "a Microsoft Network Monitor capture (.cap)",
     "open it in Wireshark and save it as pcapng (File > Save As)"),
    (b"snoop\x00\x00\x00", "a Solaris snoop capture", "convert it: editcap -F pcapng FILE.snoop FILE.pcapng"),
    (b"%PDF", "a PDF document", "give the capture or log itself"),
    (b"\x89PNG", "a PNG image", "give the capture or log itself"),
    (b"\xff\xd8\xff", "a JPEG image", "give the capture or log itself"),
    (b"\xd0\xcf\x11\xe0", "an Office document or a Windows .msg", "give the capture or log itself"),
    (b"\x7fELF", "a program (ELF)", "give the capture or log itself"),
    (b"MZ", "a Windows program", "give the capture or log itself"),
]


def open_stream(path: str | os.PathLike, name: str) -> BinaryIO:
    """``path`` opened for reading as a stream; a pipe, a device or a missing file -> ``CaptureError``.

    As ``text.read_input`` does: opened non-blocking, checked with ``fstat`` on the open descriptor.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise CaptureError.at("cannot read the capture: no such file", filename=name, code="no-such-file",
                              hint="check the path and the file name") from None
    except (OSError, ValueError, TypeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise CaptureError.at(f"cannot read the capture: {shown(reason)}", filename=name, code="unreadable",
                              hint="check the path and that you may read the file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CaptureError.at("this is not a regular file (a pipe, a device or a socket); mspl-lite reads a "
                                  "capture only from a file", filename=name, code="not-a-file",
                                  hint="save the capture to a file and give its path")
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def open_capture(path: str | os.PathLike) -> Capture:
    name = display_path(path)
    try:
        is_dir = os.path.isdir(path)
    except (TypeError, ValueError):
        is_dir = False
    if is_dir:
        from .sip_files import folder_capture
        return folder_capture(os.fspath(path), name)
    with open_stream(path, name) as f:
        head = f.read(SNIFF_BYTES)
    kind = _kind(head, name)
    if kind in ("pcap", "pcapng"):
        from .pcap import packet_capture
        return packet_capture(os.fspath(path), name, kind)
    if kind == "lync-log":
        from .lync_log import lync_log_capture
        return lync_log_capture(os.fspath(path), name)
    if kind == "uccapi-log":
        from .uccapi_log import uccapi_log_capture
        return uccapi_log_capture(os.fspath(path), name)
    from .sip_files import file_capture
    return file_capture(os.fspath(path), name)


def _kind(head: bytes, name: str) -> str:
    """The format of a file that starts with ``head``, or CaptureError naming what it looks like."""
    magic = head[:4]
    if magic in _PCAP_MAGICS:
        return "pcap"
    if magic == _PCAPNG_MAGIC:
        return "pcapng"
    hint_formats = ("mspl-lite replay reads pcap and pcapng captures, Lync Server SIPStack logs (CLS, OCSLogger "
                    "or Snooper text), Lync client UccApi logs, a .sip file or a folder of .sip files")
    if not head:
        raise CaptureError.at("the capture is an empty file", filename=name, code="empty-capture", hint=hint_formats)
    for lead, looks, todo in _LOOKALIKES:
        if head.startswith(lead):
            raise CaptureError.at(f"this is {looks}, not a capture", filename=name, code="not-a-capture",
                                  hint=todo)
    text_like = _text_like(head)
    if not text_like:
        raise CaptureError.at("this is a binary file that is neither a pcap nor a pcapng capture", filename=name,
                              code="not-a-capture",
                              hint="a Lync .etl trace must be exported as text first (Snooper or OCSLogger: "
                                   "Analyze Log Files, then save); " + hint_formats)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):    # a UTF-16 text log: look at it as UTF-8
        head = head[:len(head) // 2 * 2].decode("utf-16", "replace").encode("utf-8", "replace")
    if b"$$begin_record" in head:
        return "lync-log"
    if _UCCAPI.search(head):
        return "uccapi-log"
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if SIP_START.match(body):
        return "sip-file"
    low = body[:512].lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low[:200]:
        looks = "an HTML page"
    elif low.startswith(b"<?xml") or low.startswith(b"<"):
        looks = "an XML file (an application manifest? give it with --app)"
    elif low.startswith((b"{", b"[")):
        looks = "a JSON file"
    elif low.startswith(b"#!") or low.startswith(b"import ") or low.startswith(b"def "):
        looks = "a script"
    else:
        looks = "a text file with no SIP message, SIPStack record ($$begin_record) or UccApi packet in it"
    raise CaptureError.at(f"this is {looks}, not a capture", filename=name, code="not-a-capture", hint=hint_formats)


def _text_like(head: bytes) -> bool:
    """True when ``head`` reads as text (UTF-8 or UTF-16 logs, few control bytes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:4096]
    if b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls * 20 < len(sample)
