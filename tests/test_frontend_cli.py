"""The command line contract of issue 3: `mspl-lite apps` and `mspl-lite trace ... --json`."""
from __future__ import annotations

import json
import subprocess
import sys

from _frontend_support import app, im, invite

CONTRACT_HOP_KEYS = {"app", "priority", "ran", "why", "action"}


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mspl_lite.cli", *args], capture_output=True, text=True, cwd=cwd)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def test_trace_json_has_the_contract_keys(tmp_path):
    msg = write(tmp_path, "im.sip", im("sip:jennyl@contoso.com", "see http://www.fabrikam.com/x"))
    result = run_cli("trace", msg, "--app", app("redirect-im-retarget.am"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"]["kind"] == "proxied"
    assert data["outcome"]["destination"].startswith("sip:192.0.2.21:")        # Nuria's endpoint
    assert data["outcome"]["status"] == 200
    assert len(data["hops"]) == 14
    assert all(CONTRACT_HOP_KEYS <= set(h) for h in data["hops"])
    assert [h["priority"] for h in data["hops"]] == list(range(14))
    # No @PRIORITY: just above UserServices, as its <allowRegistrationBeforeUserServices/> allows.
    assert data["hops"][3]["app"] == "RedirectImRetarget" and data["hops"][3]["ran"] is True
    assert data["hops"][4]["app"] == "UserServices"
    skipped = [h for h in data["hops"] if not h["ran"]]
    assert skipped and all(h["why"] for h in skipped)
    assert "_http://www.fabrikam.com/x" in data["forwarded"]
    assert data["log"][0]["app"] == "RedirectImRetarget"
    assert {h["app"] for h in data["hops"]} >= {"ClientVersionFilter", "IIMFilter", "OutboundRouting", "AcpRouting"}


def test_trace_json_for_a_drop_and_a_respond(tmp_path):
    msg = write(tmp_path, "im.sip", im("sip:jennyl@contoso.com", "hello"))
    dropped = json.loads(run_cli("trace", msg, "--app", app("silent.am"), "--json").stdout)
    assert dropped["outcome"]["kind"] == "dropped"
    assert dropped["outcome"]["status"] is None and dropped["forwarded"] is None
    call = write(tmp_path, "call.sip", invite("sip:kima@contoso.com"))
    responded = json.loads(run_cli("trace", call, "--json").stdout)
    assert responded["outcome"]["kind"] == "responded" and responded["outcome"]["status"] == 480


def test_priority_past_the_end_places_the_app_last(tmp_path):
    result = run_cli("apps", "--app", app("silent.am") + "@99", "--json")
    rows = json.loads(result.stdout)["apps"]
    assert rows[-1]["Name"] == "Silent" and rows[-1]["Priority"] == 13


def test_apps_prints_the_chain_like_get_csserverapplication():
    result = run_cli("apps", "--app", app("first.am"))
    assert result.returncode == 0
    assert "Identity   : service:Registrar:pool01.contoso.com/First" in result.stdout
    first = result.stdout.index("/First")
    assert result.stdout.index("/IncomingFederation") < first < result.stdout.index("/UserServices")


def test_refused_registration_exits_1_with_the_reason_and_no_traceback(tmp_path):
    msg = write(tmp_path, "im.sip", im("sip:jennyl@contoso.com", "hello"))
    result = run_cli("trace", msg, "--app", app("block-word.am") + "@0", "--json")
    assert result.returncode == 1
    assert "allowRegistrationBeforeUserServices" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_broken_inputs_exit_nonzero_without_traceback(tmp_path):
    good = write(tmp_path, "im.sip", im("sip:jennyl@contoso.com", "hello"))
    bad_msg = write(tmp_path, "bad.sip", "this is not SIP\r\n\r\n")
    bad_am = write(tmp_path, "bad.am", "<r:applicationManifest xmlns:r='http://schemas.microsoft.com/lcs/2006/05'>")
    bad_lab = write(tmp_path, "bad.toml", "[pool]\nfqdn = pool01\n")
    cases = [
        ("trace", bad_msg),
        ("trace", good, "--app", bad_am),
        ("trace", good, "--lab", bad_lab),
        ("trace", str(tmp_path / "missing.sip")),
        ("apps", "--app", app("silent.am") + "@x"),
        ("apps", "--lab", str(tmp_path / "missing.toml")),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stderr.strip(), args
    lab_error = run_cli("trace", good, "--lab", bad_lab)
    assert "bad.toml:2:" in lab_error.stderr


def test_diagram_flag_draws_or_says_clearly_why_not(tmp_path):
    target = tmp_path / "chain.svg"
    result = run_cli("apps", "--diagram", str(target))
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert target.exists() and "<svg" in target.read_text()
    else:
        assert result.returncode == 1 and result.stderr.strip()
        assert not target.exists()


def test_apps_warns_on_stderr_and_in_the_listing_when_an_application_goes_below_defaultrouting():
    result = run_cli("apps", "--app", app("block-word.am") + "@9")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("warning: BlockWord is at priority 9, below DefaultRouting")
    assert "must be set higher than the DefaultRouting application" in result.stderr
    assert "Warning    : BlockWord is at priority 9" in result.stdout
    data = json.loads(run_cli("apps", "--app", app("block-word.am") + "@9", "--json").stdout)
    assert data["warnings"] and "Dn439078" in data["warnings"][0]
    assert {row["Name"]: row["Critical"] for row in data["apps"]}["DefaultRouting"] is True
    clean = run_cli("apps", "--app", app("block-word.am"))
    assert clean.returncode == 0 and clean.stderr == "" and "Warning    :" not in clean.stdout
