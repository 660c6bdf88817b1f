"""Every check of a scan (a policy on a resource), kept compactly.

A scan makes tens of checks per resource and most of them pass. A failed check, or one that
could not be evaluated, is a `Result` of its own: its findings, fixes and suppression are
what reports are made of. A run of checks that one resource passed is one `Passed`: the
policies and their times, which is all a passed check says (JUnit lists it, counts count it).
That keeps a scan's results at about a tenth of the memory that one `Result` per check took.

`Checks` is a sequence of `Result`s: iterating it yields every check in order, a passed one
as a new `Result` made on the way (so only the failed and errored ones are the same objects
from one iteration to the next). The stages that change results (filters, baseline) work on
`outcomes()`, the failed and errored ones, and put them back with `with_outcomes`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from validator.model import Resource, Result, Status


@dataclass(slots=True)
class Passed:
    """Consecutive checks that one resource passed."""

    resource: Resource
    policies: tuple[Any, ...]  # validator.engine.policy.Policy, in order (one tuple shared by many)
    durations: bytes  # array("f") of seconds, one per policy (see Result.duration)

    def results(self) -> Iterator[Result]:
        for policy, duration in zip(self.policies, array(DURATION, self.durations)):
            yield Result(policy, self.resource, Status.PASS, duration=duration)


DURATION = "f"  # single precision: reports round times to milliseconds
Item = Result | Passed
Keep = Callable[[Any, Resource, Status], bool]  # (policy, resource, status) -> kept


@dataclass(eq=False)
class Checks(Sequence[Result]):
    items: list[Item] = field(default_factory=list)  # failed/errored Results and Passed runs, in order

    @classmethod
    def of(cls, results: Iterable[Result | Passed]) -> "Checks":
        """Checks of `results` (a list of Results, or Checks: taken as they are)."""
        if isinstance(results, Checks):
            return results
        return cls(_pack(results))

    @classmethod
    def concat(cls, parts: Iterable["Checks"]) -> "Checks":
        return cls([item for part in parts for item in part.items])

    def __iter__(self) -> Iterator[Result]:
        for item in self.items:
            if isinstance(item, Passed):
                yield from item.results()
            else:
                yield item

    def __len__(self) -> int:
        return sum(len(item.policies) if isinstance(item, Passed) else 1 for item in self.items)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result]: ...

    def __getitem__(self, index: int | slice) -> Result | list[Result]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Checks, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[Result]) -> "Checks":
        return Checks(self.items + Checks.of(other).items)

    def __repr__(self) -> str:
        return f"Checks({list(self)!r})"

    def outcomes(self) -> list[Result]:
        """The failed and errored checks (the same objects every time)."""
        return [item for item in self.items if isinstance(item, Result)]

    def with_outcomes(self, outcomes: Iterable[Result]) -> "Checks":
        """These checks with `outcomes()` replaced, one for one, in order."""
        replacing = list(outcomes)
        if len(replacing) != sum(isinstance(item, Result) for item in self.items):
            raise ValueError(f"{len(replacing)} outcomes for {len(self.outcomes())} failed or errored checks")
        fresh = iter(replacing)
        return Checks([item if isinstance(item, Passed) else next(fresh) for item in self.items])

    def select(self, keep: Keep) -> "Checks":
        """The checks `keep(policy, resource, status)` keeps."""
        items: list[Item] = []
        for item in self.items:
            if isinstance(item, Result):
                if keep(item.policy, item.resource, item.status):
                    items.append(item)
                continue
            chosen = [n for n, policy in enumerate(item.policies) if keep(policy, item.resource, Status.PASS)]
            if len(chosen) == len(item.policies):
                items.append(item)
            elif chosen:
                durations = array(DURATION, item.durations)
                items.append(Passed(item.resource, tuple(item.policies[n] for n in chosen),
                                    array(DURATION, (durations[n] for n in chosen)).tobytes()))
        return Checks(items)

    def pairs(self) -> Iterator[tuple[Any, Resource]]:
        """(policy, resource) of every check, without making Results."""
        for item in self.items:
            if isinstance(item, Passed):
                for policy in item.policies:
                    yield policy, item.resource
            else:
                yield item.policy, item.resource

    def resources(self) -> list[Resource]:
        """Each resource checked, once, in order."""
        return list({id(item.resource): item.resource for item in self.items}.values())

    def sorted_by_file(self) -> "Checks":
        """In file and document order (a stable sort: each resource's checks keep theirs)."""
        return Checks(sorted(self.items, key=_by_file))

    def status_counts(self, suppressed: bool = False) -> Counter[Status]:
        """Checks by status; failures a suppression covers are left out unless `suppressed`."""
        counts: Counter[Status] = Counter()
        for item in self.items:
            if isinstance(item, Passed):
                counts[Status.PASS] += len(item.policies)
            elif suppressed or item.suppression is None:
                counts[item.status] += 1
        return counts


def _by_file(item: Item) -> tuple[str, int]:
    return item.resource.path, item.resource.doc_index


def _pack(results: Iterable[Result | Passed]) -> list[Item]:
    """Runs of plain passed checks on one resource made into Passed (resources of a kind
    mostly pass the same policies: each tuple of policies is kept once)."""
    items: list[Item] = []
    run: list[Result] = []
    shared: dict[tuple[int, ...], tuple[Any, ...]] = {}
    for result in results:
        if isinstance(result, Result) and _plain_pass(result):
            if run and run[0].resource is not result.resource:
                items.append(_passed(run, shared))
                run = []
            run.append(result)
            continue
        if run:
            items.append(_passed(run, shared))
            run = []
        items.append(result)
    if run:
        items.append(_passed(run, shared))
    return items


def _plain_pass(result: Result) -> bool:
    """A passed check that says nothing more than its policy and its time."""
    return (result.status is Status.PASS and not result.violations and result.error is None
            and result.suppression is None and not result.fixes)


def _passed(run: list[Result], shared: dict[tuple[int, ...], tuple[Any, ...]]) -> Passed:
    policies = tuple(r.policy for r in run)
    policies = shared.setdefault(tuple(map(id, policies)), policies)
    return Passed(run[0].resource, policies, array(DURATION, (r.duration for r in run)).tobytes())
