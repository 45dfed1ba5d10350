"""The names and nesting of nf_tables netlink attributes, for decoding batches.

From the enums of linux/netfilter/nf_tables.h (numbers only); used by
nft_wire to show and compare attribute trees by name.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass


# Attribute names and nesting, from the enums of linux/netfilter/nf_tables.h.
# A policy maps an attribute type to its Field; a nested Field carries its
# children's policy, or a Select: the policy named by a sibling's value (an
# expression's NFTA_EXPR_DATA depends on its NFTA_EXPR_NAME).
@dataclass(frozen=True)
class Select:
    sibling: int
    policies: Mapping[bytes, Policy]


@dataclass(frozen=True)
class Field:
    name: str
    children: Policy | Select | None = None


Policy = Mapping[int, Field]


def _policy(prefix: str, names: str, **nested: Policy | Select) -> Policy:
    """Attributes numbered from 1 in the order of ``names``, as the enums are."""
    return {
        number: Field(prefix + name, nested.get(name))
        for number, name in enumerate(names.split(), 1)
    }


def _list(element: Policy) -> Policy:
    """A list of elements; libnftnl numbers set elements 1, 2, 3... so any type."""
    return {0: Field("NFTA_LIST_ELEM", element)}


def _be32(value: int) -> bytes:
    return struct.pack(">I", value)


_EXPRS: dict[bytes, Policy] = {}  # filled below: expressions nest expressions
_EXPR = _policy("NFTA_EXPR_", "NAME DATA", DATA=Select(1, _EXPRS))
_VERDICT = _policy("NFTA_VERDICT_", "CODE CHAIN CHAIN_ID")
_DATA = _policy("NFTA_DATA_", "VALUE VERDICT", VERDICT=_VERDICT)
_COUNTER = _policy("NFTA_COUNTER_", "BYTES PACKETS PAD")
_QUOTA = _policy("NFTA_QUOTA_", "BYTES FLAGS PAD CONSUMED")
_LIMIT = _policy("NFTA_LIMIT_", "RATE UNIT BURST TYPE FLAGS PAD")
_EXPRS.update(
    {
        name.encode() + b"\0": policy
        for name, policy in {
            "immediate": _policy("NFTA_IMMEDIATE_", "DREG DATA", DATA=_DATA),
            "cmp": _policy("NFTA_CMP_", "SREG OP DATA", DATA=_DATA),
            "payload": _policy(
                "NFTA_PAYLOAD_",
                "DREG BASE OFFSET LEN SREG CSUM_TYPE CSUM_OFFSET CSUM_FLAGS",
            ),
            "meta": _policy("NFTA_META_", "DREG KEY SREG"),
            "ct": _policy("NFTA_CT_", "DREG KEY DIRECTION SREG"),
            "lookup": _policy("NFTA_LOOKUP_", "SET SREG DREG SET_ID FLAGS"),
            "dynset": _policy(
                "NFTA_DYNSET_",
                "SET_NAME SET_ID OP SREG_KEY SREG_DATA TIMEOUT EXPR PAD FLAGS "
                "EXPRESSIONS",
                EXPR=_EXPR,
                EXPRESSIONS=_list(_EXPR),
            ),
            "byteorder": _policy("NFTA_BYTEORDER_", "SREG DREG OP LEN SIZE"),
            "bitwise": _policy(
                "NFTA_BITWISE_",
                "SREG DREG LEN MASK XOR OP DATA",
                **dict.fromkeys(("MASK", "XOR", "DATA"), _DATA),
            ),
            "range": _policy(
                "NFTA_RANGE_",
                "SREG OP FROM_DATA TO_DATA",
                FROM_DATA=_DATA,
                TO_DATA=_DATA,
            ),
            "nat": _policy(
                "NFTA_NAT_",
                "TYPE FAMILY REG_ADDR_MIN REG_ADDR_MAX REG_PROTO_MIN REG_PROTO_MAX "
                "FLAGS",
            ),
            "masq": _policy("NFTA_MASQ_", "FLAGS REG_PROTO_MIN REG_PROTO_MAX"),
            "redir": _policy("NFTA_REDIR_", "REG_PROTO_MIN REG_PROTO_MAX FLAGS"),
            "numgen": _policy("NFTA_NG_", "DREG MODULUS TYPE OFFSET SET_NAME SET_ID"),
            "hash": _policy(
                "NFTA_HASH_", "SREG DREG LEN MODULUS SEED OFFSET TYPE SET_NAME SET_ID"
            ),
            "counter": _COUNTER,
            "quota": _QUOTA,
            "limit": _LIMIT,
            "objref": _policy(
                "NFTA_OBJREF_", "IMM_TYPE IMM_NAME SET_SREG SET_NAME SET_ID"
            ),
            "log": _policy("NFTA_LOG_", "GROUP PREFIX SNAPLEN QTHRESHOLD LEVEL FLAGS"),
            "reject": _policy("NFTA_REJECT_", "TYPE ICMP_CODE"),
            "exthdr": _policy("NFTA_EXTHDR_", "DREG TYPE OFFSET LEN FLAGS OP SREG"),
            "fib": _policy("NFTA_FIB_", "DREG RESULT FLAGS"),
            "connlimit": _policy("NFTA_CONNLIMIT_", "COUNT FLAGS"),
            "notrack": {},
        }.items()
    }
)
_TABLE = _policy("NFTA_TABLE_", "NAME FLAGS USE HANDLE PAD USERDATA OWNER")
_HOOK = _policy(
    "NFTA_HOOK_", "HOOKNUM PRIORITY DEV DEVS", DEVS=_policy("NFTA_DEVICE_", "NAME")
)
_CHAIN = _policy(
    "NFTA_CHAIN_",
    "TABLE HANDLE NAME HOOK POLICY USE TYPE COUNTERS PAD FLAGS ID USERDATA",
    HOOK=_HOOK,
    COUNTERS=_COUNTER,
)
_RULE = _policy(
    "NFTA_RULE_",
    "TABLE CHAIN HANDLE EXPRESSIONS COMPAT POSITION USERDATA PAD ID POSITION_ID "
    "CHAIN_ID",
    EXPRESSIONS=_list(_EXPR),
    COMPAT=_policy("NFTA_RULE_COMPAT_", "PROTO FLAGS"),
)
_SET_DESC = _policy(
    "NFTA_SET_DESC_", "SIZE CONCAT", CONCAT=_list(_policy("NFTA_SET_FIELD_", "LEN"))
)
_SET = _policy(
    "NFTA_SET_",
    "TABLE NAME FLAGS KEY_TYPE KEY_LEN DATA_TYPE DATA_LEN POLICY DESC ID TIMEOUT "
    "GC_INTERVAL USERDATA PAD OBJ_TYPE HANDLE EXPR EXPRESSIONS",
    DESC=_SET_DESC,
    EXPR=_EXPR,
    EXPRESSIONS=_list(_EXPR),
)
_SET_ELEM = _policy(
    "NFTA_SET_ELEM_",
    "KEY DATA FLAGS TIMEOUT EXPIRATION USERDATA EXPR PAD OBJREF KEY_END EXPRESSIONS",
    KEY=_DATA,
    DATA=_DATA,
    KEY_END=_DATA,
    EXPR=_EXPR,
    EXPRESSIONS=_list(_EXPR),
)
_SET_ELEM_LIST = _policy(
    "NFTA_SET_ELEM_LIST_", "TABLE SET ELEMENTS SET_ID", ELEMENTS=_list(_SET_ELEM)
)
_OBJ_DATA = {_be32(1): _COUNTER, _be32(2): _QUOTA, _be32(4): _LIMIT}
_OBJ = _policy(
    "NFTA_OBJ_",
    "TABLE NAME TYPE DATA USE HANDLE PAD USERDATA",
    DATA=Select(3, _OBJ_DATA),
)
_GEN = _policy("NFTA_GEN_", "ID PROC_PID PROC_NAME")
# NFT_MSG_* in threes (NEW, GET, DEL) up to the generation, then objects.
_MESSAGES: dict[int, Policy] = {
    number: policy
    for numbers, policy in [
        ((0, 1, 2), _TABLE),
        ((3, 4, 5), _CHAIN),
        ((6, 7, 8), _RULE),
        ((9, 10, 11), _SET),
        ((12, 13, 14), _SET_ELEM_LIST),
        ((15, 16), _GEN),
        ((18, 19, 20, 21), _OBJ),
    ]
    for number in numbers
}
