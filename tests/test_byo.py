"""Notebook 11's helpers (mspl_lite.course.byo): the learner's files go to a scratch folder, the
command line runs there and prints what it prints in a terminal, and a mistake is a clear error."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mspl_lite.course.byo import ScratchFolder
from mspl_lite.errors import UsageError

DATA = Path(__file__).resolve().parent.parent / "mspl_lite" / "data"
MANIFEST = DATA / "apps" / "silent.am"
MESSAGE = DATA / "messages" / "invite-jennyl.sip"


@pytest.fixture
def files():
    return ScratchFolder()


def test_the_scratch_folder_is_outside_the_repository_and_empty(files):
    root = Path(__file__).resolve().parent.parent
    assert files.path.is_dir() and not list(files.path.iterdir())
    assert root not in files.path.resolve().parents
    assert "0x" not in repr(files)


def test_a_sip_message_is_stored_with_crlf_line_ends_whatever_was_pasted(files):
    pasted = "MESSAGE sip:bob@contoso.com SIP/2.0\nTo: <sip:bob@contoso.com>\r\n\nhello\n"
    data = files.write("mine.sip", pasted).read_bytes()
    assert data == b"MESSAGE sip:bob@contoso.com SIP/2.0\r\nTo: <sip:bob@contoso.com>\r\n\r\nhello\r\n"
    assert b"\r\r" not in data


def test_other_files_are_stored_as_written(files):
    text = MANIFEST.read_text(encoding="utf-8")
    assert files.write("my-app.am", text).read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize("name", ["../escape.am", "sub/my.am", "..\\x.am", "", ".", "..", "a\0b"])
def test_write_refuses_a_path_so_nothing_lands_outside_the_folder(files, name):
    with pytest.raises(UsageError, match="plain file name"):
        files.write(name, "x")
    assert not list(files.path.iterdir())


def test_write_refuses_bytes_with_a_clear_message(files):
    with pytest.raises(UsageError, match="as a str, not bytes"):
        files.write("m.sip", b"MESSAGE")


def test_cli_runs_in_the_folder_with_the_short_names_and_returns_the_status(files, capsys):
    here = os.getcwd()
    files.write("my-app.am", MANIFEST.read_text(encoding="utf-8"))
    assert files.cli("check", "my-app.am") == 0
    broken = MANIFEST.read_text(encoding="utf-8").replace("if (sipRequest) {", "if (sipRequest) {\n    x = ;", 1)
    files.write("my-broken.am", broken)
    assert files.cli("check", "my-broken.am") == 1
    out = capsys.readouterr()
    assert "my-broken.am:" in out.out + out.err and str(files.path) not in out.out + out.err
    assert os.getcwd() == here   # the notebook's own folder is back, even after an error


def test_cli_trace_writes_its_diagram_in_the_folder(files, capsys):
    files.write("my-message.sip", MESSAGE.read_text(encoding="utf-8"))
    files.write("my-app.am", MANIFEST.read_text(encoding="utf-8"))
    assert files.cli("trace", "my-message.sip", "--app", "my-app.am", "--diagram", "t.svg") == 0
    assert (files.path / "t.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "INVITE" in capsys.readouterr().out


@pytest.mark.parametrize("args, status", [(("trace", "--bogus"), 2), (("--help",), 0)])
def test_cli_usage_errors_and_help_are_a_status_not_an_exception(files, capsys, args, status):
    here = os.getcwd()
    assert files.cli(*args) == status
    shown = capsys.readouterr()
    assert "usage: mspl-lite" in shown.out + shown.err
    assert os.getcwd() == here


def test_cli_accepts_path_objects(files, capsys):
    path = files.write("my-app.am", MANIFEST.read_text(encoding="utf-8"))
    assert files.cli("check", path) == 0
