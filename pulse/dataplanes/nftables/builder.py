"""Collecting the messages of a full build in the order nft sends them.

All chains, then all counters, then the sets with their elements, then the
rules (an anonymous set just before the rule that uses it); the table is
added, deleted and added again first, so it need not exist.
"""

from __future__ import annotations

from .netlink import (
    DELTABLE,
    NEWCHAIN,
    NEWOBJ,
    NEWRULE,
    NEWSET,
    NEWSETELEM,
    NEWTABLE,
    NLM_F_APPEND,
    NLM_F_CREATE,
    Batch,
    be32,
    be64,
    nest,
    strz,
)
from .ruleset import (
    TABLE,
)
from .sets import (
    ATTR_MAX,
    ID,
)

CREATE, APPEND = NLM_F_CREATE, NLM_F_CREATE | NLM_F_APPEND

T = strz(1, TABLE)  # NFTA_*_TABLE of every message

COUNTER_ZERO = be32(3, 1) + nest(4, be64(1, 0), be64(2, 0))  # type counter, 0 0

ANONYMOUS_IDS = 1 << 24  # anonymous sets numbered apart: ids only need be unique


class Builder:
    """Collects the messages of one full build in nft's order."""

    def __init__(self) -> None:
        self.chains = Batch()
        self.objects = Batch()
        self.sets = Batch()
        self.rules = Batch()
        self.set_ids: dict[str, int] = {}
        self.next_id = 0
        self.next_anonymous = ANONYMOUS_IDS

    def chain(self, name: str, hook: bytes = b"") -> None:
        self.chains.add(NEWCHAIN, CREATE, T + strz(3, name) + hook, name)

    def counter(self, name: str) -> None:
        self.objects.add(NEWOBJ, CREATE, T + strz(2, name) + COUNTER_ZERO, name)

    def new_set(self, name: str, attrs: bytes, anonymous: bool = False) -> int:
        """NEWSET; its NFTA_SET_ID, which later messages of the batch use."""
        if anonymous:
            self.next_anonymous += 1
            set_id = self.next_anonymous
        else:
            self.next_id += 1
            set_id = self.set_ids[name] = self.next_id
        body = T + strz(2, name) + attrs.replace(ID, be32(10, set_id))
        (self.rules if anonymous else self.sets).add(NEWSET, CREATE, body, name)
        return set_id

    def elements(
        self,
        name: str,
        set_id: int,
        items: list[bytes],
        anonymous: bool = False,
        by_id: bool = True,
    ) -> None:
        """NEWSETELEM messages for numbered items (see `numbered`): as many
        messages as the 64 KiB attribute limit needs.

        A set made in this batch is named by its id alone (`by_id`), where
        nft also sends the name: the kernel tries a name first, walking every
        set of the table, so with a thousand maps the names cost a fifth of
        the kernel's work. The id finds the set among those just made.
        """
        head = T + (b"" if by_id else strz(2, name)) + be32(4, set_id)
        batch = self.rules if anonymous else self.sets
        start, size = 0, 4
        for index, item in enumerate(items):
            if size + len(item) > ATTR_MAX and index > start:
                batch.add(NEWSETELEM, CREATE, head + nest(3, *items[start:index]), name)
                start, size = index, 4
            size += len(item)
        batch.add(NEWSETELEM, CREATE, head + nest(3, *items[start:]), name)

    def rule(self, chain: str, *exprs: bytes) -> None:
        self.rules.add(NEWRULE, APPEND, T + strz(2, chain) + nest(4, *exprs), chain)

    def batch(self) -> Batch:
        whole = Batch()
        whole.add(NEWTABLE, 0, T + be32(2, 0), TABLE)
        whole.add(DELTABLE, 0, T, TABLE)
        whole.add(NEWTABLE, 0, T + be32(2, 0), TABLE)
        for part in (self.chains, self.objects, self.sets, self.rules):
            whole.messages += part.messages
            whole.labels += part.labels
        return whole
