"""CEL compile errors as data: where in the expression, what, and the line it is on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")


@dataclass(frozen=True)
class CelProblem:
    line: int  # 1-based, within the expression
    column: int  # 1-based
    message: str

    def where(self) -> str:
        return f"line {self.line}, column {self.column}" if self.line > 1 else f"column {self.column}"


def compile_problems(env: Any, expression: str) -> list[CelProblem]:
    """Every error the CEL compiler reports for `expression`; empty when it compiles."""
    try:
        env.compile(expression)
    except RuntimeError as error:
        return parse_problems(str(error))
    return []


def parse_problems(text: str) -> list[CelProblem]:
    problems = []
    for match in _ERROR.finditer(text):
        message = match.group(3).replace(" (in container '')", "").removesuffix(" [INVALID_ARGUMENT]").strip()
        problems.append(CelProblem(int(match.group(1)), int(match.group(2)), message))
    return problems or [CelProblem(1, 1, text.replace("INVALID_ARGUMENT: ", "").splitlines()[0])]


def pointer(expression: str, problem: CelProblem) -> list[str]:
    """The expression line with a caret under the column, to print below an error."""
    lines = expression.splitlines() or [""]
    text = lines[min(problem.line, len(lines)) - 1]
    return [text, " " * max(problem.column - 1, 0) + "^"]
