"""The command line turns every input error into a message and an exit status."""
import subprocess
import sys


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mspl_lite.cli", *args], capture_output=True, text=True)


def test_missing_file_is_a_message_not_a_traceback(tmp_path):
    result = run_cli("check", str(tmp_path / "nope.am"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nope.am" in result.stderr


def test_no_command_prints_usage():
    result = run_cli()
    assert result.returncode == 2
    assert "usage: mspl-lite" in result.stderr
