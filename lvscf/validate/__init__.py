"""validate(config) -> list[Problem]: what will not work, and what likely won't.

Errors are configurations the daemons cannot run as meant (pulse would refuse
to start, ipvsadm would reject a value, two services collide); warnings are
legal but likely mistakes, explained by what will really happen. Problems carry
the path of the field and, for parsed text, its line; parse-time warnings
(octal numbers, repeated keys, ...) are included first.

The rules live per block: `settings` (the global settings), `virtual` (one
virtual server or failover service), `servers` (its real servers) and `across`
(rules that compare blocks); `fields` says what one field may hold and
`checker` records the problems.
"""

from __future__ import annotations

from ..errors import Problem
from ..gcpause import collector_paused
from ..model import Config
from . import across, settings
from .checker import Checker
from .fields import is_device, is_ipv4, is_netmask
from .virtual import virtual

__all__ = ["is_device", "is_ipv4", "is_netmask", "validate"]


def validate(config: Config) -> list[Problem]:
    """Check a whole configuration; return its problems, errors first by line."""
    checker = Checker(config)
    with collector_paused():
        _run(checker)
    problems = list(config.source.warnings if config.source else ()) + checker.problems
    return sorted(problems, key=_order)


def _run(checker: Checker) -> None:
    # The order is part of the output: problems on one line keep this order.
    settings.global_settings(checker)
    settings.redundancy(checker)
    settings.nat(checker)
    settings.services(checker)
    config = checker.config
    for vs in config.failover_services:
        virtual(checker, "failover", vs)
    for vs in config.virtual_servers:
        virtual(checker, "virtual", vs)
    across.collisions(checker)
    across.firewall_marks(checker)
    across.names(checker)
    across.representable(checker)


def _order(problem: Problem) -> tuple[int, int, int]:
    return (problem.line or 0, problem.column or 0, 0 if problem.is_error else 1)
