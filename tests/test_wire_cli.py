"""`mspl-lite serve` as a user runs it: the start line, signals, bad arguments."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mspl_lite.wire.agent import UserAgent

ROOT = Path(__file__).resolve().parents[1]
START = "mspl-lite serve: listening on "


def start(*args, timeout=20):
    proc = subprocess.Popen([sys.executable, "-m", "mspl_lite.cli", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = proc.stdout.readline()      # the one line, flushed when the sockets are bound
    return proc, line


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


def address(line):
    host, port = line[len(START):].split(" ", 1)[0].rsplit(":", 1)
    return host, int(port)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_start_line_then_a_signal_stops_it_cleanly(sig, tmp_path):
    proc, line = start("--listen", "127.0.0.1:0", "--app", str(ROOT / "mspl_lite/data/apps/silent.am"),
                       "--trace-dir", str(tmp_path / "traces"))
    try:
        assert line.startswith(START) and line.endswith("(udp, tcp); loopback only; 1 application; Ctrl+C stops\n")
        host, port = address(line)
        assert host == "127.0.0.1" and port > 0
        with UserAgent("sip:jennyl@contoso.com") as ua:      # the port really serves, UDP
            assert ua.request("OPTIONS", "sip:fe01.contoso.com", (host, port)).status is not None
    finally:
        status, out, err = stop(proc, sig)
    assert status == 0 and out == "" and "Traceback" not in err
    assert sorted(p.suffix for p in (tmp_path / "traces").iterdir()) == [".json", ".txt"]


def test_udp_only():
    proc, line = start("--listen", "127.0.0.1:0", "--transport", "udp")
    status, _, err = stop(proc)
    assert "(udp); loopback only; 0 applications" in line and status == 0, err


@pytest.mark.parametrize("args,where", [
    (["--app", "no-such.am"], "no-such.am"),
    (["--listen", "127.0.0.1:99999"], "--listen"),
    (["--listen", "localhost:5060"], "--listen"),
    (["--transport", "sctp"], "--transport"),
    (["--contact", "sip:nobody@contoso.com=127.0.0.1:5071"], "--contact"),
    (["--contact", "sip:nuriag@contoso.com=somewhere:5071"], "--contact"),
    (["--contact", "nuriag"], "--contact"),
])
def test_bad_arguments_are_located_errors(args, where):
    proc = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "serve", "--listen", "127.0.0.1:0", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 1 and where in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_port_in_use_is_a_located_error():
    import socket
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "serve", "--listen", f"127.0.0.1:{port}"],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
    finally:
        taken.close()
    assert proc.returncode == 1 and "--listen" in proc.stderr and "Traceback" not in proc.stderr


def test_help_documents_every_option():
    proc = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "serve", "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    for option in ("--app", "--lab", "--listen", "--transport", "--contact", "--trace-dir", "examples:", "exit status"):
        assert option in proc.stdout


def test_a_signal_during_a_ringing_call_stops_it_promptly():
    import threading
    with UserAgent("sip:nuriag@contoso.com", ring=60) as nuria, UserAgent("sip:jennyl@contoso.com") as jenny:
        proc, line = start("--listen", "127.0.0.1:0", "--contact", f"sip:nuriag@contoso.com=127.0.0.1:{nuria.port}")
        server = address(line)
        caller = threading.Thread(target=jenny.invite, args=("sip:nuriag@contoso.com", server),
                                  kwargs={"timeout": 5}, daemon=True)
        caller.start()
        deadline = time.monotonic() + 5
        while not nuria.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert nuria.received                      # the call is ringing at the real agent
        began = time.monotonic()
        status, _, err = stop(proc)
        assert status == 0 and "Traceback" not in err and time.monotonic() - began < 10
