"""`parse`: strings and quotes, repeated keys and braces, and comments kept."""

from __future__ import annotations

import pytest

from lvscf import parse
from tests.lvscf.helpers import only_error, only_warning, virtual, warnings_of

# --- meaning: strings and quotes -----------------------------------------------------


def test_a_double_quoted_send_is_stored_without_its_quotes() -> None:
    config = parse(virtual('send = "GET / HTTP/1.0\\r\\n\\r\\n"\nexpect = "HTTP"'))
    web = config.virtual_servers[0]
    assert web.send == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert web.expect == "HTTP"
    assert warnings_of(config) == []


def test_a_single_quoted_send_keeps_its_quotes_and_warns() -> None:
    config = parse(virtual("send = 'x'"))
    assert config.virtual_servers[0].send == "'x'"
    warning = only_warning(config)
    assert (warning.line, warning.column) == (2, 12)
    assert "sent" in warning.message
    assert warning.hint == 'write `send = "x"`'


def test_a_single_quoted_expect_keeps_its_quotes_and_warns_it_never_matches() -> None:
    config = parse(virtual("expect = 'HTTP'"))
    assert config.virtual_servers[0].expect == "'HTTP'"
    assert "never match" in only_warning(config).message


def test_active_cmd_drops_its_quotes() -> None:
    config = parse("active_cmd = \"/bin/x arg\"\ninactive_cmd = '/bin/y arg'\n")
    assert config.active_cmd == "/bin/x arg"
    assert config.inactive_cmd == "/bin/y arg"
    assert warnings_of(config) == []


def test_send_program_with_glued_placeholders_warns_they_are_not_substituted() -> None:
    config = parse(virtual('send_program = "/bin/chk %h:%p"'))
    assert config.virtual_servers[0].send_program == "/bin/chk %h:%p"
    warning = only_warning(config)
    assert "`%h:%p`" in warning.message
    assert warning.line == 2


def test_send_program_with_separate_placeholders_is_silent() -> None:
    config = parse(virtual('send_program = "/bin/chk %h %p"'))
    assert config.virtual_servers[0].send_program == "/bin/chk %h %p"
    assert warnings_of(config) == []


def test_dirs_takes_a_bracketed_list() -> None:
    config = parse(virtual("dirs = [ /a /b ]"))
    assert config.virtual_servers[0].dirs == ("/a", "/b")


@pytest.mark.parametrize("value", ["/a", "[ /a /b", "[/a ]"])
def test_dirs_without_a_bracketed_list_is_list_expected(value: str) -> None:
    problem = only_error(virtual(f"dirs = {value}"))
    assert problem.message == "list expected"
    assert problem.line == 2


# --- meaning: repeats, braces, duplicates ---------------------------------------------


def test_a_repeated_key_keeps_the_last_value_and_warns_naming_the_first_line() -> None:
    config = parse("keepalive = 3\ndeadtime = 9\nkeepalive = 4\n")
    assert config.keepalive == 4
    warning = only_warning(config)
    assert warning.line == 3
    assert "first on line 1" in warning.message


def test_text_after_a_closing_brace_is_ignored_with_a_warning() -> None:
    config = parse("virtual web {\n    port = 443\n} trailing words\nkeepalive = 3\n")
    assert config.virtual_servers[0].port == 443
    assert config.keepalive == 3
    warning = only_warning(config)
    assert (warning.line, warning.column) == (3, 3)
    assert "`trailing words`" in warning.message


def test_an_unterminated_block_is_closed_at_the_end_with_a_warning() -> None:
    config = parse("keepalive = 3\nvirtual web {\n    port = 443\n")
    assert config.virtual_servers[0].port == 443
    warning = only_warning(config)
    assert warning.line == 2
    assert "never closed" in warning.message


def test_duplicate_virtual_names_are_both_kept() -> None:
    config = parse(virtual("port = 1") + virtual("port = 2"))
    assert [(v.name, v.port) for v in config.virtual_servers] == [
        ("web", 1),
        ("web", 2),
    ]


# --- comments kept -------------------------------------------------------------------

COMMENTED = """\
# header one
# header two

# about keepalive
keepalive = 3
# about web
virtual web {
    # about port
    port = 81
    # about r1
    server r1 {
        # about weight
        weight = 2
        # end of r1
    }
    # end of web
}
# the end
"""


def test_header_comments_before_a_blank_line_go_to_the_file_above() -> None:
    assert parse(COMMENTED).comments.above == (" header one", " header two")


def test_comments_right_above_a_key_attach_to_that_key() -> None:
    config = parse(COMMENTED)
    assert config.comments.for_key("keepalive") == (" about keepalive",)
    web = config.virtual_servers[0]
    assert web.comments.for_key("port") == (" about port",)
    assert web.servers[0].comments.for_key("weight") == (" about weight",)


def test_comments_above_a_block_attach_to_that_block() -> None:
    web = parse(COMMENTED).virtual_servers[0]
    assert web.comments.above == (" about web",)
    assert web.servers[0].comments.above == (" about r1",)


def test_comments_before_a_closing_brace_go_to_the_block_end() -> None:
    web = parse(COMMENTED).virtual_servers[0]
    assert web.comments.end == (" end of web",)
    assert web.servers[0].comments.end == (" end of r1",)


def test_comments_at_the_end_of_the_file_go_to_the_file_end() -> None:
    assert parse(COMMENTED).comments.end == (" the end",)


def test_a_comment_directly_above_the_first_key_is_not_a_header() -> None:
    config = parse("# about keepalive\nkeepalive = 3\n")
    assert config.comments.above == ()
    assert config.comments.for_key("keepalive") == (" about keepalive",)
