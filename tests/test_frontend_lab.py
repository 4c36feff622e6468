"""The lab: the embedded default, the lab file format, and errors that point at the line to fix."""
from __future__ import annotations

import pytest

from mspl_lite.errors import LabError
from mspl_lite.frontend import default_lab_text, load_lab, parse_lab
from mspl_lite.language.server import RegistrarEndpoint, ServerState


def test_default_lab_has_the_sdk_sample_users_signed_in():
    lab = load_lab()
    assert lab.pool == "pool01.contoso.com" and lab.domains == ("contoso.com",)
    for aor in ("jennyl@contoso.com", "nuriag@contoso.com", "terrya@contoso.com"):
        assert lab.user("sip:" + aor) is not None
        assert lab.endpoints[aor], aor
    assert not lab.endpoints.get("kima@contoso.com")                 # a user not signed in
    assert any(u.um_enabled for u in lab.users)                       # a UM-enabled user
    assert lab.federation.partner("fabrikam.com") is not None and lab.edge
    assert lab.gateways and any(r.matches("+12065550123") for r in lab.routes)


def test_lab_is_a_server_state_for_the_mspl_functions():
    state = load_lab().server_state()
    assert isinstance(state, ServerState)
    eps = state.query_endpoints("jennyl@contoso.com")
    assert len(eps) == 2 and all(isinstance(e, RegistrarEndpoint) for e in eps)
    assert eps[0].instance.endswith(";gruu") and eps[0].contact_info.startswith("sip:192.0.2.11:")
    assert eps[0].standard_methods & 0x40                            # INVITE
    assert state.query_endpoints("kima@contoso.com") == []
    assert state.query_home_server("claudiaf@contoso.com") == "pool02.contoso.com"
    assert state.query_home_server("+14255550101", is_phone=True) == "pool01.contoso.com"
    assert state.query_home_server("nobody@contoso.com") is None
    assert state.domain_supported("contoso.com") and not state.domain_supported("fabrikam.com")
    assert state.domain_supported("")
    assert state.check_user_option("sip:jennyl@contoso.com", "UserOption.Federation")
    assert not state.check_user_option("sip:kima@contoso.com", "UserOption.Federation")


def test_dial_plan_and_routes():
    lab = load_lab()
    plan = lab.dial_plan_for(None, "Redmond")
    assert plan.normalize("0101")[0] == "+14255550101"
    assert plan.normalize("2065550123")[0] == "+12065550123"
    assert plan.normalize("011442071234567")[0] == "+442071234567"
    assert [r.name for r in lab.routes_for("+14255550123", "Local")] == ["Redmond Local"]
    assert lab.routes_for("+442071234567", "Long Distance") == []


def test_load_lab_from_a_file(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text(default_lab_text().replace('fqdn = "pool01.contoso.com"', 'fqdn = "poolA.contoso.com"', 1))
    lab = load_lab(path)
    assert lab.pool == "poola.contoso.com" and lab.source == str(path)


def broken(old: str, new: str):
    text = default_lab_text()
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(LabError) as err:
        parse_lab(bad, filename="mylab.toml")
    line_no = err.value.line
    return err.value, bad.splitlines()[line_no - 1] if line_no else ""


def test_toml_syntax_error_has_file_line_and_column():
    err, line = broken('site = "Redmond"', "site = Redmond")
    assert err.filename == "mylab.toml" and err.column > 0
    assert line == "site = Redmond"
    assert "not valid TOML" in str(err) and "hint:" in str(err)


def test_unknown_voice_policy_points_at_the_user_key():
    err, line = broken('voice_policy = "InternalOnly"', 'voice_policy = "Internl"')
    assert line == 'voice_policy = "Internl"'
    assert "Internl" in str(err) and "InternalOnly" in err.first.hint


def test_route_to_an_undefined_gateway_points_at_its_gateways_key():
    err, line = broken('gateways = ["gw01.contoso.com"]\npriority = 1', 'gateways = ["gw09.contoso.com"]\npriority = 1')
    assert line == 'gateways = ["gw09.contoso.com"]'
    assert "gw09" in str(err) and "gw01.contoso.com" in err.first.hint


def test_misspelt_key_and_bad_choice_and_bad_regex():
    err, line = broken("ring_seconds = 20", "ring_secnds = 20")
    assert line.startswith("ring_secnds") and "unknown key" in str(err)
    err, line = broken('answers = "busy"', 'answers = "bsy"')
    assert line.strip() == 'answers = "bsy"' and "answer, ring, busy, decline" in str(err)
    err, line = broken("pattern = '^\\+1\\d{10}$'", "pattern = '^\\+1(\\d{10}$'")
    assert "regular expression" in str(err) and line.startswith("pattern")


def test_missing_file_and_missing_pool(tmp_path):
    with pytest.raises(LabError, match="not found"):
        load_lab(tmp_path / "missing.toml")
    with pytest.raises(LabError, match=r"\[pool\]"):
        parse_lab("[[users]]\nuri = \"sip:a@b.c\"\n", filename="x.toml")
