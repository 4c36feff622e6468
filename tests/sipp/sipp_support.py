"""SIPp and `mspl-lite serve` as child processes, for tests/test_serve_sipp.py and bench/bench_serve.py.

Everything binds 127.0.0.1 only, at free ports; every process is started here, stopped by its PID
(never by name) and waited for with a timeout, so a hung tool fails a test instead of hanging it.

    with ServeProcess(["--app", app], contacts={"sip:nuriag@contoso.com": uas_port}, trace_dir=d) as fe:
        uas = Sipp.start("uas-call.xml", port=uas_port, keys={"party": "nuriag"})
        uac = Sipp.start("uac-call.xml", remote=fe.address, service="jennyl", ...)
        assert uac.wait() == 0

SIPp's exit status (sipp(1)): 0 every call succeeded, 1 at least one failed, 97 stopped by a
command, 99 ended without a call, 255 a fatal error (a scenario it cannot read, a port in use).
"""
from __future__ import annotations

import csv
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SIPP = shutil.which("sipp") or "/usr/bin/sipp"
LOOPBACK = "127.0.0.1"
DOMAIN = "contoso.com"

#: A test's SIPp runs one call of a few hundred milliseconds (a retransmission test waits 500 ms
#: more); 20 s is far beyond that on a loaded 2-core machine, yet ends a hung call.
SIPP_TIMEOUT_S = 20
#: The server is up in well under a second here; 30 s leaves room for a loaded CI machine.
SERVE_START_TIMEOUT_S = 30
#: SIGINT, then this long for the server to close its sockets and exit 0, then SIGKILL.
STOP_TIMEOUT_S = 10


def sipp_missing() -> str | None:
    """Why the SIPp tests cannot run here, or None."""
    if not (Path(SIPP).is_file() and os.access(SIPP, os.X_OK)):
        return ("SIPp is not installed: the real SIP tests need Debian's sip-tester "
                "(`apt-get install sip-tester`, as root; .ci/run installs it)")
    return None


#: Ports handed out by free_port in this process: never handed out twice.
_GIVEN: set[int] = set()


def _ephemeral_low() -> int:
    """The first port of the range the OS picks from for a bind to port 0 (Linux: ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152     # the IANA dynamic port range, where other systems pick from


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 now, below the OS's ephemeral range.

    Not one the OS picks (bind to port 0): the server under test binds port 0 after a test chose
    its parties' ports, and the OS may hand it the port just freed, so SIPp then fails with
    "Address already in use" (seen here). A port outside that range is never given to a bind to 0."""
    import random

    low = _ephemeral_low()
    start = 20000 if low > 21000 else 1024
    for _ in range(200):
        port = random.randrange(start, low)
        if port in _GIVEN:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                udp.bind((LOOPBACK, port))
                tcp.bind((LOOPBACK, port))
        except OSError:
            continue
        _GIVEN.add(port)
        return port
    raise RuntimeError("no free port on 127.0.0.1")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Stop one child by its PID: `sig`, a grace period, then SIGKILL. Its exit status."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=STOP_TIMEOUT_S)
    return proc.returncode


@dataclass
class Sipp:
    """One SIPp process on 127.0.0.1; its logs go to `workdir`."""

    proc: subprocess.Popen
    name: str
    workdir: Path
    args: list[str]

    #: Every SIPp started (so that a test's teardown can stop the ones it left running).
    started: ClassVar[list["Sipp"]] = []

    @classmethod
    def start(cls, scenario: str, *, workdir: Path, port: int | None = None, remote: str | None = None,
              service: str | None = None, keys: dict[str, str] | None = None,
              sets: dict[str, str] | None = None, calls: int | None = 1, rate: float | None = None,
              extra: list[str] = (), name: str | None = None, timeout_s: float = SIPP_TIMEOUT_S,
              message_log: bool = True) -> "Sipp":
        """Start SIPp with `scenario`: a file of tests/sipp/ (``uac-call.xml``) or a built-in (``-sn uas``).

        ``remote`` is HOST:PORT to call (a UAC); ``calls`` is -m (None: run until stopped);
        ``timeout_s`` becomes SIPp's own -timeout, so SIPp ends itself even if the test forgets;
        ``message_log`` False keeps only the error log (a benchmark's thousands of calls)."""
        name = name or Path(scenario.split()[-1]).stem
        workdir.mkdir(parents=True, exist_ok=True)
        port = port if port is not None else free_port()
        args = [SIPP]
        if remote:
            args.append(remote)
        if scenario.startswith("-sn "):
            args += scenario.split()
        else:
            args += ["-sf", str(HERE / scenario)]
        args += ["-i", LOOPBACK, "-p", str(port), "-nostdin", "-timeout", f"{int(timeout_s)}s",
                 "-trace_err", "-error_file", str(workdir / f"{name}-errors.log")]
        if message_log:
            args += ["-trace_logs", "-log_file", str(workdir / f"{name}-logs.log"),
                     "-trace_msg", "-message_file", str(workdir / f"{name}-messages.log")]
        if service:
            args += ["-s", service]
        if calls is not None:
            args += ["-m", str(calls)]
        if rate is not None:
            args += ["-r", str(rate)]
        for key, value in (keys or {}).items():
            args += ["-key", key, value]
        for var, value in (sets or {}).items():
            args += ["-set", var, value]
        args += list(extra)
        with open(workdir / f"{name}-stderr.txt", "wb") as stderr:    # the child keeps its own copy
            proc = subprocess.Popen(args, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr)
        party = cls(proc, name, workdir, args)
        cls.started.append(party)
        return party

    def wait(self, timeout_s: float = SIPP_TIMEOUT_S + 5) -> int:
        """SIPp's exit status; stopped by PID (and the status then says so) if it outlives the timeout."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return _stop(self.proc)

    def stop(self) -> int:
        return _stop(self.proc)

    def running(self) -> bool:
        return self.proc.poll() is None

    def log(self, what: str = "logs") -> str:
        """One of SIPp's logs: "logs" (the scenarios' <log> lines), "errors", "messages", "stderr"."""
        path = self.workdir / (f"{self.name}-stderr.txt" if what == "stderr" else f"{self.name}-{what}.log")
        return path.read_text(errors="replace") if path.exists() else ""

    def received(self) -> list[str]:
        """The first line of every SIP message this SIPp received (from its message log)."""
        lines, text = [], self.log("messages")
        for block in re.split(r"^-{20,}.*$", text, flags=re.M):
            if "message received" in block and "lost" not in block.split("\n", 1)[0]:
                body = block.split(":\n", 1)[-1].lstrip("\n")
                lines.append(body.split("\n", 1)[0].strip())
        return lines

    def explain(self) -> str:
        """What to show when a SIPp run did not end as expected."""
        return (f"{self.name}: exit {self.proc.returncode}\n$ {' '.join(self.args)}\n"
                f"--- errors ---\n{self.log('errors')[-3000:]}\n--- stderr ---\n{self.log('stderr')[-2000:]}")


@dataclass
class ServeProcess:
    """`mspl-lite serve` as a child process on 127.0.0.1 at a port it picks itself (--listen ...:0)."""

    args: list[str]
    contacts: dict[str, int] = field(default_factory=dict)
    trace_dir: Path | None = None
    proc: subprocess.Popen | None = None
    address: str = ""
    output: list[str] = field(default_factory=list)

    def __enter__(self) -> "ServeProcess":
        cmd = [sys.executable, "-m", "mspl_lite.cli", "serve", *self.args, "--listen", f"{LOOPBACK}:0"]
        for user, port in self.contacts.items():
            cmd += ["--contact", f"{user}={LOOPBACK}:{port}"]
        if self.trace_dir is not None:
            cmd += ["--trace-dir", str(self.trace_dir)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        deadline = time.monotonic() + SERVE_START_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.output.append(line.rstrip("\n"))
                found = re.search(r"listening on (\S+?:\d+)", line)
                if found:
                    self.address = found.group(1)
                    return self
            elif self.proc.poll() is not None:
                break
        _stop(self.proc, signal.SIGINT)
        raise RuntimeError(f"mspl-lite serve did not start: {' '.join(cmd)}\n" + "\n".join(self.output))

    def stop(self) -> int:
        """SIGINT by PID (the server's documented way to end); its exit status."""
        status = _stop(self.proc, signal.SIGINT)
        rest = self.proc.stdout.read() if self.proc.stdout else ""
        self.output += rest.splitlines()
        self.proc.stdout.close()
        return status

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.stop()

    def traces(self) -> list[dict]:
        """The JSON traces in --trace-dir, in the order the server numbered them."""
        if self.trace_dir is None:
            return []
        return [json.loads(p.read_text()) for p in sorted(self.trace_dir.glob("*.json"))]


def call_stats(stat_file: Path) -> tuple[int, int]:
    """(successful, failed) calls from the last line of SIPp's -trace_stat CSV (cumulative columns)."""
    with open(stat_file, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, last = rows[0], rows[-1]
    return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])
