"""CloudWatch Logs metric filter patterns judged against the CIS 4.x events
(validator/inventory/cloudwatch_patterns.py)."""

from __future__ import annotations

import pytest

from validator.inventory.cloudwatch_patterns import EVENTS, compile_pattern, monitored

TRAIL = ("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
         "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }")


def test_every_control_has_events():
    assert list(EVENTS) == [f"4.{n}" for n in range(1, 16)]
    assert all(EVENTS.values())


@pytest.mark.parametrize("pattern", [
    TRAIL,
    # spacing, quoting, order and redundant parentheses do not matter
    '{($.eventName="StopLogging")||($.eventName="StartLogging")||($.eventName=DeleteTrail)'
    '||($.eventName=UpdateTrail)||($.eventName=CreateTrail)}',
    "{ $.eventSource = cloudtrail.amazonaws.com && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) "
    "|| ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }",
    # wildcards that still single out the trail's API
    "{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = *Trail) || ($.eventName = *Logging)) }",
])
def test_patterns_written_differently_serve_the_same_control(pattern):
    assert monitored(pattern) == ["4.5"]


@pytest.mark.parametrize("pattern", [
    # one event forgotten
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
    "|| ($.eventName = StartLogging) }",
    # the wrong service
    "{ $.eventSource = s3.amazonaws.com && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) "
    "|| ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }",
    # && where || was meant
    "{ ($.eventName = CreateTrail) && ($.eventName = UpdateTrail) }",
])
def test_patterns_missing_events_do_not_serve(pattern):
    assert "4.5" not in (monitored(pattern) or [])


def test_a_pattern_matching_everyday_events_serves_nothing():
    assert monitored("{ $.eventName = * }") == []
    assert monitored("{ $.eventVersion = * || $.eventName = CreateTrail }") == []


@pytest.mark.parametrize("pattern", ["", "ERROR", "[ip, user, ...]", "{ $.eventName = }", "{ ($.eventName = A }",
                                     "{ $.eventName = A ) }"])
def test_unreadable_patterns_give_none(pattern):
    assert monitored(pattern) is None


def test_the_usual_patterns_of_each_control():
    assert monitored('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
                     '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }') == ["4.1"]
    assert monitored('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
                     '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }') == ["4.2"]
    assert monitored('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
                     '$.eventType != "AwsServiceEvent" }') == ["4.3"]
    assert monitored('{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }') == ["4.6"]
    assert monitored("{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
                     "($.eventName = ScheduleKeyDeletion)) }") == ["4.7"]


def test_regular_expression_values():
    assert monitored("{ ($.eventSource = cloudtrail.amazonaws.com) && "
                     "($.eventName = %^(Create|Update|Delete)Trail$|^(Start|Stop)Logging$%) }") == ["4.5"]
    assert monitored("{ $.eventName = %^(Create|Update)Trail$% }") == []
    assert monitored("{ $.eventName = %(% }") is None


def test_comparisons():
    event = {"a": {"b": 3, "c": [{"d": "x"}]}, "e": True, "f": None}
    assert compile_pattern("{ $.a.b > 2 && $.a.b <= 3 && $.a.b = 3 }")(event)
    assert compile_pattern("{ $.a.c[0].d = x && $.e IS TRUE && $.f IS NULL && $.g NOT EXISTS }")(event)
    assert not compile_pattern("{ $.g = x }")(event) and not compile_pattern("{ $.g != x }")(event)
    assert not compile_pattern('{ $.a.b = "4" }')(event)
