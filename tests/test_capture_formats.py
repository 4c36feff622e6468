"""mspl_lite.capture reads every capture format issue 13 names, message for message.

The fixtures in tests/data/captures are built by tools/make_captures.py: hand-built ones from the
same IM session (so each format must give back exactly the messages that were put in), and real
ones that tcpdump and dumpcap recorded while SIPp ran calls over loopback.
"""
from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from mspl_lite.capture import CapturedMessage, read_capture
from mspl_lite.errors import UsageError
from mspl_lite.sip import parse_message

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "captures"
SAMPLES = ROOT / "mspl_lite" / "data" / "captures"


def _generator():
    spec = importlib.util.spec_from_file_location("make_captures", ROOT / "tools" / "make_captures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_captures", module)
    spec.loader.exec_module(module)
    return module


gen = _generator()
SESSION = gen.im_session()
UDP_SESSION = [(s, d, m.replace(b"/TCP ", b"/UDP ")) for s, d, m in gen.im_session(transport="UDP")]


def read(name: str):
    cap = read_capture(DATA / name)
    return cap, list(cap)


def endpoint(side: tuple) -> str:
    host, port = side
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@pytest.mark.parametrize("name", ["udp-session.pcap", "udp-session-be-nano.pcap", "two-interfaces.pcapng",
                                  "two-interfaces-be.pcapng"])
def test_udp_captures_give_back_every_message_with_its_addresses(name):
    cap, messages = read(name)
    assert [m.data for m in messages] == [m for _s, _d, m in UDP_SESSION]
    assert [(m.src, m.dst) for m in messages] == [(endpoint(s), endpoint(d)) for s, d, _m in UDP_SESSION]
    assert [m.index for m in messages] == list(range(len(UDP_SESSION)))
    assert {m.transport for m in messages} == {"UDP"}
    assert cap.stats.sip_messages == cap.stats.packets == len(UDP_SESSION)
    assert not cap.stats.diagnostics
    assert messages[3].where == f"{DATA / name}: packet 4"      # numbered from 1, as Wireshark does


def test_format_is_sniffed_from_the_content_not_the_name(tmp_path):
    renamed = tmp_path / "capture.log"
    renamed.write_bytes((DATA / "two-interfaces.pcapng").read_bytes())
    assert read_capture(renamed).format == "pcapng"
    assert read_capture(DATA / "udp-session.pcap").format == "pcap"
    assert read_capture(DATA / "sipstack.log").format == "lync-log"
    assert read_capture(DATA / "uccapi.log").format == "uccapi-log"
    assert read_capture(DATA / "sip-folder").format == "sip-folder"
    assert read_capture(DATA / "one.sip").format == "sip-file"


def test_times_follow_each_file_and_interface_resolution():
    _cap, micro = read("udp-session.pcap")
    assert micro[0].time == pytest.approx(gen.T0)
    assert micro[1].time == pytest.approx(gen.T0 + 0.01)
    _cap, nano = read("udp-session-be-nano.pcap")       # big-endian, nanosecond magic
    assert nano[0].time == pytest.approx(gen.T0 + 123e-9, abs=1e-9)
    _cap, both = read("two-interfaces.pcapng")          # interface 1 has if_tsresol 9 (nanoseconds)
    assert [round(m.time - gen.T0, 6) for m in both[:4]] == [0.0, 0.01, 0.02, 0.03]


def test_pcapng_interfaces_keep_their_own_link_types():
    cap, messages = read("two-interfaces.pcapng")
    assert cap.stats.link_types == {"Ethernet": 5, "Linux cooked (SLL)": 5}
    assert len(messages) == 10


def test_simple_packet_blocks_are_read_without_times():
    cap, messages = read("simple-blocks.pcapng")
    assert [m.data for m in messages] == [m for _s, _d, m in UDP_SESSION[:3]]
    assert {m.time for m in messages} == {None}


@pytest.mark.parametrize("name,link", [("vlan.pcap", "Ethernet"), ("sll.pcap", "Linux cooked (SLL)"),
                                       ("null-loopback.pcap", "NULL (BSD loopback)"), ("raw-ip.pcap", "raw IP")])
def test_link_types(name, link):
    cap, messages = read(name)
    assert [m.data for m in messages] == [m for _s, _d, m in UDP_SESSION[:3]]
    assert cap.stats.link_types == {link: 3}


def test_linux_cooked_v2_over_tcp():
    cap, messages = read("sll2.pcap")
    assert [m.data for m in messages] == [m for _s, _d, m in SESSION[:4]]
    assert cap.stats.link_types == {"Linux cooked v2 (SLL2)": 8}


def test_ipv6_with_an_extension_header_and_over_tcp():
    cap, messages = read("ipv6.pcap")
    assert [m.data for m in messages] == [gen.options(1), gen.options(2)] + [m for _s, _d, m in SESSION[:2]]
    assert messages[0].src == "[2001:db8::31]:50250"      # its hop-by-hop header was walked over
    assert messages[0].dst == "[2001:db8::10]:5060"
    assert [m.transport for m in messages] == ["UDP", "UDP", "TCP", "TCP"]


# Frame numbers of the SIP messages in the real captures as Wireshark's own dissector finds them:
# `tshark -r FILE -Y sip -T fields -e frame.number` (tshark 4.4, run when the captures were made;
# `tools/make_captures.py --real` records new calls, so update these after running it).
TSHARK_SIP_FRAMES = {
    "sipp-udp.pcap": list(range(1, 19)),
    "sipp-tcp-any.pcap": [4, 6, 8, 10, 12, 14, 15, 17, 18, 20, 22, 23, 25, 27, 28, 30, 32, 33],
    "sipp-tcp.pcapng": [4, 6, 8, 10, 12, 14, 15, 17, 18, 20, 22, 23, 25, 27, 28, 30, 32, 33],
}


@pytest.mark.parametrize("name,link,transport", [("sipp-udp.pcap", "Ethernet", "UDP"),
                                                 ("sipp-tcp-any.pcap", "Linux cooked v2 (SLL2)", "TCP"),
                                                 ("sipp-tcp.pcapng", "Ethernet", "TCP")])
def test_real_sipp_captures(name, link, transport):
    """tcpdump (lo: Ethernet; any: Linux cooked v2, nanoseconds) and dumpcap (pcapng), SIPp on random ports."""
    cap, messages = read(name)
    parsed = [parse_message(m.data, filename=m.where) for m in messages]
    starts = Counter(str(getattr(p, "method", None) or p.status_code) for p in parsed)
    assert starts == {"INVITE": 3, "180": 3, "200": 6, "ACK": 3, "BYE": 3}      # three calls, overlapping
    assert [int(m.where.rsplit(" ", 1)[1]) for m in messages] == TSHARK_SIP_FRAMES[name]
    assert list(cap.stats.link_types) == [link]
    assert {m.transport for m in messages} == {transport}
    assert not cap.stats.diagnostics
    assert all(m.src.startswith("127.0.0.1:") and not m.src.endswith(":5060") for m in messages)   # SIP on any port
    assert messages[0].time > 1.7e9 and messages[-1].time >= messages[0].time


def test_sip_folder_is_read_in_name_order_and_counts_other_files():
    cap, messages = read("sip-folder")
    assert [m.data for m in messages] == [m for _s, _d, m in SESSION[:3]]
    assert [Path(m.path).name for m in messages] == ["001.sip", "002.sip", "003.sip"]
    assert {m.transport for m in messages} == {"file"} and {m.line for m in messages} == {1}
    assert cap.stats.non_sip == 1                     # README.txt


def test_a_single_sip_file():
    cap, messages = read("one.sip")
    assert [m.data for m in messages] == [SESSION[0][2]]
    assert messages[0].where.endswith("one.sip")


def test_a_capture_is_read_once():
    cap = read_capture(DATA / "udp-session.pcap")
    list(cap)
    with pytest.raises(UsageError):
        iter(cap)


def test_captured_message_is_the_documented_record():
    _cap, messages = read("udp-session.pcap")
    m = messages[0]
    assert isinstance(m, CapturedMessage)
    assert (m.transport, m.direction, m.line, m.path) == ("UDP", None, None, str(DATA / "udp-session.pcap"))


def test_shipped_samples_hold_an_im_session_and_a_call_answered_500_by_the_application_pool():
    cap = read_capture(SAMPLES / "frontend-session.pcapng")
    messages = list(cap)
    parsed = [parse_message(m.data, filename=m.where) for m in messages]
    assert not cap.stats.diagnostics
    assert [getattr(p, "method", None) or p.status_code for p in parsed][:5] == ["INVITE", 100, "INVITE", 200, 200]
    errors = [p for p in parsed if getattr(p, "status_code", 0) == 500]
    assert len(errors) == 2 and "apppool01.contoso.com" in errors[0].get("Ms-Diagnostics")
    log = read_capture(SAMPLES / "frontend-session-sipstack.log")
    logged = list(log)
    assert not log.stats.diagnostics
    # The Front End's log shows every message the Front End sent or received, in the same order.
    assert [m.data for m in logged] == [m.data for m in messages]
    assert {m.direction for m in logged} == {"incoming", "outgoing"}


@pytest.mark.parametrize("big,nano", [(False, True), (True, False)])
def test_pcap_in_the_other_byte_order_and_resolution(tmp_path, big, nano):
    path = tmp_path / "x.pcap"
    gen.write_pcap(path, 1, gen.timed([gen.udp_frame(s, d, m) for s, d, m in UDP_SESSION[:2]], gen.T0 + 0.5),
                   big=big, nano=nano)
    messages = list(read_capture(path))
    assert [m.data for m in messages] == [m for _s, _d, m in UDP_SESSION[:2]]
    assert messages[0].time == pytest.approx(gen.T0 + 0.5)


def test_two_pcapng_sections_of_either_byte_order_in_one_file(tmp_path):
    """`cat a.pcapng b.pcapng` is a valid pcapng: each section has its own byte order and interfaces."""
    path = tmp_path / "both.pcapng"
    path.write_bytes((DATA / "two-interfaces.pcapng").read_bytes() + (DATA / "two-interfaces-be.pcapng").read_bytes())
    cap = read_capture(path)
    assert [m.data for m in cap] == [m for _s, _d, m in UDP_SESSION] * 2
    assert cap.stats.link_types == {"Ethernet": 10, "Linux cooked (SLL)": 10}


def test_openbsd_loopback_raw_ipv6_and_an_ipv6_fragment(tmp_path):
    v6a, v6b = ("2001:db8::31", 50250), ("2001:db8::10", 5060)
    udp6 = gen.ipv6(v6a[0], v6b[0], 17, gen.udp(v6a[1], v6b[1], gen.options(3)))
    loop = tmp_path / "loop.pcap"
    gen.write_pcap(loop, 108, gen.timed([b"\x00\x00\x00\x18" + udp6]))          # AF_INET6 24, network order
    assert [m.src for m in read_capture(loop)] == ["[2001:db8::31]:50250"]
    raw6 = tmp_path / "raw6.pcap"
    gen.write_pcap(raw6, 229, gen.timed([udp6]))
    assert [m.data for m in read_capture(raw6)] == [gen.options(3)]
    fragment = bytes([17, 0]) + (8 << 3 | 1).to_bytes(2, "big") + b"\x00\x00\x00\x2a"   # offset 8, more to come
    frag = tmp_path / "frag6.pcap"
    gen.write_pcap(frag, 229, gen.timed([gen.ipv6(v6a[0], v6b[0], 17, b"\x00" * 24, fragment, first=44)]))
    cap = read_capture(frag)
    assert list(cap) == [] and cap.stats.fragments == cap.stats.fragments_lost == 1


def test_a_large_invite_in_ipv4_and_ipv6_fragments_is_put_back_together():
    cap, messages = read("udp-fragmented.pcap")
    assert [m.data for m in messages] == [gen.big_invite()] * 2
    assert len(gen.big_invite()) > 3000
    assert messages[0].where.endswith(": packets 1-3") and messages[1].src == "[2001:db8::31]:50250"
    assert cap.stats.fragments == cap.stats.packets and not cap.stats.diagnostics


def test_a_udp_datagram_holds_one_message_and_its_keepalives_are_counted(tmp_path):
    path = tmp_path / "ka.pcap"
    frames = [gen.udp_frame(gen.CLIENT, gen.FRONT_END, b"\r\n\r\n"), gen.udp_frame(gen.CLIENT, gen.FRONT_END, b"\r\n"),
              gen.udp_frame(gen.CLIENT, gen.FRONT_END, gen.options(1))]
    gen.write_pcap(path, 1, gen.timed(frames))
    cap = read_capture(path)
    assert [m.data for m in cap] == [gen.options(1)]
    assert cap.stats.keepalives == 2 and cap.stats.non_sip == 0


def test_the_fixtures_and_samples_stay_small():
    """Committed captures are test data, not archives: the fixture folder under 300 KB, the samples 64 KB."""
    assert sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file()) < 300_000
    assert sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file()) < 64_000
