"""SIP messages for mspl_lite: parse, inspect, change and serialise requests and responses.

    from mspl_lite.sip import parse_message
    msg = parse_message(text_or_bytes, filename="invite.sip")   # SipParseError if malformed
    msg.get("From"); msg.get_all("Via"); msg.set_header_param("To", "epid", "01ab")
    print(msg)                                                   # the SIP text

The address helpers back the MSPL URI functions (GetUri, GetUserName, ...); None is MSPL null.
See docs/ARCHITECTURE.md, section "SIP message API".
"""
from . import address
from .address import (
    SipUri,
    get_display_name,
    get_host_name,
    get_parameter_value,
    get_scheme,
    get_uri,
    get_uri_parameter,
    get_user_at_host,
    get_user_name,
    parse_uri,
)
from .message import Header, Message, Request, Response
from .parser import parse_message

__all__ = ["parse_message", "Message", "Request", "Response", "Header", *address.__all__]
