"""Fuzz the SIP layer: parse_message, the round trip of what it accepts, and the address functions.

Properties (the error contract, docs/ARCHITECTURE.md): bytes or text in, a Request/Response or a
located SipParseError out, in bounded time and memory; an accepted message serialises to bytes that
parse back to the same message; GetUri and the other address functions return str or None (MSPL
null) for every header value and never raise.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mspl_lite.errors import SipParseError
from mspl_lite.sip import Request, Response, address, parse_message

from . import _strategies as S
from ._contract import assert_input_error, guard

PARSE_SECONDS = 2.0
PARSE_MB = 64

ADDRESS_FUNCTIONS = (address.get_uri, address.get_display_name, address.get_user_name, address.get_host_name,
                     address.get_user_at_host, address.get_scheme)
PARAMETER_FUNCTIONS = (address.get_uri_parameter, address.get_parameter_value)
PARAMETER_NAMES = ("tag", "epid", "transport", "branch", "p", "maddr", "user", "", "TAG", "x" * 100)


def parse_or_error(data: bytes | str):
    """parse_message under the guard; None for a (checked) SipParseError."""
    try:
        with guard("parse_message", seconds=PARSE_SECONDS, megabytes=PARSE_MB):
            return parse_message(data, filename="fuzz.sip")
    except SipParseError as err:
        assert_input_error(err, kind=SipParseError, text=data, filename="fuzz.sip")
        return None


def summary(msg) -> tuple:
    if isinstance(msg, Request):
        start = ("request", msg.method, msg.request_uri)
    else:
        start = ("response", msg.status_code, msg.reason)
    return (*start, msg.sip_version, list(msg.headers), msg.body)


def assert_round_trip(msg) -> None:
    assert isinstance(msg, (Request, Response))
    with guard("to_bytes", seconds=PARSE_SECONDS, megabytes=PARSE_MB):
        data = msg.to_bytes()
    assert isinstance(data, bytes)
    again = parse_or_error(data)
    assert again is not None, f"parse_message refuses its own output: {data[:400]!r}"
    assert summary(again) == summary(msg)


def assert_address_functions(value: str) -> None:
    """Each call is one MSPL built-in call (GetUri, ...): each one is bounded on its own."""
    calls = [(f, (value,)) for f in ADDRESS_FUNCTIONS]
    calls += [(f, (value, name)) for f in PARAMETER_FUNCTIONS for name in PARAMETER_NAMES]
    for f, args in calls:
        with guard(f"{f.__name__} on {len(value)} characters", seconds=PARSE_SECONDS, megabytes=PARSE_MB):
            result = f(*args)
        assert result is None or isinstance(result, str), (f.__name__, args, result)


@given(S.sip_inputs())
def test_bytes_parse_to_a_message_or_a_located_error(data):
    msg = parse_or_error(data)
    if msg is not None:
        assert_round_trip(msg)


@given(S.sip_inputs().flatmap(S.as_text))
def test_text_with_surrogates_parses_to_a_message_or_a_located_error(text):
    msg = parse_or_error(text)
    if msg is not None:
        assert_round_trip(msg)


@given(S.sip_message())
def test_generated_messages_round_trip(data):
    msg = parse_or_error(data)
    if msg is not None:
        assert_round_trip(msg)
        for header in msg.headers:
            assert_address_functions(header.value)


@given(st.one_of(S.mutated(S.torture_messages()), S.mutated(S.sample_messages())))
def test_address_functions_on_every_header_value_of_mutated_messages(data):
    msg = parse_or_error(data)
    if msg is not None:
        for header in msg.headers:
            assert_address_functions(header.value)
        assert_address_functions(msg.request_uri if isinstance(msg, Request) else msg.reason)


@given(st.one_of(S.address(), S.sip_uri(), S.mutated_text(tuple(a.encode() for a in (
        '"Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b', "<sip:jennyl@contoso.com;transport=tls>;epid=7c",
        "sip:+14255550100@contoso.com;user=phone", "SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-1;received=x")))))
def test_address_functions_never_raise_on_any_text(value):
    assert_address_functions(value)
