"""approval_error: one exception class per family of reason codes, old class names kept."""

import pytest

from countersign import (ApprovalCancelled, ApprovalDenied, ApprovalDeniedAtDeadline,
                         ApprovalError, ApprovalExpired, ApprovalTimedOut, approval_error,
                         approval_error_class)


@pytest.mark.parametrize("status, code, family", [
    ("denied", "denied_by_person", ApprovalDenied),
    ("denied", "denied_by_policy", ApprovalDenied),
    ("expired", "expired", ApprovalExpired),
    ("expired", "escalation_exhausted", ApprovalExpired),
    ("denied", "expired", ApprovalDeniedAtDeadline),
    ("cancelled", "cancelled_by_requester", ApprovalCancelled),
    ("cancelled", "cancelled_by_admin", ApprovalCancelled),
    ("dismissed", "dismissed", ApprovalError),
])
def test_the_class_follows_the_reason_code(status, code, family):
    request = {"id": "req_1", "status": status, "reason_code": code}
    assert approval_error_class(request) is family
    error = approval_error(request)
    assert type(error) is family
    assert (error.reason_code, error.status, error.request_id) == (code, status, "req_1")
    assert error.request is request
    assert code in str(error)


def test_old_names_still_catch_what_they_caught():
    expired = approval_error({"status": "expired", "reason_code": "escalation_exhausted"})
    assert isinstance(expired, ApprovalTimedOut)
    at_deadline = approval_error({"status": "denied", "reason_code": "expired"})
    assert isinstance(at_deadline, ApprovalDenied)
    assert isinstance(at_deadline, ApprovalTimedOut)


def test_a_server_without_reason_codes_falls_back_on_the_status():
    for status, family in (("denied", ApprovalDenied), ("expired", ApprovalExpired),
                           ("cancelled", ApprovalCancelled)):
        error = approval_error({"id": "req_2", "status": status}, "not approved")
        assert type(error) is family
        assert error.reason_code is None
        assert str(error) == "not approved"
