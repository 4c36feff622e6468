"""RFC 4475 torture messages: every row of tests/data/sip-torture/INDEX.tsv is a test case.

``valid`` and ``valid-app`` messages parse (a server may still answer 4xx; the parser accepts);
``invalid`` ones raise SipParseError whose first diagnostic names the problem, its line and
column, and gives a hint. A new row in INDEX.tsv is picked up automatically; a new invalid row
also needs its expected problem in EXPECTED_PROBLEM (a test says so).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from mspl_lite.errors import SipParseError
from mspl_lite.sip import Request, Response, parse_message
from mspl_lite.sip import _validate
from mspl_lite.sip._fields import header_key

DATA = Path(__file__).parent / "data" / "sip-torture"

with open(DATA / "INDEX.tsv", newline="", encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f, delimiter="\t"))

PARSES = [r for r in ROWS if r["expect"] in ("valid", "valid-app")]
INVALID = [r for r in ROWS if r["expect"] == "invalid"]

# file -> (pattern the first diagnostic's message must match, line, column)
EXPECTED_PROBLEM = {
    "badinv01.dat": (r"extraneous ';'", 7, 28),
    "clerr.dat": (r"Content-Length 9999 is larger than the body \(154 bytes\)", 10, 17),
    "ncl.dat": (r"negative Content-Length -999", 10, 17),
    "scalar02.dat": (r"CSeq sequence number 36893488147419103232 is too large", 5, 7),
    "scalarlg.dat": (r"CSeq sequence number 9292394834772304023312 is too large", 5, 7),
    "quotbal.dat": (r"unterminated quoted string", 2, 5),
    "ltgtruri.dat": (r"Request-URI must not be enclosed in <>", 1, 8),
    "lwsruri.dat": (r"whitespace inside the Request-URI on the request line", 1, 29),
    "lwsstart.dat": (r"extra whitespace between the elements of the request line", 1, 8),
    "trws.dat": (r"trailing whitespace at the end of the request line", 1, 46),
    "escruri.dat": (r"escaped headers .* not allowed in a SIP Request-URI", 1, 28),
    "baddate.dat": (r"Date must be in GMT, got 'EST'", 8, 33),
    "regbadct.dat": (r"URI with escaped headers .* must be enclosed in <>", 8, 30),
    "badaspec.dat": (r"whitespace inside <\.\.\.>: an addr-spec cannot contain spaces", 5, 23),
    "baddn.dat": (r"character ',' is not allowed in an unquoted display name", 4, 14),
    "badvers.dat": (r"unsupported SIP version 'SIP/7\.0'", 1, 34),
    "mismatch01.dat": (r"CSeq method 'INVITE' differs from the request method 'OPTIONS'", 6, 9),
    "mismatch02.dat": (r"CSeq method 'INVITE' differs from the request method 'NEWMETHOD'", 6, 9),
    "bigcode.dat": (r"status code 4294967301 is out of range \(100-699\)", 1, 9),
}

# Faults after the first that the RFC names too (scalar values out of range, both display names).
ALSO_REPORTED = {
    "scalar02.dat": [r"Max-Forwards 300 is out of range", r"Expires value 1000+ is too large"],
    "scalarlg.dat": [r"Retry-After value 949302838503028349304023988 is too large"],
    "baddn.dat": [r"unquoted display name"],
    "badinv01.dat": [r"extraneous ';'"],
}


def _ids(rows):
    return [r["file"] for r in rows]


def _read(row) -> bytes:
    return (DATA / row["file"]).read_bytes()


@pytest.mark.parametrize("row", PARSES, ids=_ids(PARSES))
def test_valid_message_parses(row):
    data = _read(row)
    msg = parse_message(data, filename=row["file"])
    assert isinstance(msg, Request if row["kind"] == "request" else Response)
    out = msg.to_bytes()
    # Canonical input comes back byte for byte; only octets after Content-Length are dropped.
    assert data.startswith(out)
    if len(out) < len(data):
        assert msg.get("Content-Length") is not None and int(msg.get("Content-Length")) == len(msg.body)
    again = parse_message(out)
    assert again.headers == msg.headers and again.body == msg.body


@pytest.mark.parametrize("row", INVALID, ids=_ids(INVALID))
def test_invalid_message_is_refused_with_a_located_diagnostic(row):
    data = _read(row)
    with pytest.raises(SipParseError) as info:
        parse_message(data, filename=row["file"])
    lines = data.decode("utf-8", "replace").splitlines()
    for d in info.value.diagnostics:
        assert d.filename == row["file"]
        assert d.line >= 1 and d.column >= 1
        assert d.source == lines[d.line - 1]
        assert d.hint
    assert str(info.value).startswith(f"{row['file']}:{info.value.line}:{info.value.column}: error: ")


@pytest.mark.parametrize("row", INVALID, ids=_ids(INVALID))
def test_invalid_message_names_its_specific_problem(row):
    if row["file"] not in EXPECTED_PROBLEM:
        pytest.fail(f"add the expected problem of {row['file']} ({row['what it exercises']}) to EXPECTED_PROBLEM")
    pattern, line, column = EXPECTED_PROBLEM[row["file"]]
    with pytest.raises(SipParseError) as info:
        parse_message(_read(row), filename=row["file"])
    first = info.value.first
    assert re.search(pattern, first.message), first.message
    assert (first.line, first.column) == (line, column)
    rest = [d.message for d in info.value.diagnostics[1:]]
    for also in ALSO_REPORTED.get(row["file"], []):
        assert any(re.search(also, m) for m in rest), (also, rest)


def test_every_kind_of_row_is_present():
    assert {r["expect"] for r in ROWS} == {"valid", "valid-app", "invalid"}
    assert len(ROWS) == 49


def test_double_request_keeps_the_first_message_only():
    msg = parse_message((DATA / "dblreq.dat").read_bytes())
    assert msg.method == "REGISTER" and msg.body == b""


def test_conflicting_content_lengths_take_the_whole_body():
    msg = parse_message((DATA / "mcl01.dat").read_bytes())
    assert msg.get_all("Content-Length") == ["13", "5"]
    assert msg.body.startswith(b"There's no way to know")


def test_wsinv_values_are_unfolded_and_compact_names_work():
    msg = parse_message((DATA / "wsinv.dat").read_bytes())
    assert msg.get("To") == "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n"
    assert msg.get("CSeq") == "0009 INVITE"
    assert msg.get("Subject") == ""
    assert msg.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert msg.get_all("Via") == [
        "SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw",
        "SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8",
        "SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
    ]
    assert msg.get("m") == '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33'


def test_esc02_percent_name_is_not_contact():
    msg = parse_message((DATA / "esc02.dat").read_bytes())
    assert msg.get_all("Contact") == ["<sip:alias1@host1.example.com>", "<sip:alias3@host3.example.com>"]
    assert msg.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


# ---- the two speeds of the grammar agree ------------------------------------------------------------

def _checked_values(rows):
    for row in rows:
        msg = parse_message(_read(row))
        for h in msg.headers:
            check = _validate.HEADER_CHECKS.get(header_key(h.name))
            if check is not None:
                yield row["file"], h, check


def test_fast_patterns_are_never_looser_than_the_scanners():
    """Every value a fast pattern accepts, the full check accepts too (on all parseable messages)."""
    seen = 0
    for _file, h, (fast, full, _spans) in _checked_values(PARSES):
        if fast(h.value) is not None:
            full(h.value)  # must not raise
            seen += 1
    assert seen > 200


def test_messages_parse_the_same_without_the_fast_patterns(monkeypatch):
    """The scanners alone reach the same verdicts: same headers, same first diagnostic."""
    expected = {}
    for row in ROWS:
        try:
            expected[row["file"]] = parse_message(_read(row)).headers
        except SipParseError as err:
            expected[row["file"]] = (err.first.message, err.first.line, err.first.column)
    slow = {key: ((lambda value: None), full, spans) for key, (fast, full, spans) in _validate.HEADER_CHECKS.items()}
    monkeypatch.setattr(_validate, "HEADER_CHECKS", slow)
    import mspl_lite.sip.parser as parser_module

    monkeypatch.setattr(parser_module, "HEADER_CHECKS", slow)
    for row in ROWS:
        try:
            got = parse_message(_read(row)).headers
        except SipParseError as err:
            got = (err.first.message, err.first.line, err.first.column)
        assert got == expected[row["file"]], row["file"]


# ---- robustness: mangled input is an error, never a crash or a hang --------------------------------

_MUTATIONS = [b" ", b":", b"<", b">", b'"', b"\n", b"\r", b"\x00", b";", b",", b"@", b"\\", b"\xff"]


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_mangled_messages_never_crash(row):
    data = _read(row)
    cases = [data[:cut] for cut in range(0, len(data), 11)]
    for k, pos in enumerate(range(0, min(len(data), 400), 5)):
        byte = _MUTATIONS[k % len(_MUTATIONS)]
        cases.append(data[:pos] + byte + data[pos + 1 :])
    for case in cases:
        try:
            msg = parse_message(case)
        except SipParseError as err:
            assert err.diagnostics and all(d.hint for d in err.diagnostics)
        else:
            msg.to_bytes()
            str(msg)


@pytest.mark.parametrize(
    "header",
    [
        "To: " + "a " * 20000 + "x",
        "To: <sip:" + "a" * 50000,
        "From: " + '"' + "a\\" * 20000,
        "Contact: " + "<sip:a@b>;" * 5000,
        "Via: SIP/2.0/UDP " + "a." * 20000 + "-",
        "Route: " + "<sip:a@b;lr>, " * 3000 + ",",
        "Call-ID: " + "x" * 100000 + " y",
        "CSeq: " + "9" * 100000 + " INVITE",
    ],
    ids=["tokens", "open-angle", "open-quote", "params", "host", "route-list", "call-id", "cseq"],
)
def test_pathological_values_are_handled_quickly(header):
    import time

    t0 = time.perf_counter()
    try:
        parse_message(f"OPTIONS sip:b@c SIP/2.0\r\n{header}\r\n\r\n")
    except SipParseError:
        pass
    assert time.perf_counter() - t0 < 2.0
