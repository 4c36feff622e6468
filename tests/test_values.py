"""MSPL values: coercions, comparisons, enums and field reads (dn439149, dn439153, dn439131)."""
from __future__ import annotations

import pytest

from mspl_lite.language.run import ScriptFault
from mspl_lite.language.server import RegistrarEndpoint
from mspl_lite.language.signatures import ENUM_TYPES
from mspl_lite.language.values import (
    ENUMS, INT_MAX, INT_MIN, REMOVED_ENUM_VALUES, EnumValue, Row, TargetInfo, canonical_header_name,
    check_int, coerce_like, compare, enum_value, equal, read_member, show, to_collection, to_float,
    to_int, to_str, truth, type_name,
)

E = ENUMS


# --- coercions (dn439149) ---------------------------------------------------------------------

@pytest.mark.parametrize("text, number", [("42", 42), ("-7", -7), ("+3", 3), ("0x7FFFFFFF", INT_MAX),
                                          ("-2147483648", INT_MIN)])
def test_string_to_int_parses_the_whole_string(text, number):
    assert to_int(text) == number


@pytest.mark.parametrize("text", ["", "12abc", " 12", "12 ", "1.5", "abc", "0x"])
def test_string_to_int_fails_when_the_string_is_not_all_number(text):
    with pytest.raises(ScriptFault, match="cannot convert"):
        to_int(text)


def test_string_to_int_out_of_32_bits_is_an_overflow():
    with pytest.raises(ScriptFault, match="overflow"):
        to_int("2147483648")
    with pytest.raises(ScriptFault, match="overflow"):
        check_int(INT_MIN - 1)
    assert check_int(INT_MAX) == INT_MAX


def test_float_to_int_truncates_and_bool_or_null_are_not_ints():
    assert to_int(3.9) == 3 and to_int(-3.9) == -3
    for bad in (True, None, ("a",)):
        with pytest.raises(ScriptFault):
            to_int(bad)


def test_string_to_float_uses_en_us_format():
    assert to_float("1.5") == 1.5 and to_float("2") == 2.0
    with pytest.raises(ScriptFault):
        to_float("1,5")


def test_string_to_bool_is_true_iff_non_empty():
    assert truth("x") is True and truth("false") is True and truth("") is False


def test_int_to_bool_is_non_zero_and_null_is_false():
    assert truth(1) and truth(-1) and not truth(0) and not truth(None)
    assert not truth(()) and truth(("a",))


def test_int_and_float_to_string():
    assert to_str(42) == "42" and to_str(-1) == "-1" and to_str(1.5) == "1.5" and to_str(2.0) == "2"


def test_bool_to_string_and_enum_to_string():
    assert to_str(True) == "true" and to_str(False) == "false"
    assert to_str(E["StandardMethod"]["Invite"]) == "INVITE"
    assert to_str(E["StandardHeader"]["UserAgent"]) == "User-Agent"


def test_null_and_collection_are_not_strings():
    with pytest.raises(ScriptFault, match="null"):
        to_str(None)
    with pytest.raises(ScriptFault, match="collection"):
        to_str(("a",))


def test_scalar_to_collection_is_one_element():
    assert to_collection("a") == ("a",) and to_collection(3) == (3,) and to_collection(None) == ()
    assert to_collection(("a", "b")) == ("a", "b")


def test_a_variable_keeps_the_type_of_its_first_value():
    assert coerce_like("12", 0) == 12
    assert coerce_like(5, "") == "5"
    assert coerce_like("x", False) is True
    assert coerce_like(None, "text") is None
    with pytest.raises(ScriptFault):
        coerce_like("abc", 0)


# --- comparisons --------------------------------------------------------------------------------

def test_string_equality_is_case_sensitive():
    assert equal("INVITE", "INVITE") and not equal("INVITE", "invite")


def test_null_equals_only_null():
    assert equal(None, None)
    assert not equal(None, "") and not equal("", None) and not equal(None, 0) and not equal(None, False)


def test_numbers_and_numeric_strings_compare_by_value():
    assert equal(5, "5") and equal("5", 5) and not equal("05x", 5) and equal(2, 2.0)
    assert compare("<", "10", 9) is False and compare(">", "10", 9) is True
    assert compare("<", "abc", 9) is False and compare(">=", "abc", 9) is False


def test_strings_order_ordinally():
    assert compare("<", "a", "b") and compare("<", "B", "a") and compare(">=", "b", "b")


def test_bool_never_equals_a_string_or_enum():
    assert not equal(False, "")
    assert not equal(False, "INVITE")
    assert not equal(False, E["StatusClass"]["_2xx"])
    assert equal(True, 1) and equal(False, 0) and equal(True, True)


def test_standard_method_compares_with_the_method_name_case_insensitively():
    invite = E["StandardMethod"]["Invite"]
    assert equal("INVITE", invite) and equal(invite, "invite") and not equal("BYE", invite)
    assert equal("FOO", E["StandardMethod"]["NonStandard"])
    assert not equal("INVITE", E["StandardMethod"]["NonStandard"])
    assert equal(E["StandardMethod"]["BENotify"], "BENOTIFY")


def test_status_class_compares_with_ints_by_class():
    ok = E["StatusClass"]["_2xx"]
    assert equal(ok, 200) and equal(250, ok) and not equal(ok, 300) and not equal(ok, 2)
    assert compare("<", ok, 300) and compare(">", E["StatusClass"]["_4xx"], ok)
    assert equal(ok, "2xx") and equal(ok, "204")


def test_standard_header_compares_with_header_names_including_compact_forms():
    contact = E["StandardHeader"]["Contact"]
    assert equal(contact, "contact") and equal("m", contact) and not equal("Via", contact)
    assert equal(E["StandardHeader"]["CallID"], "Call-ID") and equal("i", E["StandardHeader"]["CallID"])
    assert equal(E["StandardHeader"]["Nonstandard"], "ms-application-aor")


def test_other_enums_compare_with_their_name_and_only_their_own_type():
    assert equal(E["ServerRole"]["FrontEnd"], "frontend")
    assert not equal(E["MessageOrigin"]["NetworkExternal"], E["MessageOrigin"]["NetworkInternal"])
    assert equal(E["ClusterType"]["BackupRegistratr"], E["ClusterType"]["BackupRegistrar"])
    assert not equal(E["ServerRole"]["FrontEnd"], E["MessageOrigin"]["LocalMachine"])


# --- enums -------------------------------------------------------------------------------------

def test_every_enum_type_of_the_signatures_has_a_table():
    assert set(ENUMS) == set(ENUM_TYPES)


def test_enum_tables_hold_the_documented_values():
    assert [v.value for v in E["StatusClass"].values()] == [100, 200, 300, 400, 500, 600]
    for name in ("Ack", "BENotify", "Bye", "Cancel", "Info", "Invite", "Message", "NonStandard", "Notify",
                 "Options", "Refer", "Register", "Service", "Subscribe", "Prack", "Update", "Publish"):
        assert name in E["StandardMethod"]
    for name in ("Via", "Contact", "Route", "To", "From", "CallID", "CSeq", "ContentLength", "Event",
                 "Expires", "MaxForwards", "Accept", "Allow", "ContentType", "Date", "MimeVersion", "UserAgent"):
        assert name in E["StandardHeader"]
    assert set(E["MessageOrigin"]) == {"LocalMachine", "NetworkExternal", "NetworkInternal", "NetworkUnknown"}
    assert {"PrimaryRegistrar", "BackupRegistratr", "UserServices"} <= set(E["ClusterType"])
    assert E["StandardMethod"]["Invite"].value == 0x40 and E["StandardMethod"]["Register"].value == 0x1


def test_guessed_values_are_marked():
    assert E["StandardHeader"]["RecordRoute"].guess and not E["StandardHeader"]["UserAgent"].guess
    assert all(v.guess for v in E["UserOption"].values())
    assert ("UserOption", "PublicCloud") in REMOVED_ENUM_VALUES


def test_enum_value_lookup_and_repr():
    value = enum_value("StandardMethod", "Invite")
    assert isinstance(value, EnumValue) and repr(value) == "StandardMethod.Invite"
    assert enum_value("StandardMethod", "Nope") is None and enum_value("Nope", "x") is None


def test_canonical_header_name_expands_compact_forms():
    assert canonical_header_name("m") == "Contact" and canonical_header_name("V") == "Via"
    assert canonical_header_name("X-Custom") == "X-Custom"


# --- field reads ---------------------------------------------------------------------------------

ENDPOINT = RegistrarEndpoint(epid="01", instance=None, standard_methods=0x40, extra_methods="X",
                             contact_info="sip:1.2.3.4:5061;transport=tls")


def test_registrar_endpoint_fields():
    assert read_member(ENDPOINT, "EPID") == "01"
    assert read_member(ENDPOINT, "Instance") is None
    assert read_member(ENDPOINT, "StandardMethods") == 0x40
    assert read_member(ENDPOINT, "ContactInfo").startswith("sip:1.2.3.4")


def test_removed_presence_fields_say_so():
    with pytest.raises(ScriptFault, match="removed in Lync Server 2013"):
        read_member(ENDPOINT, "Availability")


def test_unknown_field_suggests_the_right_spelling():
    with pytest.raises(ScriptFault) as info:
        read_member(ENDPOINT, "Epid")
    assert "EPID" in info.value.hint


def test_fields_of_false_are_false_and_of_null_are_null():
    assert read_member(False, "Method") is False
    assert read_member(None, "column") is None


def test_fields_of_plain_values_are_faults():
    with pytest.raises(ScriptFault, match="has no fields"):
        read_member("text", "Length")


def test_target_info_and_rows():
    target = TargetInfo(uri="sip:a@b.com", aor="a@b.com", is_phone=False, domain_supported=True)
    assert read_member(target, "Aor") == "a@b.com" and read_member(target, "DomainSupported") is True
    row = Row("routes", {"host": "x", "pool": "y"})
    assert read_member(row, "pool") == "y"
    with pytest.raises(ScriptFault, match="no column"):
        read_member(row, "nope")


def test_type_names_and_show():
    assert [type_name(v) for v in ("a", 1, 1.5, True, None, ("a",))] == [
        "string", "int", "float", "bool", "null", "collection"]
    assert show('say "hi"') == '"say \\"hi\\""' and show(None) == "null" and show(False) == "false"
