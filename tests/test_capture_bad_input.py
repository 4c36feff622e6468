"""Bad captures get a count or a located diagnostic: never a traceback, a hang or unbounded memory."""
from __future__ import annotations

import os
import random
import struct
import time
import tracemalloc

import pytest

from mspl_lite.capture import MAX_DIAGNOSTICS, CaptureError, read_capture
from mspl_lite.capture.pcap import MAX_RECORD
from mspl_lite.errors import InputError
from test_capture_formats import DATA, UDP_SESSION, gen, read


@pytest.mark.parametrize("name,looks", [
    ("not-a-capture.json", "this is a JSON file, not a capture"),
    ("not-a-capture.html", "this is an HTML page, not a capture"),
    ("not-a-capture.gz", "this is a gzip archive, not a capture"),
    ("not-a-capture.txt", "this is a text file with no SIP message"),
])
def test_a_file_that_is_no_capture_says_what_it_looks_like(name, looks):
    with pytest.raises(CaptureError) as err:
        read_capture(DATA / name)
    assert err.value.first.message.startswith(looks)
    assert err.value.first.hint


@pytest.mark.parametrize("content,looks,todo", [
    (b"", "the capture is an empty file", "pcap"),
    (b"PK\x03\x04" + b"\x00" * 40, "a zip archive", "unzip it"),
    (b"\x1f\x8b\x08" + b"\x00" * 40, "a gzip archive", "gunzip it first"),
    (b"GMBU\x00\x02" + b"\x00" * 40, "a Microsoft Network Monitor capture", "pcapng"),
    (b"\x7fELF" + b"\x00" * 40, "a program", "capture or log"),
    (bytes(range(256)) * 4, "a binary file that is neither a pcap nor a pcapng capture", ".etl"),
    (b'<?xml version="1.0"?>\n<lc:applicationManifest/>', "an XML file (an application manifest?", "replay"),
])
def test_more_lookalikes(tmp_path, content, looks, todo):
    path = tmp_path / "capture.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as err:
        read_capture(path)
    assert looks in err.value.first.message and todo in err.value.first.hint


def test_paths_that_are_no_file(tmp_path):
    with pytest.raises(CaptureError, match="no such file"):
        read_capture(tmp_path / "missing.pcap")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaptureError, match="holds no .sip file"):
        read_capture(tmp_path / "empty")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(CaptureError, match="not a regular file"):
        read_capture(fifo)                              # refused at once: never blocks


def test_a_truncated_pcap_keeps_what_is_there():
    cap, messages = read("truncated.pcap")
    assert [m.data for m in messages] == [m for _s, _d, m in UDP_SESSION[:9]]
    [d] = cap.stats.diagnostics
    assert d.code == "truncated-capture" and "inside packet 10" in d.message and "141 of its 291 bytes" in d.message
    assert cap.stats.truncated == 1


def test_a_damaged_record_length_stops_reading_with_an_error():
    cap, messages = read("damaged.pcap")
    assert messages == []
    [d] = cap.stats.diagnostics
    assert d.severity == "error" and d.code == "damaged-capture" and str(MAX_RECORD) in d.message


def test_pcapng_cut_and_damaged(tmp_path):
    whole = (DATA / "two-interfaces.pcapng").read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(whole[:-100])
    cap = read_capture(cut)
    assert len(list(cap)) == 9 and [d.code for d in cap.stats.diagnostics] == ["truncated-capture"]
    bad = bytearray(whole)
    bad[-4:] = b"\x00\x00\x00\x00"                    # fine: the trailing length is not trusted
    first_epb = whole.index(b"\x06\x00\x00\x00")
    bad[first_epb + 4:first_epb + 8] = struct.pack("<I", 7)    # a block length that is no multiple of 4
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes(bytes(bad))
    cap = read_capture(damaged)
    assert list(cap) == [] and [d.code for d in cap.stats.diagnostics] == ["damaged-capture"]


def test_a_packet_naming_an_interface_that_was_never_described(tmp_path):
    path = tmp_path / "iface.pcapng"
    gen.write_pcapng(path, [(1, None)], [(0, gen.T0, gen.udp_frame(*UDP_SESSION[0])),
                                         (3, gen.T0, gen.udp_frame(*UDP_SESSION[1]))])
    cap = read_capture(path)
    assert len(list(cap)) == 1
    assert [d.code for d in cap.stats.diagnostics] == ["damaged-packet"]


def test_non_sip_fragments_keepalives_and_unknown_links_are_counted():
    cap, messages = read("mixed.pcap")
    assert [m.data for m in messages] == [gen.options(7), UDP_SESSION[0][2]]      # two fragments put together
    assert messages[0].where.endswith(": packets 3-4")
    assert (cap.stats.non_sip, cap.stats.fragments, cap.stats.keepalives) == (3, 2, 1)   # ARP, DNS, HTTP
    assert not cap.stats.diagnostics
    cap, messages = read("unknown-link.pcap")
    assert cap.stats.unsupported == 1 and [d.code for d in cap.stats.diagnostics] == ["link-type"]


def test_diagnostics_are_bounded_and_the_rest_counted(tmp_path):
    frame = gen.ether(b"\x45" + b"\x00" * 10)           # an IPv4 header cut short, 1,000 times
    path = tmp_path / "bad.pcap"
    gen.write_pcap(path, 1, [(gen.T0, frame)] * 1000)
    cap = read_capture(path)
    assert list(cap) == []
    assert len(cap.stats.diagnostics) == MAX_DIAGNOSTICS
    assert cap.stats.diagnostics_dropped == 1000 - MAX_DIAGNOSTICS
    assert cap.stats.malformed == 1000


def _peak(fn):
    tracemalloc.start()
    try:
        started = time.perf_counter()
        result = fn()
        return result, tracemalloc.get_traced_memory()[1], time.perf_counter() - started
    finally:
        tracemalloc.stop()


def test_a_2_gb_capture_streams_in_bounded_memory(tmp_path):
    """A sparse 2 GiB pcap of full-size records (the holes read as zeros): memory stays a few MiB."""
    path = tmp_path / "huge.pcap"
    record = 16 + MAX_RECORD
    count = (2 << 30) // record
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_RECORD, 1))
        head = struct.pack("<IIII", int(gen.T0), 0, MAX_RECORD, MAX_RECORD)
        for i in range(count):
            f.seek(24 + i * record)
            f.write(head)
        f.truncate(24 + count * record)
    assert path.stat().st_size > 2_000_000_000
    cap = read_capture(path)
    (messages, peak, seconds) = _peak(lambda: sum(1 for _ in cap))
    print(f"\n2 GiB sparse pcap: {count} packets read in {seconds:.1f} s, peak {peak / 2**20:.1f} MiB traced")
    assert messages == 0 and cap.stats.packets == count and cap.stats.non_sip == count
    assert peak < 16 << 20


_COUNT_IN_A_CHILD = """
import resource, sys, time
from mspl_lite.capture import read_capture
started = time.perf_counter()
cap = read_capture(sys.argv[1])
n = sum(1 for _ in cap)
print(n, cap.stats.packets, cap.stats.non_sip, len(cap.stats.diagnostics), time.perf_counter() - started,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _count_in_a_child(path):
    """Read ``path`` in a fresh interpreter: (messages, packets, non-SIP, diagnostics, seconds, peak RSS KiB).
    (tracemalloc would make a million packets ten times slower; a child's peak RSS is exact enough.)"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _COUNT_IN_A_CHILD, str(path)], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    return [int(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4]), int(out[5])]


def test_a_million_non_sip_packets_are_counted_in_bounded_memory(tmp_path):
    frame = gen.udp_frame(("192.0.2.31", 53000), ("192.0.2.53", 53), b"\x12\x34\x01\x00\x00\x01" + b"\x00" * 30)
    record = struct.pack("<IIII", int(gen.T0), 0, len(frame), len(frame)) + frame
    path = tmp_path / "dns.pcap"
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        block = record * 10_000
        for _ in range(100):
            f.write(block)
    messages, packets, non_sip, diagnostics, seconds, rss = _count_in_a_child(path)
    *_x, small_rss = _count_in_a_child(DATA / "udp-session.pcap")
    print(f"\n10^6 non-SIP packets ({path.stat().st_size >> 20} MiB): {seconds:.1f} s, "
          f"{packets / seconds / 1000:.0f} k packets/s; peak RSS {rss >> 10} MiB against {small_rss >> 10} MiB "
          "for a 10-packet capture")
    assert (messages, packets, non_sip, diagnostics) == (0, 1_000_000, 1_000_000, 0)
    assert rss - small_rss < 32 << 10            # KiB: the 77 MiB file is never held


def test_a_huge_log_line_streams_in_bounded_memory(tmp_path):
    """A log whose first records are fine, then 256 MiB without a line end (a sparse hole)."""
    path = tmp_path / "huge.log"
    head = (DATA / "sipstack.log").read_bytes()
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + (256 << 20))
    cap = read_capture(path)
    (messages, peak, _seconds) = _peak(lambda: sum(1 for _ in cap))
    assert messages == 14
    assert "long-line" in [d.code for d in cap.stats.diagnostics]
    assert peak < 16 << 20


def test_mutated_captures_never_escape_the_error_contract():
    """Random bytes flipped in every fixture: reading ends with messages, counts and diagnostics, or a
    CaptureError; never another exception."""
    rng = random.Random(13)
    files = sorted(p for p in DATA.iterdir() if p.is_file() and p.suffix in (".pcap", ".pcapng", ".log"))
    for path in files:
        original = path.read_bytes()
        for _ in range(12):
            data = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(data))
                data[at] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[:rng.randrange(len(data))]
            target = _scratch(path.suffix)
            target.write_bytes(bytes(data))
            try:
                cap = read_capture(target)
                for m in cap:
                    assert isinstance(m.data, bytes) and m.data
            except InputError:
                pass


_SCRATCH: list = []


def _scratch(suffix: str):
    import tempfile
    from pathlib import Path

    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="mspl-capture-fuzz-")))
    return _SCRATCH[0] / f"mutated{suffix}"


@pytest.mark.parametrize("kind,body", [(6, b"\x00" * 8), (2, b"\x00" * 4), (3, b"")])
def test_pcapng_packet_blocks_too_short_for_their_fields(tmp_path, kind, body):
    shb = gen._block("<", 0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = gen._block("<", 1, struct.pack("<HHI", 1, 0, 0))
    good = gen._block("<", 6, struct.pack("<IIIII", 0, 0, 0, 0, 0) + b"")
    frame = gen.udp_frame(*UDP_SESSION[0])
    whole = gen._block("<", 6, struct.pack("<IIIII", 0, 0, 0, len(frame), len(frame)) + frame)
    path = tmp_path / "short.pcapng"
    path.write_bytes(shb + idb + gen._block("<", kind, body) + good + whole)
    cap = read_capture(path)
    assert [m.data for m in cap] == [UDP_SESSION[0][2]]          # the packets after the damage are read
    assert "damaged-packet" in [d.code for d in cap.stats.diagnostics]


def test_fragments_of_a_datagram_never_completed_are_counted_once(tmp_path):
    pieces = gen.ipv4_fragments("192.0.2.31", "192.0.2.10", 17, gen.udp(50250, 5060, gen.big_invite()), ident=9)
    path = tmp_path / "lost.pcap"
    gen.write_pcap(path, 1, gen.timed([gen.ether(p) for p in pieces[:-1]] * 3))     # the last piece never came
    cap = read_capture(path)
    assert list(cap) == []
    assert cap.stats.fragments == cap.stats.fragments_lost == 3 * (len(pieces) - 1)     # every piece seen
    [d] = cap.stats.diagnostics
    assert d.code == "ip-fragment" and "packet 1" in d.message
