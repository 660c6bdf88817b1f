"""Functions added to CEL for policies (documented in docs/terraform.md).

- `json.decode(s)`: the JSON text `s` as a CEL value (dyn); an error for invalid JSON.
- `json.isValid(s)`: whether `s` is valid JSON (to guard `json.decode`).
- `cidr.isValid(s)`: whether `s` is an IPv4 or IPv6 address or CIDR block.
- `cidr.isAnywhere(s)`: the block is all addresses: `0.0.0.0/0` or `::/0`.
- `cidr.isPublic(s)`: the block holds at least one publicly routable address.
- `cidr.contains(outer, inner)`: the block `outer` holds the address or block `inner`.
- `portInRange(from, to, port)`: `from <= port <= to`; ports may be ints, doubles or strings.
- `list.sort()`: the strings or numbers of the list in ascending order, e.g. to list map keys
  in a message in a stable order (CEL iterates maps in no fixed order).

A function given a value it cannot use returns a CEL error, so the policy reports an
evaluation error instead of silently passing. Nothing here touches the outside world.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import math
from typing import Any, Callable

from cel_expr_python import cel

MAX_JSON_DEPTH = 64
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Blocks whose addresses are not reachable from the internet (private, loopback,
# link-local, shared, documentation, multicast and reserved ranges).
NON_PUBLIC = tuple(ipaddress.ip_network(block) for block in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/127", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32",
))


def json_decode(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        raise ValueError("json.decode: not valid JSON") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"json.decode: nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def json_is_valid(text: str) -> bool:
    try:
        json_decode(text)
    except ValueError:
        return False
    return True


def _reject(name: str) -> Any:
    raise ValueError(name)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


@functools.lru_cache(maxsize=4096)
def network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError("cidr: not an IP address or CIDR block") from None


def cidr_is_valid(text: str) -> bool:
    try:
        network(text)
    except ValueError:
        return False
    return True


def cidr_is_anywhere(text: str) -> bool:
    return network(text).prefixlen == 0


def cidr_is_public(text: str) -> bool:
    remaining = [network(text)]
    for block in NON_PUBLIC:
        kept = []
        for part in remaining:
            if part.version != block.version or not part.overlaps(block):
                kept.append(part)
            elif not _subnet_of(part, block):
                kept.extend(_exclude(part, block))
        remaining = kept
    return bool(remaining)


def cidr_contains(outer: str, inner: str) -> bool:
    return _subnet_of(network(inner), network(outer))


def _subnet_of(inner: Network, outer: Network) -> bool:
    """Whether `inner` lies in `outer`; never across IPv4 and IPv6."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def _exclude(part: Network, block: Network) -> list[Network]:
    """`part` less the addresses of `block`, a block of the same IP version inside it."""
    if isinstance(part, ipaddress.IPv4Network) and isinstance(block, ipaddress.IPv4Network):
        return list(part.address_exclude(block))
    if isinstance(part, ipaddress.IPv6Network) and isinstance(block, ipaddress.IPv6Network):
        return list(part.address_exclude(block))
    raise ValueError("cidr: blocks of different IP versions")


def port_in_range(low: Any, high: Any, port: Any) -> bool:
    low, high, port = (_port(value) for value in (low, high, port))
    return low <= port <= high


def _port(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("portInRange: ports must be numbers") from None
    if math.isnan(number):
        raise ValueError("portInRange: ports must be numbers")
    return number


def sort_list(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        raise ValueError("sort: the items must all be strings or all be numbers") from None


def _unary(name: str, overload: str, result: Any, function: Callable[[str], Any]) -> Any:
    return cel.FunctionDecl(name, [cel.Overload(overload, result, [cel.Type.STRING], impl=function)])


_PORT_TYPES = {"int": cel.Type.INT, "uint": cel.Type.UINT, "double": cel.Type.DOUBLE, "string": cel.Type.STRING}


def declarations() -> list[Any]:
    """The function declarations (with implementations) for `cel.NewEnv(functions=...)`."""
    port_overloads = [
        cel.Overload("portInRange_" + "_".join(names), cel.Type.BOOL, [_PORT_TYPES[n] for n in names],
                     impl=port_in_range)
        for names in itertools.product(_PORT_TYPES, repeat=3)
    ]
    return [
        _unary("json.decode", "json_decode_string", cel.Type.DYN, json_decode),
        _unary("json.isValid", "json_is_valid_string", cel.Type.BOOL, json_is_valid),
        _unary("cidr.isValid", "cidr_is_valid_string", cel.Type.BOOL, cidr_is_valid),
        _unary("cidr.isAnywhere", "cidr_is_anywhere_string", cel.Type.BOOL, cidr_is_anywhere),
        _unary("cidr.isPublic", "cidr_is_public_string", cel.Type.BOOL, cidr_is_public),
        cel.FunctionDecl("cidr.contains", [cel.Overload(
            "cidr_contains_string_string", cel.Type.BOOL, [cel.Type.STRING, cel.Type.STRING], impl=cidr_contains)]),
        cel.FunctionDecl("portInRange", port_overloads),
        cel.FunctionDecl("sort", [cel.Overload("list_sort", cel.Type.LIST, [cel.Type.LIST], is_member=True,
                                               impl=sort_list)]),
    ]
