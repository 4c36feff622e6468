"""The lab file's `contact` key: a real user agent plays an endpoint (decision D97)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mspl_lite.errors import LabError
from mspl_lite.frontend.labfile import parse_lab

LAB = (Path(__file__).resolve().parents[1] / "mspl_lite" / "data" / "lab.toml").read_text()


def test_contact_makes_a_real_endpoint():
    lab = parse_lab(LAB.replace('address = "192.0.2.21:50230"', 'contact = "tcp:127.0.0.1:5071"'))
    (nuria,) = lab.endpoints["nuriag@contoso.com"]
    assert (nuria.wire, nuria.address, nuria.contact) == ("tcp", "127.0.0.1:5071", "sip:127.0.0.1:5071;transport=tcp")
    assert all(not e.wire for e in lab.endpoints["jennyl@contoso.com"])


@pytest.mark.parametrize("replacement,words", [
    ('contact = "127.0.0.1"', "not an IP address and port"),
    ('contact = "localhost:5071"', "not an IP address and port"),
    ('contact = "127.0.0.1:70000"', "not an IP address and port"),
    ('address = "192.0.2.21:50230"\n  contact = "127.0.0.1:5071"', "not both"),
])
def test_a_bad_contact_is_a_located_error(replacement, words):
    text = LAB.replace('address = "192.0.2.21:50230"', replacement)
    with pytest.raises(LabError) as err:
        parse_lab(text, filename="my-lab.toml")
    message = str(err.value)
    assert words in message and message.startswith("my-lab.toml:") and "hint:" in message
