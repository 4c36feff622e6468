"""The SIP messages of the course: Lync-style requests and responses of the contoso.com lab.

``course_message(name)`` parses a fresh copy (scripts change messages in place), ``message_text``
gives the text, ``MESSAGE_NAMES`` lists them. They use the users of the default lab
(mspl_lite/data/lab.toml): Terry Adams calls Jenny Lee, Adam Barr, Nuria Gonzalez... Addresses
are documentation addresses (RFC 5737) and every tag, epid and Call-ID is fixed, so every
notebook output stays the same run after run.

Header set, as a Lync Server 2013 client writes it (values shortened): ``epid`` on From (the
endpoint id), ``Ms-Conversation-ID``, ``ms-keep-alive``, ``Supported: ms-...`` extensions,
GRUU Contacts (``opaque=user:epid:...;gruu``) once an endpoint is registered.
"""
from __future__ import annotations

from ..errors import UsageError
from ..sip import Request, Response, parse_message

__all__ = ["MESSAGE_NAMES", "course_message", "message_text"]

_TERRY = '"Terry Adams" <sip:terrya@contoso.com>'
_TERRY_GRUU = "<sip:terrya@contoso.com;opaque=user:epid:7c2e5f3a01;gruu>"
_JENNY_GRUU = "<sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu>"
_UA = "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"
_VIA = "SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-{branch}"
_SDP = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
        "m=audio 50000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n")
#: The SDP of an IM invitation: a "message" media line (an InstantMessagingCall is an SDP-based
#: IM session, Dn466023).
_IM_SDP = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
           "m=message 5060 sip null\r\n"
           "a=accept-types:text/plain multipart/alternative text/rtf text/html application/ms-imdn+xml\r\n")


def _sip(start: str, headers: list[tuple[str, str]], body: str = "") -> str:
    """The message text with CRLF line ends and a correct Content-Length."""
    lines = [start] + [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body.encode('utf-8'))}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def _invite(ruri: str, to: str, call_id: str, *, frm: str = _TERRY + ";tag=1a2b3c4d;epid=7c2e5f3a01",
            extra: list[tuple[str, str]] = (), via: list[str] | None = None) -> str:
    vias = via or [_VIA.format(branch=call_id)]
    return _sip(f"INVITE {ruri} SIP/2.0", [
        *[("Via", v) for v in vias],
        ("Max-Forwards", "70"),
        ("From", frm),
        ("To", to),
        ("Call-ID", call_id),
        ("CSeq", "1 INVITE"),
        ("Contact", _TERRY_GRUU),
        ("User-Agent", _UA),
        ("Ms-Conversation-ID", "AdNJB3xA5S1+8Qh0TbqkhcbA6kvGNg=="),
        ("ms-keep-alive", "UAC;hop-hop=yes"),
        *extra,
        ("Content-Type", "application/sdp"),
    ], _SDP)


def _message(ruri: str, to: str, call_id: str, text: str) -> str:
    return _sip(f"MESSAGE {ruri} SIP/2.0", [
        ("Via", _VIA.format(branch=call_id)),
        ("Max-Forwards", "70"),
        ("From", _TERRY + ";tag=5d6e7f;epid=7c2e5f3a01"),
        ("To", to),
        ("Call-ID", call_id),
        ("CSeq", "2 MESSAGE"),
        ("User-Agent", _UA),
        ("Content-Type", "text/plain; charset=UTF-8"),
    ], text)


def _register(user: str, epid: str, address: str) -> str:
    return _sip("REGISTER sip:contoso.com SIP/2.0", [
        ("Via", f"SIP/2.0/TLS {address};branch=z9hG4bK-reg-{epid}"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:{user}@contoso.com>;tag=7e8f9a;epid={epid}"),
        ("To", f"<sip:{user}@contoso.com>"),
        ("Call-ID", f"register-{epid}"),
        ("CSeq", "1 REGISTER"),
        ("Contact", f'<sip:{address};transport=tls;ms-opaque=3c4d5e>;methods="INVITE, MESSAGE, INFO, '
                    'SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace;'
                    f'+sip.instance="<urn:uuid:{epid}-0000-5000-8000-00000000a1b2>"'),
        ("User-Agent", _UA),
        ("Supported", "gruu-10, adhoclist, msrtc-event-categories"),
        ("ms-keep-alive", "UAC;hop-hop=yes"),
        ("Event", "registration"),
    ])


def _response(code: int, reason: str, method: str, to: str, call_id: str, cseq: int = 1,
              extra: list[tuple[str, str]] = ()) -> str:
    return _sip(f"SIP/2.0 {code} {reason}", [
        ("Via", _VIA.format(branch=call_id)),
        ("From", _TERRY + ";tag=1a2b3c4d;epid=7c2e5f3a01"),
        ("To", to),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
        *extra,
        ("User-Agent", _UA),
    ])


_JENNY_TO = '"Jenny Lee" <sip:jennyl@contoso.com>'

_TEXTS: dict[str, str] = {
    # A call from Terry to Jenny, as it enters the Front End.
    "invite-jennyl": _invite("sip:jennyl@contoso.com", _JENNY_TO, "call-jenny-7",
                             extra=[("Supported", "ms-dialog-route-set-update"), ("Supported", "timer"),
                                    ("Supported", "ms-early-media"), ("Supported", "ms-sender")]),
    # Jenny's phone rings, then she answers: both carry her To tag (the dialog's other half).
    "ringing-jennyl": _response(180, "Ringing", "INVITE", _JENNY_TO + ";tag=9f8e7d6c;epid=5f3a7c9e01",
                                "call-jenny-7", extra=[("Contact", _JENNY_GRUU)]),
    "ok-jennyl": _response(200, "OK", "INVITE", _JENNY_TO + ";tag=9f8e7d6c;epid=5f3a7c9e01",
                           "call-jenny-7", extra=[("Contact", _JENNY_GRUU)]),
    # Jenny hangs up: the BYE goes to Terry's GRUU; From and To swap sides, the tags go with them.
    "bye-from-jennyl": _sip(f"BYE {_TERRY_GRUU[1:-1]} SIP/2.0", [
        ("Via", "SIP/2.0/TLS 192.0.2.11:50210;branch=z9hG4bK-bye-jenny-7"),
        ("Max-Forwards", "70"),
        ("From", _JENNY_TO + ";tag=9f8e7d6c;epid=5f3a7c9e01"),
        ("To", _TERRY + ";tag=1a2b3c4d;epid=7c2e5f3a01"),
        ("Call-ID", "call-jenny-7"),
        ("CSeq", "3 BYE"),
        ("User-Agent", _UA),
    ]),
    # The same BYE as it reaches the Front End inside the dialog: a Route header names the next hop
    # (a strict route: ProxyRequest may only hand it on with "").
    "bye-with-route": _sip(f"BYE {_TERRY_GRUU[1:-1]} SIP/2.0", [
        ("Via", "SIP/2.0/TLS 192.0.2.11:50210;branch=z9hG4bK-bye-jenny-8"),
        ("Max-Forwards", "70"),
        ("Route", "<sip:fe01.contoso.com:5061;transport=tls;lr>"),
        ("From", _JENNY_TO + ";tag=9f8e7d6c;epid=5f3a7c9e01"),
        ("To", _TERRY + ";tag=1a2b3c4d;epid=7c2e5f3a01"),
        ("Call-ID", "call-jenny-7"),
        ("CSeq", "4 BYE"),
        ("User-Agent", _UA),
    ]),
    # The same call after an application retargeted it to Nuria: Request-URI changed, To kept.
    "retargeted-invite": _invite("sip:nuriag@contoso.com", _JENNY_TO, "call-jenny-8"),
    # Calls to Adam Barr; an IM to Adam; Adam's client signing in.
    "invite-adamb": _invite("sip:adamb@contoso.com", '"Adam Barr" <sip:adamb@contoso.com>', "call-adam-3"),
    "message-adamb": _message("sip:adamb@contoso.com", "<sip:adamb@contoso.com>", "im-adam-3",
                              "Adam, are you in today?"),
    "register-adamb": _register("adamb", "4a9c0e1b02", "192.0.2.41:50270"),
    "busy-adamb": _response(486, "Busy Here", "INVITE", '"Adam Barr" <sip:adamb@contoso.com>;tag=3c4d5e',
                            "call-adam-3"),
    # A call from the PSTN gateway, which writes the caller as a tel: URI (no host at all).
    "invite-from-phone": _invite("sip:jennyl@contoso.com", _JENNY_TO, "call-pstn-2",
                                 frm="<tel:+14255550123>;tag=8d7c6b",
                                 via=["SIP/2.0/TLS 192.0.2.90:5067;branch=z9hG4bK-gw-2"]),
    # IMs about a password: the word in three spellings, and one without it.
    "im-password": _message("sip:jennyl@contoso.com", "<sip:jennyl@contoso.com>", "im-pw-1",
                            "Jenny, the new password is Spring2013!"),
    "im-password-caps": _message("sip:nuriag@contoso.com", "<sip:nuriag@contoso.com>", "im-pw-2",
                                 "PASSWORD RESET for the shared mailbox: call the helpdesk"),
    "im-lunch": _message("sip:jennyl@contoso.com", "<sip:jennyl@contoso.com>", "im-lunch-1",
                         "Lunch at noon?"),
    # A Lync INVITE that lists its extensions in one Supported header, upper case.
    "invite-nuriag-caps": _invite("sip:nuriag@contoso.com", '"Nuria Gonzalez" <sip:nuriag@contoso.com>',
                                  "call-nuria-4", extra=[("Supported", "timer, MS-EARLY-MEDIA, ms-sender")]),
    # An old client that lists ms-early-media twice (two Supported headers say it).
    "invite-terrya-twice": _sip("INVITE sip:terrya@contoso.com SIP/2.0", [
        ("Via", "SIP/2.0/TLS 192.0.2.11:50210;branch=z9hG4bK-call-terry-5"),
        ("Max-Forwards", "70"),
        ("From", _JENNY_TO + ";tag=4b5c6d;epid=5f3a7c9e01"),
        ("To", _TERRY),
        ("Call-ID", "call-terry-5"),
        ("CSeq", "1 INVITE"),
        ("Supported", "ms-early-media"),
        ("Supported", "ms-early-media, timer"),
        ("User-Agent", "UCCAPI/4.0.7577.0 OC/4.0.7577.0 (Microsoft Lync 2010)"),
        ("Content-Type", "application/sdp"),
    ], _SDP),
    # A call to a user written in mixed case (users type addresses as they like).
    "invite-jennyl-mixed-case": _invite("sip:JennyL@Contoso.com", '"Jenny Lee" <sip:JennyL@Contoso.com>',
                                        "call-jenny-9"),
    "invite-terrya": _invite("sip:terrya@contoso.com", _TERRY, "call-terry-6",
                             frm=_JENNY_TO + ";tag=2c3d4e;epid=5f3a7c9e01"),
    "subscribe-jennyl": _sip("SUBSCRIBE sip:jennyl@contoso.com SIP/2.0", [
        ("Via", _VIA.format(branch="sub-jenny-1")),
        ("Max-Forwards", "70"),
        ("From", _TERRY + ";tag=6e7f8a;epid=7c2e5f3a01"),
        ("To", "<sip:jennyl@contoso.com>"),
        ("Call-ID", "sub-jenny-1"),
        ("CSeq", "1 SUBSCRIBE"),
        ("Event", "presence"),
        ("Accept", "application/msrtc-event-categories+xml"),
        ("User-Agent", _UA),
    ]),
    # An IM session as Lync starts one: an INVITE with a "message" SDP. Its text follows in MESSAGEs
    # inside the dialog (FrontEnd.send_session; decision D16). The same as messages/im-invite-jennyl.sip.
    "im-invite-jennyl": _sip("INVITE sip:jennyl@contoso.com SIP/2.0", [
        ("Via", _VIA.format(branch="im-session-1")),
        ("Max-Forwards", "70"),
        ("From", _TERRY + ";tag=3e4f5a6b;epid=7c2e5f3a01"),
        ("To", "<sip:jennyl@contoso.com>"),
        ("Call-ID", "im-session-1"),
        ("CSeq", "1 INVITE"),
        ("Contact", _TERRY_GRUU),
        ("User-Agent", _UA),
        ("Ms-Conversation-ID", "AdNJB3xA5S1+8Qh0TbqkhcbA6kvGNh=="),
        ("Supported", "ms-dialog-route-set-update"),
        ("Supported", "ms-sender"),
        ("Content-Type", "application/sdp"),
    ], _IM_SDP),
    # Stand-alone (page-mode) MESSAGEs: where a lesson needs one request that carries the text, a
    # simplification of the session above (decision D16).
    # An IM with a link (the Intelligent IM Filter's business), and one without, to Nuria.
    "im-link-jennyl": _message("sip:jennyl@contoso.com", "<sip:jennyl@contoso.com>", "im-link-2",
                               "Have a look at http://www.fabrikam.com/offer before Friday!"),
    "im-nuriag": _message("sip:nuriag@contoso.com", "<sip:nuriag@contoso.com>", "im-nuria-2", "Coffee?"),
    # A call to a meeting room system that is not a Lync user, and one to a retired phone number.
    "invite-room1": _invite("sip:room1@contoso.com", '"Room 1" <sip:room1@contoso.com>', "call-room-1"),
    "invite-old-number": _invite("sip:+14255550199@contoso.com;user=phone",
                                 "<sip:+14255550199@contoso.com;user=phone>", "call-old-1"),
    "options-pool": _sip("OPTIONS sip:pool01.contoso.com SIP/2.0", [
        ("Via", _VIA.format(branch="options-1")),
        ("Max-Forwards", "70"),
        ("From", _TERRY + ";tag=7f8a9b;epid=7c2e5f3a01"),
        ("To", "<sip:pool01.contoso.com>"),
        ("Call-ID", "options-1"),
        ("CSeq", "1 OPTIONS"),
        ("User-Agent", _UA),
    ]),
}

#: Every course message, in a stable order.
MESSAGE_NAMES: tuple[str, ...] = tuple(_TEXTS)


def message_text(name: str) -> str:
    """The SIP text of course message ``name`` (CRLF line ends)."""
    try:
        return _TEXTS[name]
    except KeyError:
        raise UsageError(f"no course message {name!r}; known: {', '.join(MESSAGE_NAMES)}") from None


def course_message(name: str) -> Request | Response:
    """A freshly parsed copy of course message ``name``."""
    return parse_message(message_text(name), filename=f"{name}.sip")
