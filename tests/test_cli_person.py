"""The command line a person meets: help, refused abbreviations, wrong-kind hints, quiet pipes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mspl_lite.cli import main

DATA = Path(__file__).resolve().parent.parent / "mspl_lite" / "data"
MESSAGE = str(DATA / "messages" / "invite-jennyl.sip")
MANIFEST = str(DATA / "apps" / "silent.am")


def test_trace_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["trace", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for option in ("--app", "--lab", "--json", "--diagram"):
        assert option in out
    assert out.count("default:") >= 4 and "examples:" in out


def test_abbreviation_is_refused_with_the_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["trace", MESSAGE, "--ap", MANIFEST])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: mspl-lite trace") and "--ap" in err


def test_unknown_option_to_check_names_check_usage(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--bogus", MANIFEST])
    assert capsys.readouterr().err.startswith("usage: mspl-lite check")


def test_manifest_given_as_the_message(capsys):
    assert main(["trace", MANIFEST]) == 1
    assert "not a SIP message: give it with --app" in capsys.readouterr().err


def test_message_given_to_check(capsys):
    assert main(["check", MESSAGE]) == 1
    assert "this is a SIP message, not a manifest" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "trace"])
def test_binary_file_is_not_text(tmp_path, capsys, command):
    png = tmp_path / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert main([command, str(png)]) == 1
    err = capsys.readouterr().err
    assert "shot.png:1:1: error: not text: 16 bytes" in err and "PNG" in err


def test_nul_byte_is_located(tmp_path, capsys):
    f = tmp_path / "app.mspl"
    f.write_bytes(b"x = 1;\nab\x00c")
    assert main(["check", str(f)]) == 1
    assert "app.mspl:2:3: error: not text" in capsys.readouterr().err


def test_empty_file_and_folder_given_to_check(tmp_path, capsys):
    (tmp_path / "empty.am").write_bytes(b"")
    assert main(["check", str(tmp_path / "empty.am"), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "the file is empty" in err and "this is a folder, not a file" in err


@pytest.mark.parametrize("args", [["apps"], ["trace", MESSAGE]])
def test_closed_pipe_ends_quietly(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (head) has already gone
    try:
        result = subprocess.run([sys.executable, "-m", "mspl_lite.cli", *args], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["trace", "apps"])
def test_message_given_with_app_says_it_is_the_message_file(capsys, command):
    args = ["trace", MESSAGE] if command == "trace" else ["apps"]
    assert main(args + ["--app", MESSAGE]) == 1
    err = capsys.readouterr().err
    assert "invite-jennyl.sip:1:1: error: this is a SIP message, not an application manifest: give it as " \
           "MESSAGE_FILE" in err
    assert "INVITE sip:" in err and "stray characters" not in err


def test_lab_file_given_with_app_says_give_it_with_lab(capsys):
    assert main(["trace", MESSAGE, "--app", str(DATA / "lab.toml") + "@3"]) == 1
    err = capsys.readouterr().err
    assert "lab.toml:1:1: error: this is a lab file, not an application manifest: give it with --lab" in err
    assert "--lab LAB.toml" in err


def test_a_broken_manifest_with_app_keeps_the_loaders_own_error(tmp_path, capsys):
    broken = tmp_path / "broken.am"
    broken.write_text("pool = 3\n", encoding="utf-8")   # TOML, but no [pool] table: not a lab
    assert main(["apps", "--app", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "stray characters before the root element" in err and "lab file" not in err
