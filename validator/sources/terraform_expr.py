"""Static evaluation of HCL expressions, on python-hcl2's parse tree.

Only what is certain before `terraform plan` is evaluated: literals, strings and templates
whose parts are known, lists and objects, `var.x` and `local.x` (through a lookup given by
the module), conditionals and operators on known values, `jsonencode` and the `to*`
conversions. Everything else (resource and data references, `each`, `count`, `for`, splats,
other functions) is `UNKNOWN`, and so is anything built from an unknown part. Nothing is
ever executed.
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any, Callable

from lark import Token, Tree

from validator.model import FieldPath, Position
from validator.sources.terraform_values import UNKNOWN, NumberError, checked_number

Lookup = Callable[[str, str], Any]  # ("var" | "local", name) -> value or UNKNOWN

_INTERPOLATION = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")
_MAX_DIGITS = 400  # an integer literal longer than this is beyond a 64-bit float
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def children(node: Tree) -> list[Tree]:
    """The sub-trees of a node, without line breaks and comments."""
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def position(node: Tree | Token) -> Position:
    if isinstance(node, Token):
        return Position(node.line or 1, node.column or 1)
    meta = node.meta
    return Position(getattr(meta, "line", 1), getattr(meta, "column", 1))


def name_of(node: Tree) -> str | None:
    """The text of an identifier, keyword or plain string label; None for anything else."""
    while node.data == "expr_term" and len(node.children) == 1 and isinstance(node.children[0], Tree):
        node = node.children[0]
    if node.data in ("identifier", "keyword", "literal_value"):
        return str(node.children[0])
    if node.data == "string":
        parts = children(node)
        texts = [p.children[0] for p in parts
                 if isinstance(p.children[0], Token) and p.children[0].type == "STRING_CHARS"]
        return unescape("".join(texts)) if len(texts) == len(parts) else None
    return None


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            marker = text[index + 1]
            if marker in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[marker])
                index += 2
                continue
            width = {"u": 4, "U": 8}.get(marker)
            digits = text[index + 2:index + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF and not 0xD800 <= code < 0xE000:
                    out.append(chr(code))
                    index += 2 + width
                    continue
        out.append(char)
        index += 1
    return "".join(out)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arithmetic(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if not (_number(left) and _number(right)):
            return UNKNOWN
        result = checked_number(function(left, right))  # so that no chain grows without end
        return int(result) if isinstance(result, float) and result.is_integer() else result
    return apply


def _logic(function: Callable[[bool, bool], bool]) -> Callable[[Any, Any], Any]:
    return lambda a, b: function(a, b) if isinstance(a, bool) and isinstance(b, bool) else UNKNOWN


def _compare(function: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    return lambda a, b: function(a, b) if _number(a) and _number(b) else UNKNOWN


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _arithmetic(operator.add), "-": _arithmetic(operator.sub), "*": _arithmetic(operator.mul),
    "/": _arithmetic(operator.truediv), "%": _arithmetic(operator.mod),
    "&&": _logic(lambda a, b: a and b), "||": _logic(lambda a, b: a or b),
    "<": _compare(operator.lt), ">": _compare(operator.gt), "<=": _compare(operator.le), ">=": _compare(operator.ge),
    "==": lambda a, b: _equal(a, b), "!=": lambda a, b: not _equal(a, b),
}


def _equal(left: Any, right: Any) -> bool:
    same_type = type(left) is type(right) or (_number(left) and _number(right))
    return same_type and left == right


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def _jsonencode(value: Any) -> Any:
    if contains_unknown(value):
        return UNKNOWN
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tostring(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    return UNKNOWN


def _toset(value: Any) -> Any:
    if not isinstance(value, list):
        return UNKNOWN
    unique: list[Any] = []
    for item in value:
        if item not in unique:
            unique.append(item)
    return sorted(unique) if all(isinstance(i, str) for i in unique) else unique


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "jsonencode": _jsonencode,
    "tolist": lambda v: v if isinstance(v, list) else UNKNOWN,
    "toset": _toset,
    "tomap": lambda v: v if isinstance(v, dict) else UNKNOWN,
    "tostring": _tostring,
}


class Evaluator:
    """Evaluates expression trees of one module; `lookup` resolves `var.x` and `local.x`."""

    def __init__(self, lookup: Lookup):
        self.lookup = lookup

    def value(self, node: Tree) -> Any:
        method = getattr(self, "_" + node.data, None)
        return method(node) if method else UNKNOWN

    def _expr_term(self, node: Tree) -> Any:
        inner = children(node)
        return self.value(inner[0]) if len(inner) == 1 else UNKNOWN

    def _int_lit(self, node: Tree) -> Any:
        text = str(node.children[0])
        if len(text.lstrip("0")) > _MAX_DIGITS:
            raise NumberError
        return checked_number(int(text))

    def _float_lit(self, node: Tree) -> Any:
        return checked_number(float(str(node.children[0])))

    def _literal_value(self, node: Tree) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _string(self, node: Tree) -> Any:
        parts = children(node)
        if len(parts) == 1 and isinstance(parts[0].children[0], Tree) and parts[0].children[0].data == "interpolation":
            return self.value(children(parts[0].children[0])[0])  # "${x}" is x itself, not a string
        texts = []
        for part in parts:
            piece = part.children[0]
            if isinstance(piece, Token):
                text = str(piece)
                if piece.type == "STRING_CHARS":
                    texts.append(unescape(text))
                else:  # $${ or %%{: a literal ${ or %{
                    texts.append(text[1:])
                continue
            if piece.data != "interpolation":
                return UNKNOWN  # template directives
            value = _tostring(self.value(children(piece)[0]))
            if value is UNKNOWN:
                return UNKNOWN
            texts.append(value)
        return "".join(texts)

    def _heredoc_template(self, node: Tree, trim: bool = False) -> Any:
        lines = str(node.children[0]).replace("\r\n", "\n").split("\n")
        body = lines[1:-2]  # between the `<<EOT` line and the closing `EOT` line
        if trim:
            indents = [len(line) - len(line.lstrip(" \t")) for line in body if line.strip()]
            cut = min(indents, default=0)
            body = [line[cut:] for line in body]
        text = "".join(line + "\n" for line in body)
        if _INTERPOLATION.search(text):
            return UNKNOWN
        return text.replace("$${", "${").replace("%%{", "%{")

    def _heredoc_template_trim(self, node: Tree) -> Any:
        return self._heredoc_template(node, trim=True)

    def _tuple(self, node: Tree) -> Any:
        return [self.value(item) for item in children(node)]

    def _object(self, node: Tree) -> Any:
        result: dict[str, Any] = {}
        for element in children(node):
            key_node, value_node = children(element)
            key = self.key(key_node)
            if key is UNKNOWN:
                return UNKNOWN
            result[key] = self.value(value_node)
        return result

    def key(self, node: Tree) -> Any:
        """An object key: a bare name is the name itself; anything else is evaluated."""
        inner = children(node)[0]
        if inner.data == "keyword":
            return str(inner.children[0])
        terms = children(inner)
        if inner.data == "expr_term" and len(terms) == 1 and terms[0].data == "identifier":
            return str(terms[0].children[0])
        key = self.value(inner)
        return key if isinstance(key, str) else _tostring(key) if _number(key) else UNKNOWN

    def _conditional(self, node: Tree) -> Any:
        condition, if_true, if_false = children(node)
        test = self.value(condition)
        if not isinstance(test, bool):
            return UNKNOWN
        return self.value(if_true if test else if_false)

    def _unary_op(self, node: Tree) -> Any:
        sign = str(node.children[0])
        value = self.value(children(node)[0])
        if sign == "!" and isinstance(value, bool):
            return not value
        if sign == "-" and _number(value):
            return -value
        return UNKNOWN

    def _binary_op(self, node: Tree) -> Any:
        left_node, term = children(node)[:2]
        operator_node, right_node = children(term)
        left, right = self.value(left_node), self.value(right_node)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        try:
            return _OPERATORS[str(operator_node.children[0])](left, right)
        except (ArithmeticError, KeyError):
            return UNKNOWN

    def _function_call(self, node: Tree) -> Any:
        names = [c for c in children(node) if c.data == "identifier"]
        arguments = [c for c in children(node) if c.data == "arguments"]
        function = _FUNCTIONS.get(str(names[0].children[0])) if len(names) == 1 else None
        if function is None or not arguments:
            return UNKNOWN
        args = children(arguments[0])
        if len(args) != 1 or any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in arguments[0].children):
            return UNKNOWN
        return function(self.value(args[0]))

    def _get_attr_expr_term(self, node: Tree) -> Any:
        base, attribute = children(node)
        name = name_of(children(attribute)[0])
        root = name_of(base) if len(children(base)) == 1 and children(base)[0].data == "identifier" else None
        if root in ("var", "local") and name is not None:
            return self.lookup(root, name)
        if root is not None:
            return UNKNOWN  # resources, data sources, modules, each, count, path...
        value = self.value(base)
        return value.get(name, UNKNOWN) if isinstance(value, dict) else UNKNOWN

    def _index_expr_term(self, node: Tree) -> Any:
        base, index = children(node)
        value = self.value(base)
        if index.data == "short_index":
            key: Any = int(str(index.children[-1]))
        else:
            key = self.value(children(index)[0])
        if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(value):
            return value[key]
        if isinstance(value, dict) and isinstance(key, str):
            return value.get(key, UNKNOWN)
        return UNKNOWN


def literal_positions(node: Tree, evaluator: Evaluator, prefix: FieldPath) -> dict[FieldPath, Position]:
    """Positions of the items of list and object literals written in an expression."""
    found: dict[FieldPath, Position] = {}
    while node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    if node.data == "tuple":
        for index, item in enumerate(children(node)):
            found[prefix + (index,)] = position(item)
            found.update(literal_positions(item, evaluator, prefix + (index,)))
    elif node.data == "object":
        for element in children(node):
            key_node, value_node = children(element)
            key = evaluator.key(key_node)
            if isinstance(key, str):
                found[prefix + (key,)] = position(element)
                found.update(literal_positions(value_node, evaluator, prefix + (key,)))
    return found
