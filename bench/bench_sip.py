"""Parse speed of mspl_lite.sip against sipmessage, on the same messages in the same run.

    .venv/bin/python bench/bench_sip.py [--seconds 0.3] [--repeats 5]

Messages: the RFC 4475 torture messages marked ``valid`` plus four typical Lync Server 2013
messages written here (INVITE with SDP, in-dialog MESSAGE, REGISTER, 200 OK to REGISTER). Only
messages *both* parsers accept are timed, so both do the same work; the ones sipmessage refuses
are listed.

Two workloads, because the two parsers do different work up front:

* ``parse``: ``parse_message(data)`` against ``sipmessage.Message.parse(data)``. Ours checks the
  grammar of every header a Front End relies on (From, To, Contact, Via, CSeq, ...) and the body
  length while parsing; sipmessage is lazy: it splits lines and stores header text, and parses a
  header's value only when a property reads it.
* ``parse + read``: parse, then read what an MSPL script typically reads: the Via list, the From
  and To URIs and tags, the Contact URIs, CSeq. sipmessage parses those values now.

Each figure is the best of ``--repeats`` runs of about ``--seconds`` each (time.perf_counter).
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
TORTURE = ROOT / "tests" / "data" / "sip-torture"
sys.path.insert(0, str(ROOT))

from mspl_lite.sip import get_parameter_value, get_uri, parse_message  # noqa: E402

try:
    import sipmessage
except ImportError:  # pragma: no cover - the bench needs its baseline
    sys.exit("sipmessage is not installed: .venv/bin/pip install -r requirements-test.txt")


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


_SDP = _crlf(
    """v=0
o=- 0 0 IN IP4 192.168.10.21
s=session
c=IN IP4 192.168.10.21
b=CT:99980
t=0 0
m=audio 21730 RTP/AVP 117 104 114 9 112 111 0 8 116 115 4 97 13 118 101
a=x-ssrc-range:2094196224-2094196224
a=candidate:1 1 UDP 2130706431 192.168.10.21 21730 typ host
a=candidate:1 2 UDP 2130705918 192.168.10.21 21731 typ host
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:7bA4VnPQxS9mdMnBULT0Nv5GKZ1c3hKs7IubnYsj|2^31|1:1
a=maxptime:200
a=rtcp:21731
a=rtpmap:117 G722/8000/2
a=rtpmap:104 SILK/16000
a=rtpmap:114 x-msrta/16000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=encryption:optional
"""
)

LYNC_INVITE = (
    _crlf(
        """INVITE sip:bob@contoso.com;opaque=user:epid:Xq1TzGnGjVOsnk5xDmBrSAAA;gruu SIP/2.0
Via: SIP/2.0/TLS 192.168.10.21:51432;branch=z9hG4bKb3a4f61c;ms-received-port=51432;ms-received-cid=1D2E00
Max-Forwards: 70
From: "Alice Smith" <sip:alice@contoso.com>;tag=0f3d8a2c71;epid=5a1b2c3d4e
To: <sip:bob@contoso.com>
Call-ID: 7f3a9c2e5b8d4f1a9c3e2d5b7a8f1c4e
CSeq: 1 INVITE
Contact: <sip:alice@contoso.com;opaque=user:epid:lB3qS8eH0lC0wgTGtL9ZRAAA;gruu>
User-Agent: UCCAPI/15.0.4933.1000 OC/15.0.4933.1000 (Microsoft Lync)
Supported: ms-dialog-route-set-update
Ms-Conversation-ID: AdGZ3Y2bnMCJ1Ta0QKi6N6Lk8NthNg==
Supported: timer
Supported: histinfo
Supported: ms-safe-transfer
Supported: ms-sender
Supported: ms-early-media
Supported: 100rel
ms-keep-alive: UAC;hop-hop=yes
Allow: INVITE, BYE, ACK, CANCEL, INFO, UPDATE, REFER, NOTIFY, BENOTIFY, OPTIONS
ms-subnet: 192.168.10.0
Accept-Language: en-US
ms-endpoint-location-data: NetworkScope;ms-media-location-type=Intranet
P-Preferred-Identity: <sip:alice@contoso.com>, <tel:+14255550100>
Supported: replaces
Supported: ms-conf-invite
Proxy-Authorization: TLS-DSK qop="auth", realm="SIP Communications Service", opaque="8A1B2C3D", targetname="fe01.contoso.com", version=4, sspi-targetname="fe01.contoso.com", crand="1a2b3c4d", cnum="42", response="0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
Session-Expires: 720;refresher=uac
Min-SE: 90
Content-Type: application/sdp
Content-Length: %d

"""
        % len(_SDP)
    )
    + _SDP
)

_IM = "Are you free for a quick call about the pool upgrade?".encode()
LYNC_MESSAGE = (
    _crlf(
        """MESSAGE sip:bob@contoso.com;opaque=user:epid:Xq1TzGnGjVOsnk5xDmBrSAAA;gruu SIP/2.0
Via: SIP/2.0/TLS 192.168.10.21:51432;branch=z9hG4bK77e1d2a0;ms-received-port=51432;ms-received-cid=1D2E00
Max-Forwards: 70
From: <sip:alice@contoso.com>;tag=0f3d8a2c71;epid=5a1b2c3d4e
To: <sip:bob@contoso.com>;tag=b2c71f3d8a;epid=9e8d7c6b5a
Call-ID: 7f3a9c2e5b8d4f1a9c3e2d5b7a8f1c4e
CSeq: 3 MESSAGE
Route: <sip:fe01.contoso.com:5061;transport=tls;opaque=state:T:F:Ci.R1d2e00;lr;ms-route-sig=dfJk3Ww8bm-wOPfCNO1AqsBWcb6f6A8hj2hnhpvQAA>
User-Agent: UCCAPI/15.0.4933.1000 OC/15.0.4933.1000 (Microsoft Lync)
Supported: ms-dialog-route-set-update
Supported: ms-text-format
ms-text-format: text/plain; charset=UTF-8;msgr=WAAtAE0ATQBTAC0ASQBNAC0ARgBvAHIAbQBhAHQAOgAgAEYATgA9AFMAZQBnAG8AZQAlADIAMABVAEkAOwAgAEUARgA9ADsAIABDAE8APQAwADsAIABDAFMAPQAwADsAIABQAEYAPQAwAA0ACgANAAoA
Ms-Conversation-ID: AdGZ3Y2bnMCJ1Ta0QKi6N6Lk8NthNg==
Content-Type: text/plain; charset=UTF-8
Content-Length: %d

"""
        % len(_IM)
    )
    + _IM
)

LYNC_REGISTER = _crlf(
    """REGISTER sip:contoso.com SIP/2.0
Via: SIP/2.0/TLS 192.168.10.21:51432
Max-Forwards: 70
From: <sip:alice@contoso.com>;tag=91ab7c3e2d;epid=5a1b2c3d4e
To: <sip:alice@contoso.com>
Call-ID: 0c7e3b9a1d5f4e2a8b6c0d9e1f2a3b4c
CSeq: 2 REGISTER
Contact: <sip:192.168.10.21:51432;transport=tls;ms-opaque=d3470f2e1d>;methods="INVITE, MESSAGE, INFO, SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace;+sip.instance="<urn:uuid:9A4E3B82-5C1D-5E2F-8A3B-4C5D6E7F8091>"
User-Agent: UCCAPI/15.0.4933.1000 OC/15.0.4933.1000 (Microsoft Lync)
Supported: gruu-10, adhoclist, msrtc-event-categories
Supported: ms-forking
Supported: ms-cluster-failover
Supported: ms-userservices-state-notification
ms-keep-alive: UAC;hop-hop=yes
Event: registration
Authorization: TLS-DSK qop="auth", realm="SIP Communications Service", opaque="8A1B2C3D", targetname="fe01.contoso.com", version=4, sspi-targetname="fe01.contoso.com", crand="5e6f7a8b", cnum="7", response="9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
Content-Length: 0

"""
)

LYNC_REGISTER_OK = _crlf(
    """SIP/2.0 200 OK
ms-keep-alive: UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300
Authentication-Info: TLS-DSK qop="auth", opaque="8A1B2C3D", srand="3B7E9F21", snum="8", rspauth="c0ffee00112233445566778899aabbccddeeff00", targetname="fe01.contoso.com", realm="SIP Communications Service", version=4
From: <sip:alice@contoso.com>;tag=91ab7c3e2d;epid=5a1b2c3d4e
To: <sip:alice@contoso.com>;tag=A3C2F1E0D9B8
Call-ID: 0c7e3b9a1d5f4e2a8b6c0d9e1f2a3b4c
CSeq: 2 REGISTER
Via: SIP/2.0/TLS 192.168.10.21:51432;ms-received-port=51432;ms-received-cid=1D2E00
Contact: <sip:192.168.10.21:51432;transport=tls;ms-opaque=d3470f2e1d;ms-received-cid=1D2E00>;expires=7200;+sip.instance="<urn:uuid:9A4E3B82-5C1D-5E2F-8A3B-4C5D6E7F8091>";gruu="sip:alice@contoso.com;opaque=user:epid:lB3qS8eH0lC0wgTGtL9ZRAAA;gruu"
Expires: 7200
presence-state: register-action="added"
Allow-Events: vnd-microsoft-provisioning,vnd-microsoft-roaming-contacts,vnd-microsoft-roaming-ACL,presence,presence.wpending,vnd-microsoft-roaming-self,vnd-microsoft-provisioning-v2
Supported: adhoclist
Server: RTC/5.0
Supported: msrtc-event-categories
Supported: ms-keep-alive-deregister
Supported: ms-userservices-state-notification
Content-Length: 0

"""
)

LYNC = {
    "lync-invite": LYNC_INVITE,
    "lync-message": LYNC_MESSAGE,
    "lync-register": LYNC_REGISTER,
    "lync-register-200": LYNC_REGISTER_OK,
}


def load_messages() -> dict[str, bytes]:
    """Torture messages marked ``valid`` plus the Lync messages above."""
    out = {}
    with open(TORTURE / "INDEX.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["expect"] == "valid":
                out[row["file"]] = (TORTURE / row["file"]).read_bytes()
    out.update(LYNC)
    return out


# ---- the two workloads, for each parser --------------------------------------------------------

def ours_parse(data: bytes) -> object:
    return parse_message(data)


def theirs_parse(data: bytes) -> object:
    return sipmessage.Message.parse(data)


def ours_read(data: bytes) -> object:
    msg = parse_message(data)
    vias = msg.get_all("Via")
    frm, to = msg.get("From"), msg.get("To")
    return (
        vias,
        get_uri(frm),
        get_parameter_value(frm, "tag"),
        get_uri(to),
        get_parameter_value(to, "tag"),
        [get_uri(c) for c in msg.get_all("Contact")],
        msg.get("CSeq").split(),
    )


def theirs_read(data: bytes) -> object:
    msg = sipmessage.Message.parse(data)
    frm, to = msg.from_address, msg.to_address
    return (
        msg.via,
        str(frm.uri),
        frm.parameters.get("tag"),
        str(to.uri),
        to.parameters.get("tag"),
        [str(c.uri) for c in msg.contact],
        msg.cseq,
    )


def accepted(fn: Callable[[bytes], object], messages: dict[str, bytes]) -> set[str]:
    ok = set()
    for name, data in messages.items():
        try:
            fn(data)
        except Exception:  # noqa: BLE001 - the bench only records who accepts what
            continue
        ok.add(name)
    return ok


def _loops_for(fn: Callable[[bytes], object], batch: list[bytes], seconds: float) -> int:
    """How many passes over ``batch`` take about ``seconds``."""
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            for data in batch:
                fn(data)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds / 4:
            return max(1, int(loops * seconds / elapsed))
        loops *= 4


def rates(fns: list[Callable[[bytes], object]], batch: list[bytes], seconds: float, repeats: int) -> list[float]:
    """Messages per second for each of ``fns``: best of ``repeats`` timed runs over ``batch``.

    The runs of the different functions alternate, so that load from other processes on the
    machine falls on all of them alike.
    """
    loops = [_loops_for(fn, batch, seconds) for fn in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(loops[k]):
                for data in batch:
                    fn(data)
            best[k] = min(best[k], time.perf_counter() - t0)
    return [loops[k] * len(batch) / best[k] for k in range(len(fns))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.3, help="length of one timed run")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per figure (best is kept)")
    args = ap.parse_args(argv)

    messages = load_messages()
    print(f"Python {sys.version.split()[0]}, sipmessage {sipmessage.__version__}")
    rows = []
    for label, ours, theirs in (("parse", ours_parse, theirs_parse), ("parse + read", ours_read, theirs_read)):
        ours_ok, theirs_ok = accepted(ours, messages), accepted(theirs, messages)
        common = [name for name in messages if name in ours_ok and name in theirs_ok]
        refused = sorted(set(messages) - theirs_ok)
        print(f"\n{label}: {len(common)} messages both accept; sipmessage refuses {len(refused)}: {', '.join(refused) or '-'}")
        if set(messages) - ours_ok:
            print(f"  (mspl_lite refuses: {', '.join(sorted(set(messages) - ours_ok))})")
        for subset, names in (("all common", common), ("Lync only", [n for n in common if n in LYNC])):
            batch = [messages[n] for n in names]
            if not batch:
                continue
            a, b = rates([ours, theirs], batch, args.seconds, args.repeats)
            rows.append((label, subset, len(batch), a, b))

    print()
    head = f"{'workload':<14} {'messages':<12} {'n':>3} {'mspl_lite msg/s':>16} {'sipmessage msg/s':>17} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    for label, subset, n, a, b in rows:
        print(f"{label:<14} {subset:<12} {n:>3} {a:>16,.0f} {b:>17,.0f} {a / b:>5.2f}x")
    print("\nratio = mspl_lite / sipmessage (above 1 means mspl_lite is faster). mspl_lite checks the")
    print("grammar while parsing; sipmessage's plain parse reads header values only when asked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
