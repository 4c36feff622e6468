"""The fast paths of a transaction give what the slow ones give (issue 13, speed): the "nothing or
one value changed" diff, the user index of the lab, the shared trace values, and the caches stay
bounded whatever a replay feeds them."""
from __future__ import annotations

import random

from mspl_lite.frontend import FrontEnd
from mspl_lite.frontend import context as frontend_context
from mspl_lite.frontend.context import changes, shared
from mspl_lite.frontend.lab import aor_of, phone_number_of
from mspl_lite.frontend.trace import Changes
from mspl_lite.sip import Request, parse_message
from mspl_lite.sip import message as sip_message

IM = ("MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n"
      "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-fast\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:terrya@contoso.com>;tag=1\r\n"
      "To: <sip:jennyl@contoso.com>\r\n"
      "Call-ID: fast-1\r\n"
      "CSeq: 1 MESSAGE\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Length: 31\r\n\r\n"
      "see http://www.fabrikam.com/a b")


def test_changes_equal_the_full_diff_on_random_header_edits():
    rng = random.Random(13)
    names = ["Via", "To", "X-A", "x-a", "Max-Forwards", "Route"]
    values = ["1", "2", "3"]
    for _ in range(3000):
        before = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 5))]
        after = list(before)
        for _ in range(rng.randint(0, 2)):
            op = rng.random()
            if after and op < 0.5:
                i = rng.randrange(len(after))
                after[i] = (after[i][0] if rng.random() < 0.8 else rng.choice(names), rng.choice(values))
            elif op < 0.7:
                after.append((rng.choice(names), rng.choice(values)))
            elif after:
                after.pop(rng.randrange(len(after)))
        b, a = Request("OPTIONS", "sip:a@contoso.com"), Request("OPTIONS", "sip:a@contoso.com")
        b.headers, a.headers = list(before), list(after)
        assert changes(b, a) == Changes.between(b, a), (before, after)


def test_changes_of_a_body_and_a_request_uri_equal_the_full_diff():
    before = parse_message(IM)
    after = before.copy()
    after.set_body(b"see _http://www.fabrikam.com/a b")
    assert changes(before, after) == Changes.between(before, after)
    assert not changes(before, after).empty
    after = before.copy()
    after.request_uri = "sip:nuriag@contoso.com"
    assert changes(before, after) == Changes.between(before, after)
    assert changes(before, before.copy()) == Changes.between(before, before.copy())


def test_lab_user_finds_what_a_linear_search_finds():
    lab = FrontEnd().lab

    def linear(address):
        if not address:
            return None
        aor = aor_of(address) if (":" in address or "<" in address) else address.lower()
        number = phone_number_of(address)
        for u in lab.users:
            if (aor and u.aor == aor) or (number and u.number == number):
                return u
        if aor and aor.startswith("+"):
            return next((u for u in lab.users if u.number == aor), None)
        return None

    addresses = [None, "", "x", "sip:nobody@contoso.com", "+1", "tel:+1"]
    for u in lab.users:
        addresses += [u.uri, u.uri.upper(), f'"N" <{u.uri}>;tag=1', u.aor, u.line_uri or "", u.number or "",
                      f"sip:{u.number}@contoso.com;user=phone", f"tel:{u.number}"]
    assert any(lab.user(a) is not None for a in addresses)
    for address in addresses:
        assert lab.user(address) == linear(address), address


def test_repeated_transactions_give_equal_traces():
    fe = FrontEnd()
    first = fe.send(IM)
    again = fe.send(IM)
    assert again == first and again.text() == first.text() and again.to_json() == first.to_json()
    assert again.hop("IIMFilter").changes.lines() == ["~ Content-Length: 31 -> 32",
                                                      "body: 'see http://www.fabrikam.com/a b' -> "
                                                      "'see _http://www.fabrikam.com/a b'"]


def test_shared_values_are_bounded():
    built = []
    long_key = ("test-long", "x" * (frontend_context._SHARED_TEXT + 1))
    assert shared(long_key, lambda: built.append(1) or "v") == "v"
    assert shared(long_key, lambda: built.append(1) or "v") == "v"
    assert len(built) == 2                      # a key with a long text is never kept
    assert long_key not in frontend_context._shared
    assert len(frontend_context._shared) <= frontend_context._SHARED


def test_long_header_values_and_uris_are_checked_but_not_cached():
    message = parse_message(IM)
    before = sip_message._checked_header.cache_info().currsize
    message.add_header("X-Long", "v" * (sip_message._CACHED_TEXT + 10))
    message.request_uri = "sip:" + "a" * (sip_message._CACHED_TEXT + 10) + "@contoso.com"
    assert sip_message._checked_header.cache_info().currsize == before
    assert message.get("X-Long").startswith("vvv")
