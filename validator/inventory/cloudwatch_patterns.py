"""Which CIS AWS Foundations monitoring controls (4.1 to 4.15) a CloudWatch Logs metric filter
pattern serves.

A pattern is not compared as text with a reference pattern: it is *evaluated* against the
CloudTrail events each control is about (`EVENTS`), with the semantics of CloudWatch Logs'
JSON filter patterns (`{ ($.eventName = "CreateTrail") || ($.eventName = DeleteTrail) }`):
spacing, quoting, the order of terms and redundant parentheses do not matter, a broader
pattern serves too (but not one that also matches everyday events, `ROUTINE`: its alarm
would fire on every API call), and a pattern that misses one of the control's events (a forgotten
`DeleteTrail`) or that does not parse does not serve the control.

Sample events name only the fields the controls' patterns look at. A field a pattern reads
that an event does not have makes `=` and `!=` false (as in CloudWatch Logs, where a
comparison with a missing field does not match) and `NOT EXISTS` true.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Callable

Event = dict[str, Any]
Test = Callable[[Event], bool]


def _api(source: str, *names: str, **fields: Any) -> list[Event]:
    return [{"eventSource": source, "eventName": name, "eventType": "AwsApiCall", "awsRegion": "us-east-1",
             "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15",
             "userIdentity": {"type": "IAMUser", "userName": "alice"}, **fields} for name in names]


_EC2 = "ec2.amazonaws.com"

# Per control, the CloudTrail events a metric filter for it must match (every one of them).
EVENTS: dict[str, list[Event]] = {
    "4.1": (_api(_EC2, "DescribeInstances", errorCode="Client.UnauthorizedOperation",
                 errorMessage="You are not authorized to perform this operation.")
            + _api("s3.amazonaws.com", "GetObject", errorCode="AccessDenied", errorMessage="Access Denied")),
    "4.2": _api("signin.amazonaws.com", "ConsoleLogin", eventType="AwsConsoleSignIn",
                additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"},
                responseElements={"ConsoleLogin": "Success"}),
    "4.3": _api("s3.amazonaws.com", "ListBuckets", userIdentity={"type": "Root", "accountId": "111122223333"}),
    "4.4": _api("iam.amazonaws.com", "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
                "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
                "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
                "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"),
    "4.5": _api("cloudtrail.amazonaws.com", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging",
                "StopLogging"),
    "4.6": _api("signin.amazonaws.com", "ConsoleLogin", eventType="AwsConsoleSignIn",
                errorMessage="Failed authentication", responseElements={"ConsoleLogin": "Failure"},
                additionalEventData={"MFAUsed": "No"}),
    "4.7": _api("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
    "4.8": _api("s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
                "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
                "DeleteBucketReplication"),
    "4.9": _api("config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
                "PutConfigurationRecorder"),
    "4.10": _api(_EC2, "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                 "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
                 "DeleteSecurityGroup"),
    "4.11": _api(_EC2, "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
                 "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"),
    "4.12": _api(_EC2, "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                 "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"),
    "4.13": _api(_EC2, "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
                 "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"),
    "4.14": _api(_EC2, "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                 "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
                 "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"),
    "4.15": _api("organizations.amazonaws.com", "AcceptHandshake", "AttachPolicy", "CreateAccount",
                 "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization",
                 "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType",
                 "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
                 "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"),
}

# An everyday event no control is about: a pattern matching it (`{ $.eventName = * }`) would
# raise its alarm on every API call, which monitors nothing.
ROUTINE: list[Event] = _api(_EC2, "DescribeRegions") + _api("sts.amazonaws.com", "GetCallerIdentity")

_TOKEN = re.compile(r"""\s*(?:
    (?P<open>\() | (?P<close>\)) | (?P<and>&&) | (?P<or>\|\|)
  | (?P<selector>\$(?:\.[A-Za-z0-9_\-@]+|\[\d+\])+)
  | (?P<op>!=|>=|<=|=|>|<)
  | (?P<exists>NOT\s+EXISTS\b|IS\s+NULL\b|IS\s+TRUE\b|IS\s+FALSE\b)
  | "(?P<quoted>(?:[^"\\]|\\.)*)"
  | %(?P<regex>(?:[^%\\]|\\.)*)%
  | (?P<word>[^\s()&|"=!<>]+)
)""", re.VERBOSE)


class PatternError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise PatternError(f"cannot read the pattern at {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _field(event: Event, selector: str) -> tuple[bool, Any]:
    value: Any = event
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector):
        key, index = part
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return False, None
    return True, value


def _compare(value: Any, op: str, expected: str, quoted: bool) -> bool:
    if op in ("=", "!="):
        if isinstance(value, (dict, list)):
            return False
        text = "true" if value is True else "false" if value is False else str(value)
        equal = fnmatch.fnmatchcase(text, expected) if "*" in expected else text == expected
        if not quoted and not equal and isinstance(value, (int, float)) and not isinstance(value, bool):
            equal = _number(expected) == value
        return equal if op == "=" else not equal
    number = _number(expected)
    if number is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return {">": value > number, "<": value < number, ">=": value >= number, "<=": value <= number}[op]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.position = tokens, 0

    def peek(self) -> str:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else ""

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            raise PatternError(f"expected {kind}")
        self.position += 1
        return self.tokens[self.position - 1][1]

    def expression(self) -> Test:
        """`||` binds loosest, then `&&`, as in CloudWatch Logs."""
        terms = [self.conjunction()]
        while self.peek() == "or":
            self.take("or")
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda event: any(t(event) for t in terms))

    def conjunction(self) -> Test:
        terms = [self.term()]
        while self.peek() == "and":
            self.take("and")
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda event: all(t(event) for t in terms))

    def term(self) -> Test:
        if self.peek() == "open":
            self.take("open")
            inner = self.expression()
            self.take("close")
            return inner
        selector = self.take("selector")
        if self.peek() == "exists":
            test = " ".join(self.take("exists").split())
            return lambda event: _presence(event, selector, test)
        op = self.take("op")
        kind = self.peek()
        if kind not in ("quoted", "word", "regex"):
            raise PatternError("expected a value")
        expected = self.take(kind)
        if kind == "regex":
            return _regex(selector, op, expected)
        quoted = kind == "quoted"

        def compare(event: Event) -> bool:
            present, value = _field(event, selector)
            return present and _compare(value, op, expected, quoted)

        return compare


def _regex(selector: str, op: str, expression: str) -> Test:
    """`$.field = %regex%` (and `!=`): a regular expression searched in the value."""
    if op not in ("=", "!="):
        raise PatternError("a regular expression takes = or !=")
    try:
        compiled = re.compile(expression)
    except re.error as error:
        raise PatternError(str(error)) from error

    def compare(event: Event) -> bool:
        present, value = _field(event, selector)
        if not present or isinstance(value, (dict, list)):
            return False
        return bool(compiled.search(str(value))) == (op == "=")

    return compare


def _presence(event: Event, selector: str, test: str) -> bool:
    present, value = _field(event, selector)
    if test == "NOT EXISTS":
        return not present
    if test == "IS NULL":
        return present and value is None
    return present and value is (test == "IS TRUE")


def compile_pattern(pattern: str) -> Test:
    """The test of a JSON metric filter pattern (`{ ... }`); PatternError when it is not one
    (a space-delimited or plain-text pattern, or text this reader does not understand)."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PatternError("not a JSON filter pattern")
    parser = _Parser(_tokens(text[1:-1]))
    test = parser.expression()
    if parser.position != len(parser.tokens):
        raise PatternError("unexpected text after the pattern")
    return test


def monitored(pattern: str) -> list[str] | None:
    """The CIS controls (4.1 to 4.15) whose every event the pattern matches; None when the
    pattern cannot be read."""
    try:
        test = compile_pattern(pattern)
    except (PatternError, RecursionError):
        return None
    if any(test(event) for event in ROUTINE):
        return []
    return [control for control, events in EVENTS.items() if all(test(event) for event in events)]
