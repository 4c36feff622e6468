"""Stream framing by Content-Length (RFC 3261 18.3), keep-alives (decision D98), and the limits."""
from __future__ import annotations

import pytest

from mspl_lite.wire.framing import MAX_HEADER_BYTES, FramingError, StreamFramer, content_length

MSG = (b"OPTIONS sip:fe01.contoso.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5072;branch=z9hG4bK1\r\n"
       b"From: <sip:a@contoso.com>;tag=1\r\nTo: <sip:fe01.contoso.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
       b"Content-Length: 5\r\n\r\nhello")


def test_a_message_cut_anywhere_comes_out_whole():
    for cut in range(1, len(MSG)):
        framer = StreamFramer()
        assert framer.feed(MSG[:cut]) == [] and framer.feed(MSG[cut:]) == [MSG]


def test_two_messages_in_one_read_and_keepalives_between():
    framer = StreamFramer()
    assert framer.feed(MSG + b"\r\n\r\n" + MSG + b"\r\n\r\n\r\n\r\n") == [MSG, MSG]
    assert framer.pings == 3 and framer.buffered == 0


def test_compact_content_length_and_body_bytes_after_it_wait_for_the_next_message():
    msg = MSG.replace(b"Content-Length: 5", b"l: 2")
    framer = StreamFramer()
    assert framer.feed(msg) == [msg[:-3]]
    assert framer.buffered == 3


def test_no_content_length_over_a_stream_is_refused():
    with pytest.raises(FramingError) as err:
        StreamFramer().feed(MSG.replace(b"Content-Length: 5\r\n", b""))
    assert err.value.status == 400 and "18.3" in err.value.warning


@pytest.mark.parametrize("value", [b"abc", b"-1", b"5, 6", b"9999999999"])
def test_a_bad_content_length_is_refused(value):
    with pytest.raises(FramingError):
        StreamFramer().feed(MSG.replace(b"Content-Length: 5", b"Content-Length: " + value))


def test_an_oversize_message_is_413_before_its_body_is_read():
    framer = StreamFramer(max_message=1000)
    with pytest.raises(FramingError) as err:
        framer.feed(MSG.replace(b"Content-Length: 5", b"Content-Length: 100000")[:-5])
    assert err.value.status == 413 and framer.buffered < 1000


def test_a_peer_that_sends_headers_forever_is_stopped_with_bounded_memory():
    framer = StreamFramer()
    line = b"X-Forever: " + b"a" * 100 + b"\r\n"
    with pytest.raises(FramingError) as err:
        framer.feed(b"OPTIONS sip:x SIP/2.0\r\n")
        for _ in range(10_000):
            framer.feed(line)
    assert err.value.status == 400 and framer.buffered <= MAX_HEADER_BYTES + len(line)


def test_content_length():
    assert content_length(b"A: b\r\nContent-Length: 12") == 12
    assert content_length(b"A: b") is None
    assert content_length(b"l: 3\r\nContent-Length: 4") == -1
