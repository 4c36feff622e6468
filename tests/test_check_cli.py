"""`mspl-lite check` end to end: positions in the .am file, exit statuses, JSON, bad files."""
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mspl_lite.check import check_command, check_file, check_source

DATA = Path(__file__).parent / "data" / "check"
SAMPLES = ["forward_invite.am", "default_routing.am", "remove_last_active.am"]


def run_cli(*args):
    result = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "check", *map(str, args)],
                            capture_output=True, text=True)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_official_samples_exit_0_with_no_diagnostic():
    result = run_cli(*(DATA / name for name in SAMPLES))
    assert result.returncode == 0
    assert result.stdout.strip() == "check: 0 errors, 0 warnings in 3 files"
    assert result.stderr == ""


def test_compile_errors_point_at_lines_of_the_am_file():
    path = DATA / "broken.am"
    result = run_cli(path)
    assert result.returncode == 1
    assert f"{path}:10:9: error: unknown function ProxyRequst" in result.stderr
    assert "            ProxyRequst(\"\");\n            ^\n    hint: did you mean ProxyRequest?" in result.stderr
    assert f"{path}:13:20: error: sipRequest (Request) has no field method" in result.stderr
    assert result.stdout.strip() == "check: 2 errors, 0 warnings in 1 file"


def test_syntax_errors_on_the_cdata_line_count_its_columns():
    path = DATA / "syntax_error.am"
    result = run_cli(path)
    assert result.returncode == 1
    # the script starts right after <![CDATA[ on line 6: the column counts from the line's start
    assert f"{path}:6:55: error: expected ';' after this statement" in result.stderr
    assert f"{path}:7:15: error: '=' in a condition: did you mean '=='?" in result.stderr


def test_warnings_alone_exit_0():
    result = run_cli(DATA / "learner.mspl")
    assert result.returncode == 0
    assert result.stdout.strip() == "check: 0 errors, 4 warnings in 1 file"
    assert f"{DATA / 'learner.mspl'}:2:5: warning:" in result.stderr


def test_json_output_is_one_list_of_diagnostics():
    result = run_cli("--json", DATA / "broken.am", DATA / "forward_invite.am")
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert [(d["line"], d["column"], d["severity"], d["code"]) for d in found] == [
        (10, 9, "error", "unknown-function"), (13, 20, "error", "unknown-field")]
    assert found[0]["file"] == str(DATA / "broken.am")
    assert found[0]["hint"] == "did you mean ProxyRequest?"
    assert result.stderr == ""


def test_a_missing_file_is_an_error_and_the_next_file_is_still_checked(tmp_path):
    missing = tmp_path / "nope.am"
    result = run_cli(missing, DATA / "broken.am")
    assert result.returncode == 1
    assert f"{missing}: error: no such file" in result.stderr
    assert "ProxyRequst" in result.stderr
    assert result.stdout.strip() == "check: 3 errors, 0 warnings in 2 files"


def test_a_name_too_long_for_the_system_is_an_error_of_that_file_only(tmp_path):
    too_long = tmp_path / ("a" * 5000 + ".am")   # stat() itself fails: ENAMETOOLONG
    (diagnostic,) = check_file(too_long)
    assert (diagnostic.severity, diagnostic.code) == ("error", "unreadable")
    assert diagnostic.message.startswith("cannot read the file")
    result = run_cli(too_long, DATA / "broken.am")
    assert result.returncode == 1 and "ProxyRequst" in result.stderr
    assert result.stdout.strip() == "check: 3 errors, 0 warnings in 2 files"


def test_a_folder_and_a_non_utf8_script_are_errors(tmp_path):
    bad = tmp_path / "latin1.mspl"
    bad.write_bytes('Log("Event", 1, "caf\u00e9");'.encode("latin-1"))
    result = run_cli(tmp_path, bad)
    assert result.returncode == 1
    assert f"{tmp_path}: error: this is a folder, not a file" in result.stderr
    assert f"{bad}: error: this file is not UTF-8 text" in result.stderr


def test_a_broken_manifest_reports_the_manifest_error(tmp_path):
    am = tmp_path / "bad.am"
    am.write_text('<?xml version="1.0"?>\n<lc:applicationManifest xmlns:lc="http://schemas.microsoft.com/lcs/2006/05"\n')
    result = run_cli(am)
    assert result.returncode == 1
    assert f"{am}:" in result.stderr and "error:" in result.stderr


def test_flat_files_are_checked_against_the_manifest(tmp_path):
    (tmp_path / "hosts.csv").write_text("contoso.com,pool1.contoso.com\n")
    am = tmp_path / "route.am"
    am.write_text(
        '<?xml version="1.0"?>\n'
        '<lc:applicationManifest lc:appUri="http://contoso.com/Route"\n'
        '    xmlns:lc="http://schemas.microsoft.com/lcs/2006/05">\n'
        '  <lc:responseFilter reasonCodes="NONE"/>\n'
        '  <lc:file name="hosts" path="hosts.csv" keyColumnName="host">\n'
        '    <lc:column name="host"/><lc:column name="target"/>\n'
        '  </lc:file>\n'
        '  <lc:splScript><![CDATA[\n'
        '    t = hosts[GetHostName(sipRequest.RequestUri)].targetHost;\n'
        '    ProxyRequest("");\n'
        '  ]]></lc:splScript>\n'
        '</lc:applicationManifest>\n')
    result = run_cli(am)
    assert result.returncode == 1
    assert f"{am}:9:51: error: flat file hosts has no column targetHost" in result.stderr


# --------------------------------------------------------------------------------------------
# the Python entry points the widgets use
# --------------------------------------------------------------------------------------------

def test_check_command_writes_the_summary_to_out_and_diagnostics_to_err():
    out, err = io.StringIO(), io.StringIO()
    status = check_command(SimpleNamespace(files=[str(DATA / "broken.am")], json=False), out, err)
    assert status == 1
    assert out.getvalue() == "check: 2 errors, 0 warnings in 1 file\n"
    assert err.getvalue().count("error:") == 2


def test_check_file_and_check_source_agree():
    text = (DATA / "broken.am").read_text()
    from_file = [(d.line, d.column, d.message) for d in check_file(DATA / "broken.am")]
    from_text = [(d.line, d.column, d.message) for d in check_source(text, "broken.am")]
    assert from_file == from_text and len(from_file) == 2


def test_check_source_of_a_bare_script():
    (d,) = check_source('x = 1;\nProxyRequest("");', "s.mspl")
    assert (d.filename, d.line, d.code) == ("s.mspl", 2, "unguarded-request-function")
    (d,) = check_source("x = ;", "s.mspl")
    assert (d.severity, d.message) == ("error", "expected a value, found ';'")


@pytest.mark.parametrize("name", SAMPLES)
def test_check_file_on_the_samples(name):
    assert check_file(DATA / name) == []
