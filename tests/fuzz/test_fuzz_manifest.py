"""Fuzz the manifest loader: parse_manifest on text, load_manifest on files, then compile the script.

Properties: an ApplicationManifest or a located ManifestError; compiling the script it holds gives a
Script or a located ScriptError; bounded time and memory; nothing else escapes.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mspl_lite.errors import InputError, ManifestError, ScriptError
from mspl_lite.language import compile_manifest
from mspl_lite.manifest import ApplicationManifest, load_manifest, parse_manifest
from mspl_lite.text import display_path

from . import _strategies as S
from ._contract import assert_input_error, guard

SECONDS = 3.0
MEGABYTES = 96


#: A line of /etc/passwd: no flat file may read it, no diagnostic may quote it (issue 14).
PASSWD = "root:x:0:0"


def assert_manifest_or_error(load, text, filename: str) -> None:
    try:
        with guard("manifest", seconds=SECONDS, megabytes=MEGABYTES):
            manifest = load()
    except ManifestError as err:
        assert_input_error(err, kind=ManifestError, text=text, filename=filename)
        assert PASSWD not in str(err), "a diagnostic quotes a file outside the manifest's folder"
        return
    assert isinstance(manifest, ApplicationManifest)
    rows = repr([flat.rows for flat in manifest.files.values()])
    assert PASSWD not in rows, "a flat file was read from outside the manifest's folder"
    try:
        with guard("compile_manifest", seconds=SECONDS, megabytes=MEGABYTES):
            compile_manifest(manifest)
    except ScriptError as err:
        assert_input_error(err, kind=ScriptError, text=manifest.source, filename=manifest.filename)
    except InputError as err:  # a flat file the script reads (ManifestError) is bad input too
        assert_input_error(err)


@given(S.manifest_inputs().flatmap(S.as_text))
def test_parse_manifest_gives_a_manifest_or_a_located_error(text):
    assert_manifest_or_error(lambda: parse_manifest(text, filename="fuzz.am", base_dir=S.ROOT / "tests" / "data"
                                                    / "manifests"), text, "fuzz.am")


@given(S.manifest_inputs(), st.sampled_from(("fuzz.am", "x.AM", "name with spaces.am")))
def test_load_manifest_from_a_file_gives_a_manifest_or_a_located_error(data, name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        # A flat file next to it, as the test manifests expect (policy.txt, hostname.csv).
        for flat in ("policy.txt", "hostname.csv"):
            (Path(folder) / flat).write_bytes((S.ROOT / "tests" / "data" / "manifests" / flat).read_bytes())
        assert_manifest_or_error(lambda: load_manifest(path), data, display_path(path))
