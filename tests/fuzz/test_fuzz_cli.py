"""Fuzz the command line: ``mspl_lite.cli.main`` with generated arguments and generated files.

Properties: exit status 0, 1 or 2 (argparse's usage error), never a traceback or an internal error in
the output, output bounded, every run bounded in time and memory. The files are written into a
temporary folder: mutated manifests, messages and lab files, and the awkward paths issue 14 names
(a folder, a missing file, /dev/null, /dev/zero, a FIFO).
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mspl_lite.cli import main

from . import _strategies as S
from ._contract import assert_no_bug_words, examples, guard

SECONDS = 10.0
MEGABYTES = 160

LAB = (S.DATA / "lab.toml").read_bytes()
SPECIAL = ("<folder>", "<missing>", "/dev/null", "/dev/zero", "<fifo>", "", "-", "\ud800.am", "x" * 300)


@st.composite
def files(draw):
    """(name, bytes) of the files written into the run's folder."""
    out = {}
    for i in range(draw(st.integers(0, 2))):
        out[f"app{i}.am"] = draw(st.one_of(st.sampled_from([p.read_bytes() for p in S.shipped_apps()]),
                                           S.manifest_inputs()))
    out["message.sip"] = draw(st.one_of(st.sampled_from(S.sample_messages()), S.mutated(S.sample_messages()),
                                        S.sip_message()))
    out["lab.toml"] = draw(st.one_of(st.just(LAB), S.mutated((LAB,)),
                                     st.sampled_from((b"[pool]\n" + b"a = [" * 5000, b"x = '\n'", b"\xff\xfe"))))
    return out


@st.composite
def arguments(draw, names):
    """An argv for main: a command, its files and options, some of them wrong."""
    def path():
        return draw(st.sampled_from(sorted(names) + list(SPECIAL)))

    command = draw(st.sampled_from(("check", "check", "apps", "apps", "trace", "trace", "trace", "bogus", "")))
    argv = [command] if command else []
    if command == "check":
        argv += [path() for _ in range(draw(st.integers(1, 3)))]
    elif command == "trace":
        argv.append(path())
    # Mostly the options the command has; now and then one it has not (argparse's exit 2).
    own = ("--json",) if command == "check" else ("--app", "--app", "--app", "--lab", "--json", "--diagram")
    for _ in range(draw(st.integers(0, 3))):
        option = draw(st.sampled_from(own * 6 + ("--help", "--nope", "--app")))
        if option == "--app":
            priority = draw(st.sampled_from(("", "@0", "@3", "@-1", "@40", "@x", "@", "@1.5", "@" + "9" * 5000,
                                             "@3@4")))
            argv += [option, path() + priority]
        elif option == "--lab":
            argv += [option, path()]
        elif option == "--diagram":
            argv += [option, draw(st.sampled_from(("out.svg", "<folder>", "/dev/null", "sub/none/x.svg")))]
        else:
            argv.append(option)
    return argv


def materialise(folder: Path, argv: list[str]) -> list[str]:
    """Replace the placeholders by real paths in ``folder``."""
    special = {"<folder>": str(folder / "a-folder"), "<missing>": str(folder / "missing.am"),
               "<fifo>": str(folder / "fifo.am")}
    out = []
    for arg in argv:
        for key, real in special.items():
            arg = arg.replace(key, real)
        if arg and not arg.startswith(("-", "/")) and arg in os.listdir(folder):
            arg = str(folder / arg)
        elif arg.endswith(".svg") and not arg.startswith("/"):
            arg = str(folder / arg)
        out.append(arg)
    return out


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.getvalue() + err.getvalue()


@given(files().flatmap(lambda f: st.tuples(st.just(f), arguments(set(f)))))
@__import__("hypothesis").settings(max_examples=examples(0.6))
def test_cli_exits_0_1_or_2_and_never_shows_a_traceback(case):
    written, argv = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for filename, data in written.items():
            (folder / filename).write_bytes(data)
        (folder / "a-folder").mkdir()
        os.mkfifo(folder / "fifo.am")
        argv = materialise(folder, argv)
        with guard(f"mspl-lite {' '.join(a[:40] for a in argv)}", seconds=SECONDS, megabytes=MEGABYTES):
            status, output = run_cli(argv)
    assert status in (0, 1, 2), (status, output[:2000])
    assert_no_bug_words(output, "the CLI's output")
    if status == 1:
        assert output.strip(), "exit status 1 without a word"
