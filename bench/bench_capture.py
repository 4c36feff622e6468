"""Read speed of mspl_lite.capture against dpkt's raw packet iteration, on the same files in one run.

    .venv/bin/python bench/bench_capture.py [--packets 100000] [--repeats 3]

Captures are generated in a temporary folder with tools/make_captures.py's builders:

* ``udp``: PACKETS SIP messages over UDP (the IM session of the fixtures, repeated), as pcap and pcapng;
* ``tcp``: the same messages over TCP, each cut into 300-byte segments (reassembly and framing);
* ``non-sip``: 10 x PACKETS DNS packets (nothing to yield: the cost of skipping).

For each file: dpkt's ``pcap.Reader`` / ``pcapng.Reader`` iterating raw packets (dpkt decodes nothing
here), our record reader (``capture.pcap.records``: the same work), and our whole pipeline
(``read_capture``: link, IP, UDP/TCP, reassembly, SIP framing). Ratios are ours / dpkt's time: the
price of reading the file ourselves (decision D103), and the price of everything after it.
Each figure is the best of ``--repeats`` runs (time.perf_counter).
"""
from __future__ import annotations

import argparse
import importlib.util
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mspl_lite.capture import Capture, read_capture  # noqa: E402
from mspl_lite.capture.pcap import records  # noqa: E402

try:
    import dpkt
except ImportError:  # pragma: no cover - the bench needs its baseline
    sys.exit("dpkt is not installed: .venv/bin/pip install -r requirements-test.txt")


def _generator():
    spec = importlib.util.spec_from_file_location("make_captures", ROOT / "tools" / "make_captures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator()


def build(folder: Path, packets: int) -> dict[str, tuple[Path, str, int]]:
    """name -> (path, pcap kind, SIP messages in it)."""
    udp_flow = [(s, d, m.replace(b"/TCP ", b"/UDP ")) for s, d, m in gen.im_session(transport="UDP")]
    frames = [gen.udp_frame(s, d, m) for s, d, m in udp_flow]
    timed = [(gen.T0 + i * 0.001, frames[i % len(frames)]) for i in range(packets)]
    out = {}
    gen.write_pcap(folder / "udp.pcap", 1, timed)
    out["udp pcap"] = (folder / "udp.pcap", "pcap", packets)
    gen.write_pcapng(folder / "udp.pcapng", [(1, None)], [(0, t, f) for t, f in timed])
    out["udp pcapng"] = (folder / "udp.pcapng", "pcapng", packets)
    session = gen.im_session()
    rounds = max(1, packets // len(session))
    flow = [(s, d, m) for _ in range(rounds) for s, d, m in session]
    tcp_frames = gen.over_tcp(flow, split=300)
    gen.write_pcap(folder / "tcp.pcap", 1, gen.timed(tcp_frames, step=0.0001))
    out["tcp pcap"] = (folder / "tcp.pcap", "pcap", len(flow))
    dns = gen.udp_frame(("192.0.2.31", 53000), ("192.0.2.53", 53), b"\x12\x34\x01\x00\x00\x01" + b"\x00" * 30)
    record = struct.pack("<IIII", int(gen.T0), 0, len(dns), len(dns)) + dns
    with open(folder / "dns.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for _ in range(10):
            f.write(record * packets)
    out["non-sip pcap"] = (folder / "dns.pcap", "pcap", 0)
    return out


def best(fn, repeats: int) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def dpkt_raw(path: Path, kind: str) -> int:
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f) if kind == "pcap" else dpkt.pcapng.Reader(f)
        return sum(1 for _ in reader)


def ours_raw(path: Path, kind: str) -> int:
    cap = Capture(str(path), str(path), kind, lambda c: iter(()))
    with open(path, "rb", buffering=0) as f:
        return sum(1 for _ in records(cap, f, kind))


def ours_messages(path: Path) -> int:
    return sum(1 for _ in read_capture(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        files = build(Path(tmp), args.packets)
        print(f"{'capture':14s} {'packets':>9s} {'dpkt raw':>10s} {'ours raw':>10s} {'ours SIP':>10s} "
              f"{'raw/dpkt':>9s} {'SIP/dpkt':>9s} {'SIP msgs/s':>11s}")
        for name, (path, kind, expected) in files.items():
            t_dpkt, n_dpkt = best(lambda: dpkt_raw(path, kind), args.repeats)
            t_raw, n_raw = best(lambda: ours_raw(path, kind), args.repeats)
            t_sip, n_sip = best(lambda: ours_messages(path), args.repeats)
            assert n_raw == n_dpkt, f"{name}: {n_raw} records, dpkt {n_dpkt}"
            assert n_sip == expected, f"{name}: {n_sip} messages, expected {expected}"
            rate = f"{n_sip / t_sip:11.0f}" if n_sip else f"{'-':>11s}"
            print(f"{name:14s} {n_dpkt:9d} {t_dpkt:9.3f}s {t_raw:9.3f}s {t_sip:9.3f}s "
                  f"{t_raw / t_dpkt:9.2f} {t_sip / t_dpkt:9.2f} {rate}")
        print("raw/dpkt: our record reader against dpkt's on the same file; SIP/dpkt: our whole pipeline "
              "(decoding, reassembly, framing) against dpkt's raw iteration, which decodes nothing.")


if __name__ == "__main__":
    main()
