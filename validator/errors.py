"""The one kind of error a user must fix before tdv can do its work: a setting, a policy,
an input or an output that cannot be used. Commands raise it (or a subclass); the command
line prints its message on one line and exits with its `exit_code` (see validator.cli).

Exit codes mean the same in every command: 0 ok, 1 findings or failed checks, 2 a usage,
input, policy or output error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # findings at or above --fail-on, failed policy tests, files `tdv fix` changed
EXIT_ERROR = 2  # usage, input, policy or output error


class UserError(Exception):
    """A problem in what the user gave tdv, reported as one line: `Error: <message>`."""

    exit_code = EXIT_ERROR


class SettingsError(UserError):
    """Settings that cannot be used: a config, baseline or policy file, or a selection of no
    policy."""


class OutputError(UserError):
    """A report that cannot be written."""
