"""Small helpers for the Front End tests: build SIP requests, find the test data."""
from __future__ import annotations

import hashlib
from pathlib import Path

DATA = Path(__file__).parent / "data" / "frontend"

SDP = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
       "m=audio 50000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n")


def app(name: str) -> str:
    """Path of a test .am file."""
    return str(DATA / name)


def request(method: str, ruri: str, *, frm: str = '"Terry Adams" <sip:terrya@contoso.com>',
            to: str | None = None, body: str = "", content_type: str | None = None,
            extra: tuple[str, ...] = (), call_id: str | None = None,
            user_agent: str = "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)") -> str:
    """A SIP request as a client of the lab would send it (Content-Length computed)."""
    to = to or f"<{ruri}>"
    call_id = call_id or f"test-{method.lower()}-" + hashlib.sha1((ruri + body).encode()).hexdigest()[:8]
    headers = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-{call_id}",
        "Max-Forwards: 70",
        f"From: {frm};tag=1a2b3c4d;epid=7c2e5f3a01",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"User-Agent: {user_agent}",
        *extra,
    ]
    if content_type:
        headers.append(f"Content-Type: {content_type}")
    headers.append(f"Content-Length: {len(body.encode('utf-8'))}")
    return "\r\n".join(headers) + "\r\n\r\n" + body


def im(to_uri: str, text: str, **kw) -> str:
    return request("MESSAGE", to_uri, body=text, content_type="text/plain; charset=UTF-8", **kw)


def invite(ruri: str, **kw) -> str:
    kw.setdefault("extra", ("Contact: <sip:192.0.2.31:50250;transport=tls>",))
    return request("INVITE", ruri, body=SDP, content_type="application/sdp", **kw)
