"""The real-pool test of decision D1 (docs/real-pool-test.md): its manifests and the prediction."""
from __future__ import annotations

import pytest

from mspl_lite.check import check_file
from mspl_lite.course import real_pool_test
from mspl_lite.frontend import FrontEnd


@pytest.mark.parametrize("name", real_pool_test.MANIFESTS)
def test_shipped_manifest_has_no_error_or_warning(name):
    diagnostics = check_file(real_pool_test.manifest_path(name))
    assert [str(d) for d in diagnostics] == []


def test_the_applications_sit_where_the_procedure_registers_them():
    fe = FrontEnd()
    real_pool_test.install(fe)
    names = [app.name for app in fe.chain]
    user_services = names.index("UserServices")
    assert names[user_services + 1:user_services + 3] == ["RouteTest", "ProbeNext"]
    assert names[names.index("DefaultRouting") - 1] == "ProbeLast"


def test_prediction_follows_decision_d1_and_the_control_reaches_both_probes():
    prediction = real_pool_test.predict()
    # ProxyRequest(uri): the request leaves the server, no later application logs it (D1).
    assert prediction.probes_that_logged("test") == ()
    # ProxyRequest(""): the request goes on to the next application (D2); both probes log it.
    assert prediction.probes_that_logged("control") == ("ProbeNext", "ProbeLast")
    test_trace = prediction.traces[0]
    assert test_trace.hop("ProbeNext").why == "routed"
    assert "RouteTest" in test_trace.outcome.summary()


def test_prediction_reads_as_the_table_of_the_procedure():
    text = str(real_pool_test.predict())
    assert "test      ProxyRequest(\"sip:nuriag@contoso.com\")  none" in text
    assert "control   ProxyRequest(\"\")" in text and "ProbeNext, ProbeLast" in text
