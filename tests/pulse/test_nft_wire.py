"""The nf_tables batch reader of nft_wire, against nft's own batches.

The batches come from the real nft, run by nft_wire in throw-away namespaces.
"""

from __future__ import annotations

import os
import struct
import subprocess
from dataclasses import replace

import pytest

from .nft_wire import (
    ALL_FLAGS,
    MNL_FLAGS,
    NFNL_SUBSYS_NFTABLES,
    NftError,
    decode,
    diff,
    encode,
    nft_batch,
    nft_batch_exact,
    nft_unavailable,
    normalize,
    parse_mnl,
    rewrite,
    split_messages,
)

ONE_RULE = """\
table ip t1 {
    chain c1 {
        type filter hook input priority 0; policy accept;
        tcp dport 22 accept
    }
}
"""
WITH_SETS = """\
table ip t2 {
    chain web { }
    chain mail { }
    map services { type ipv4_addr : verdict; elements = { 10.0.0.1 : goto web } }
    map ports { type inet_service : verdict; elements = { 25 : goto mail } }
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr vmap @services
        tcp dport vmap @ports
        tcp dport { 80, 443 } accept
    }
}
"""
NEWRULE = NFNL_SUBSYS_NFTABLES << 8 | 6


def batch_of(script, exact=False):
    reason = nft_unavailable(strace=exact)
    if reason:
        pytest.skip(reason)
    return (nft_batch_exact if exact else nft_batch)(script)


@pytest.fixture(scope="module")
def one_rule():
    return batch_of(ONE_RULE)


@pytest.fixture(scope="module")
def with_sets():
    return batch_of(WITH_SETS)


def values(attrs, name):
    """The data of every attribute called name, anywhere in the trees."""
    found = []

    def collect(attr):
        if attr.name == name:
            found.append(attr.data)
        return attr

    rewrite(attrs, collect)
    return found


def test_one_rule_is_a_batch_of_table_chain_and_rule(one_rule):
    assert [m.name for m in one_rule] == [
        "BATCH_BEGIN",
        "NEWTABLE",
        "NEWCHAIN",
        "NEWRULE",
        "BATCH_END",
    ]
    assert [m.seq for m in one_rule] == [0, 1, 2, 3, 4]
    assert [m.family for m in one_rule] == [0, 2, 2, 2, 0]  # AF_INET inside
    assert one_rule[0].res_id == NFNL_SUBSYS_NFTABLES


def test_parsed_messages_round_trip_through_their_raw_bytes(one_rule, with_sets):
    for messages in (one_rule, with_sets):
        raw = b"".join(m.to_bytes() for m in messages)
        assert split_messages(raw) == messages
        assert all(encode(decode(m.body, m.type)) == m.body for m in messages)


def test_the_printout_holds_the_bytes_nft_really_sent(with_sets):
    exact = batch_of(WITH_SETS, exact=True)
    assert [m.body for m in exact] == [m.body for m in with_sets]
    assert [m.flags & MNL_FLAGS for m in exact] == [m.flags for m in with_sets]
    assert exact[-2].flags & 0xC00  # NLM_F_CREATE | NLM_F_APPEND on a rule
    assert diff(exact, with_sets) == ""
    assert "NEWCHAIN" in diff(exact, with_sets, flags_mask=ALL_FLAGS)


def test_a_rule_decodes_into_named_attributes(one_rule):
    rule = next(m for m in one_rule if m.type == NEWRULE)
    attrs = decode(rule.body, rule.type)
    assert [a.name for a in attrs] == [
        "NFTA_RULE_TABLE",
        "NFTA_RULE_CHAIN",
        "NFTA_RULE_EXPRESSIONS",
    ]
    assert attrs[1].data == b"c1\0"
    expressions = values(attrs, "NFTA_EXPR_NAME")
    assert expressions == [b"meta\0", b"cmp\0", b"payload\0", b"cmp\0", b"immediate\0"]
    assert values(attrs, "NFTA_DATA_VALUE")[1] == struct.pack(">H", 22)


def with_ids_shifted(messages, by, only=None):
    """The batch with seq numbers and set ids moved by `by`."""

    def shift(attr):
        if attr.name.endswith("SET_ID") and (only is None or attr.name == only):
            (number,) = struct.unpack(">I", attr.data)
            return replace(attr, data=struct.pack(">I", number + by))
        return attr

    return [
        replace(m, seq=m.seq + by, body=encode(rewrite(decode(m.body, m.type), shift)))
        for m in messages
    ]


def test_normalize_masks_seq_and_consistently_renamed_set_ids(with_sets):
    shifted = with_ids_shifted(with_sets, 100)
    assert shifted != with_sets
    assert normalize(shifted) == normalize(with_sets)
    assert diff(shifted, with_sets) == ""


def test_normalize_keeps_set_ids_that_point_elsewhere(with_sets):
    moved = with_ids_shifted(with_sets, 1, only="NFTA_LOOKUP_SET_ID")
    assert normalize(moved) != normalize(with_sets)
    assert "NFTA_LOOKUP_SET_ID" in diff(moved, with_sets)


def test_normalize_masks_the_number_of_an_anonymous_set(with_sets):
    def number(attr):
        return replace(attr, data=b"__set3\0") if attr.data == b"__set%d\0" else attr

    numbered = [
        replace(m, body=encode(rewrite(decode(m.body, m.type), number)))
        for m in with_sets
    ]
    assert numbered != with_sets
    assert normalize(numbered) == normalize(with_sets)


def test_diff_shows_a_changed_port_in_the_decoded_trees(with_sets):
    def port(attr):
        return (
            replace(attr, data=struct.pack(">H", 81)) if attr.data == b"\0P" else attr
        )

    changed = [
        replace(m, body=encode(rewrite(decode(m.body, m.type), port)))
        for m in with_sets
    ]
    assert normalize(changed) != normalize(with_sets)
    text = diff(changed, with_sets)
    changes = [line.split() for line in text.splitlines() if line[:1] in "-+"]
    assert ["-", "NFTA_DATA_VALUE", "(1):", "00", "51", "(=", "81)"] in changes
    assert ["+", "NFTA_DATA_VALUE", "(1):", "00", "50", "(=", "80)"] in changes
    assert '"t2"' in text  # the whole tree, for context


def test_normalize_keeps_set_userdata_which_nft_list_needs(with_sets):
    def byte_order(attr):
        if attr.name == "NFTA_SET_USERDATA":  # item [0], the key's byte order
            data = attr.data
            return replace(attr, data=data[:2] + bytes([data[2] ^ 1]) + data[3:])
        return attr

    changed = [
        replace(m, body=encode(rewrite(decode(m.body, m.type), byte_order)))
        for m in with_sets
    ]
    assert changed != with_sets
    lines = diff(changed, with_sets).splitlines()
    assert [line[0] for line in lines if "NFTA_SET_USERDATA" in line] == ["-", "+"]


def test_a_rejected_script_raises_with_nfts_error_and_leaves_no_namespace():
    with pytest.raises(NftError, match="syntax error"):
        batch_of("table ip t3 { chain c { nonsense } }\n")
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    assert f"pw{os.getpid()}-" not in names.stdout


def printout(msg_type, flags, seq, pid, words):
    """libmnl's printout of a message whose payload is raw 4-byte words."""
    sep = "----------------\t------------------"
    lines = [
        sep,
        f"|  {16 + 4 * len(words):010d}  |\t| message length |",
        f"| {msg_type:05d} | {flags} |\t|  type | flags  |",
        f"|  {seq:010d}  |\t| sequence number|",
        f"|  {pid:010d}  |\t|     port ID    |",
        sep,
        *(f"| {word}  |\t|  extra header  |" for word in words),
        sep,
    ]
    return "\n".join(lines) + "\n"


def test_parse_mnl_skips_replies_and_refuses_a_short_printout():
    sent = printout(0x10, "R---", 0, 0, ["00 00 00 0a"])
    reply = printout(2, "----", 0, 4242, ["00 00 00 00"] * 5)
    messages = parse_mnl(sent + reply)
    assert [(m.type, m.res_id) for m in messages] == [(0x10, NFNL_SUBSYS_NFTABLES)]
    with pytest.raises(ValueError, match="holds 20 of 24 bytes"):
        parse_mnl(sent.replace("|  0000000020  |", "|  0000000024  |"))
