"""SIP over TCP in captures: stream reassembly and Content-Length framing (mspl_lite/capture/stream.py)."""
from __future__ import annotations

import pytest

from mspl_lite.capture import read_capture, stream
from test_capture_formats import DATA, SESSION, endpoint, gen, read

CLIENT, FE = gen.CLIENT, gen.FRONT_END


def per_direction(messages):
    out: dict[tuple, list[bytes]] = {}
    for m in messages:
        out.setdefault((m.src, m.dst), []).append(m.data)
    return out


EXPECTED = per_direction(type("M", (), {"src": endpoint(s), "dst": endpoint(d), "data": m})() for s, d, m in SESSION)


@pytest.mark.parametrize("name", ["tcp-session.pcap", "tcp-split.pcap", "tcp-coalesced.pcap",
                                  "tcp-out-of-order.pcap"])
def test_every_message_comes_back_whole_and_in_stream_order(name):
    cap, messages = read(name)
    assert per_direction(messages) == EXPECTED
    assert [m for m in cap.stats.diagnostics if m.severity != "note"] == []
    assert {m.transport for m in messages} == {"TCP"}


def test_one_message_over_several_segments_names_all_its_packets():
    cap, messages = read("tcp-split.pcap")
    assert cap.stats.reassembled == 10                 # every message is longer than one 200-byte segment
    assert messages[0].where.endswith(": packets 3-5")
    assert messages[0].time == pytest.approx(gen.T0 + 0.02)     # the time of its first segment


def test_several_messages_in_one_segment_are_split_by_content_length():
    cap, messages = read("tcp-coalesced.pcap")
    assert len(messages) == 10 and cap.stats.packets == 8
    client_side = [m for m in messages if m.src == endpoint(CLIENT)]
    assert len({m.where for m in client_side}) == 1     # all from one packet
    assert len(client_side) == 4


def test_out_of_order_and_retransmitted_segments():
    cap, _messages = read("tcp-out-of-order.pcap")
    assert cap.stats.out_of_order >= 3 and cap.stats.retransmitted >= 2


def test_overlapping_segments_are_trimmed():
    cap, messages = read("tcp-overlap.pcap")
    assert [m.data for m in messages] == [m for s, _d, m in SESSION if s == CLIENT]
    assert cap.stats.retransmitted > 0


def test_a_gap_loses_only_the_message_it_cuts():
    cap, messages = read("tcp-gap.pcap")
    got = per_direction(messages)
    lost = SESSION[1][2]                                 # the 100 Trying: its only segment was never captured
    assert got[(endpoint(FE), endpoint(CLIENT))] == [m for s, d, m in SESSION if s == FE and d == CLIENT and m != lost]
    assert sum(len(v) for v in got.values()) == 9
    [gap] = [d for d in cap.stats.diagnostics if d.code == "tcp-gap"]
    assert "packet 13" in gap.message and "192.0.2.10:5060 -> 192.0.2.31:50250" in gap.message
    assert cap.stats.gaps == 1


def test_garbage_in_a_stream_is_skipped_to_the_next_start_line_and_keepalives_are_counted():
    cap, messages = read("tcp-garbage.pcap")
    client = [m for s, _d, m in SESSION if s == CLIENT]
    assert [m.data for m in messages] == client[:3]
    [skip] = [d for d in cap.stats.diagnostics if d.code == "tcp-garbage"]
    assert "41 bytes" in skip.message and "packet 6" in skip.message
    assert cap.stats.resyncs == 1
    assert cap.stats.keepalives == 1                    # the CRLF between two messages (the ping is in the garbage)


def test_a_packet_cut_by_the_snap_length_drops_its_message_only():
    cap, messages = read("snap-cut.pcap")
    assert len(messages) == 9
    [cut] = [d for d in cap.stats.diagnostics if d.code == "cut-packet"]
    assert "packet 3" in cut.message and "508 bytes" in cut.message
    assert SESSION[0][2] not in [m.data for m in messages]
    assert cap.stats.truncated == 1


def test_tls_flows_are_counted_unreadable_with_one_diagnostic_per_connection():
    cap, messages = read("tls.pcap")
    [tls] = [d for d in cap.stats.diagnostics if d.code == "tls"]
    assert "packet 3" in tls.message and "192.0.2.31:50250 -> 192.0.2.10:5061" in tls.message
    assert cap.stats.tls_flows == 1
    assert cap.stats.tls_unreadable == 3                 # every TLS segment, none silently dropped
    assert len(messages) == 2                            # the UDP messages around it are still read


def _write(tmp_path, frames, name="t.pcap"):
    path = tmp_path / name
    gen.write_pcap(path, 1, gen.timed(frames))
    return path


def test_a_connection_closed_inside_a_message(tmp_path):
    conv = gen.TcpConversation(CLIENT, FE)
    invite = SESSION[0][2]
    frames = [gen.tcp_frame(conv.syn(CLIENT)), gen.tcp_frame(conv.send(CLIENT, invite[:300])),
              gen.tcp_frame(conv.send(CLIENT, b"", flags=0x11))]
    cap = read_capture(_write(tmp_path, frames))
    assert list(cap) == []
    [d] = cap.stats.diagnostics
    assert d.code == "unfinished-message" and "the connection closed" in d.message and "300 bytes" in d.message


def test_the_capture_ending_inside_a_message(tmp_path):
    conv = gen.TcpConversation(CLIENT, FE)
    frames = [gen.tcp_frame(conv.syn(CLIENT)), gen.tcp_frame(conv.send(CLIENT, SESSION[0][2][:-10]))]
    cap = read_capture(_write(tmp_path, frames))
    assert list(cap) == []
    assert [d.code for d in cap.stats.diagnostics] == ["unfinished-message"]
    assert "the capture ends" in cap.stats.diagnostics[0].message


def test_a_message_without_content_length_over_tcp(tmp_path):
    conv = gen.TcpConversation(CLIENT, FE)
    bare = gen.options(1).replace(b"Content-Length: 0\r\n", b"")
    frames = [gen.tcp_frame(conv.syn(CLIENT)), gen.tcp_frame(conv.send(CLIENT, bare + gen.options(2)))]
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [bare, gen.options(2)]
    assert [d.code for d in cap.stats.diagnostics] == ["no-content-length"]


def test_capture_started_mid_stream(tmp_path):
    """No SYN: the first segment holds the end of a message, then a whole one."""
    conv = gen.TcpConversation(CLIENT, FE)
    frames = [gen.tcp_frame(conv.send(CLIENT, SESSION[0][2][-80:] + gen.options(1)))]
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [gen.options(1)]
    assert [d.code for d in cap.stats.diagnostics] == ["mid-stream"]


def test_non_sip_tcp_flows_are_skipped_and_counted(tmp_path):
    http = gen.TcpConversation(("192.0.2.31", 50300), ("192.0.2.80", 8080))
    a = ("192.0.2.31", 50300)
    frames = [gen.tcp_frame(http.syn(a))] + [gen.tcp_frame(http.send(a, b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"))
                                              for _ in range(5)]
    cap = read_capture(_write(tmp_path, frames))
    assert list(cap) == [] and cap.stats.non_sip == 5 and not cap.stats.diagnostics


def test_sip_on_any_port_is_recognised_by_its_start_line(tmp_path):
    a, b = ("192.0.2.31", 40123), ("192.0.2.10", 12345)
    conv = gen.TcpConversation(a, b)
    frames = [gen.tcp_frame(conv.syn(a)), gen.tcp_frame(conv.send(a, gen.options(1)))]
    assert [m.data for m in read_capture(_write(tmp_path, frames))] == [gen.options(1)]


def test_early_segments_are_bounded_and_a_hole_becomes_a_gap(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_OUT_OF_ORDER_SEGMENTS", 3)
    conv = gen.TcpConversation(CLIENT, FE)
    frames = [gen.tcp_frame(conv.syn(CLIENT))]
    lost = conv.send(CLIENT, gen.options(1))             # never captured
    frames += [gen.tcp_frame(conv.send(CLIENT, gen.options(n))) for n in range(2, 8)]
    assert lost
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [gen.options(n) for n in range(2, 8)]
    assert cap.stats.gaps == 1


def test_the_number_of_flows_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_FLOWS", 4)
    frames = []
    for port in range(50000, 50010):
        conv = gen.TcpConversation(("192.0.2.31", port), FE)
        frames.append(gen.tcp_frame(conv.send(("192.0.2.31", port), gen.options(port)[:100])))
    cap = read_capture(_write(tmp_path, frames))
    assert list(cap) == []
    assert cap.stats.flows_evicted == 6
    assert sum(d.code == "unfinished-message" for d in cap.stats.diagnostics) == 10   # 6 evicted, 4 at the end
    assert "more than 4 TCP flows" in cap.stats.diagnostics[0].message


def test_buffered_bytes_are_bounded_across_flows(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_BUFFERED", 1000)
    frames = []
    for port in range(50000, 50006):
        conv = gen.TcpConversation(("192.0.2.31", port), FE)
        frames.append(gen.tcp_frame(conv.send(("192.0.2.31", port), SESSION[0][2][:400])))
    cap = read_capture(_write(tmp_path, frames))
    assert list(cap) == []
    assert cap.stats.flows_evicted >= 3
    assert any("buffered across all TCP flows" in d.message for d in cap.stats.diagnostics)


def test_a_message_larger_than_the_limit_is_reported_and_the_stream_resynchronises(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_SIP_MESSAGE", 2000)
    conv = gen.TcpConversation(CLIENT, FE)
    huge = gen.sip("MESSAGE sip:jennyl@contoso.com SIP/2.0", [("Call-ID", "big")], "x" * 5000)
    frames = [gen.tcp_frame(conv.syn(CLIENT))]
    data = huge + gen.options(1)
    frames += [gen.tcp_frame(conv.send(CLIENT, data[i:i + 1000])) for i in range(0, len(data), 1000)]
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [gen.options(1)]
    assert [d.code for d in cap.stats.diagnostics] == ["message-too-large"]


def test_a_header_section_without_end_is_reported_and_the_stream_resynchronises(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MAX_SIP_MESSAGE", 2000)
    conv = gen.TcpConversation(CLIENT, FE)
    endless = b"MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n" + b"X-Filler: yes\r\n" * 200
    frames = [gen.tcp_frame(conv.syn(CLIENT))]
    data = endless + gen.options(1)
    frames += [gen.tcp_frame(conv.send(CLIENT, data[i:i + 1000])) for i in range(0, len(data), 1000)]
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [gen.options(1)]
    assert [d.code for d in cap.stats.diagnostics] == ["unframed-message", "tcp-garbage"]


def test_content_length_forms():
    assert stream.content_length(b"INVITE x SIP/2.0\r\nl: 12") == 12
    assert stream.content_length(b"INVITE x SIP/2.0\r\nCONTENT-LENGTH :  7 ") == 7
    assert stream.content_length(b"INVITE x SIP/2.0\r\nVia: x") is None
    assert stream.content_length(b"INVITE x SIP/2.0\r\nContent-Length: ten") == "ten"


def test_tls_record_headers():
    assert stream.looks_like_tls(bytes.fromhex("1603010200"))
    assert stream.looks_like_tls(bytes.fromhex("1703030040"))
    assert not stream.looks_like_tls(b"INVITE sip:a SIP/2.0")
    assert not stream.looks_like_tls(bytes.fromhex("16fe"))


def test_fixtures_exist():
    assert (DATA / "tcp-session.pcap").is_file()


@pytest.mark.parametrize("seed", range(12))
def test_any_segmentation_order_and_duplication_gives_the_same_messages(tmp_path, seed):
    """The client's side of the session cut at random points, shuffled within a window, some segments
    sent twice or overlapping: the stream always comes back as the same messages."""
    import random

    rng = random.Random(seed)
    data = b"".join(m for s, _d, m in SESSION if s == CLIENT) + b"\r\n\r\n" + gen.options(9)
    conv = gen.TcpConversation(CLIENT, FE)
    frames = [gen.tcp_frame(conv.syn(CLIENT))]
    base = conv.seq[CLIENT]
    cuts = sorted(rng.sample(range(1, len(data)), 25))
    pieces = [(a, data[a:b]) for a, b in zip([0] + cuts, cuts + [len(data)])]
    sent = []
    for at, piece in pieces:
        sent.append((at, piece))
        if rng.random() < 0.2:
            sent.append((at, piece))                                   # a retransmission
        if rng.random() < 0.2:
            sent.append((max(0, at - 7), data[max(0, at - 7):at + len(piece) + 5]))   # overlapping both ends
    for i in range(0, len(sent) - 3, 3):                               # reorder within windows of three
        window = sent[i:i + 3]
        rng.shuffle(window)
        sent[i:i + 3] = window
    frames += [gen.tcp_frame((CLIENT, FE, piece, base + at, 0x18)) for at, piece in sent]
    cap = read_capture(_write(tmp_path, frames))
    assert [m.data for m in cap] == [m for s, _d, m in SESSION if s == CLIENT] + [gen.options(9)]
    assert cap.stats.keepalives == 1
    assert not cap.stats.diagnostics
