"""Whole-file fixtures: the GUI's layouts, hand edits, every keyword, others' files.

Each file in fixtures/ is written from the reference (piranha.md §1, §2, §6,
§8) and says what it is in its comment header; fixtures/canonical/ holds the
text `render` must give for each, in the GUI's 5/9-space layout. The shared
examples folder holds real files written by others (read in place, not copied).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import lvscf
from lvscf import Config, RealServer
from lvscf.vocabulary import ALL_KEYWORDS

FIXTURES = Path(__file__).parent / "fixtures"
CANONICAL = FIXTURES / "canonical"

NAMES = (
    "gui-nat.cf",
    "gui-direct-routing.cf",
    "gui-tunnel.cf",
    "hand-written-comments.cf",
    "fwmark-ftp.cf",
    "udp-dns.cf",
    "failover.cf",
    "everything.cf",
)
VALID = tuple(name for name in NAMES if name != "failover.cf")
# Every fixture, as written and in its canonical form.
ALL_FILES = tuple(FIXTURES / name for name in NAMES) + tuple(
    CANONICAL / name for name in NAMES
)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _parse(name: str) -> Config:
    return lvscf.parse(_read(FIXTURES / name))


def _comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip(" \t").startswith("#")]


def _first_tokens(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines() if line.strip()}


def _ids(paths: tuple[Path, ...]) -> list[str]:
    return [f"{path.parent.name}/{path.name}" for path in paths]


# --- the files themselves ------------------------------------------------------------


def test_the_fixture_folders_hold_exactly_the_named_files():
    assert sorted(p.name for p in FIXTURES.glob("*.cf")) == sorted(NAMES)
    assert sorted(p.name for p in CANONICAL.glob("*.cf")) == sorted(NAMES)


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_fixture_starts_with_a_comment_header_naming_it(path):
    assert _read(path).startswith(f"# {path.name}: ")


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_fixture_parses_without_errors_or_warnings(path):
    config = lvscf.parse(_read(path))

    assert config.source is not None
    assert [p.format(path.name) for p in config.source.warnings] == []


@pytest.mark.parametrize("name", VALID)
def test_the_valid_fixtures_pass_validation_without_any_problem(name):
    for path in (FIXTURES / name, CANONICAL / name):
        problems = lvscf.validate(lvscf.parse(_read(path)))
        assert [p.format(name) for p in problems] == []


@pytest.mark.parametrize("folder", [FIXTURES, CANONICAL], ids=["as-written", "canon"])
def test_the_failover_fixture_only_warns_that_fos_is_deprecated(folder):
    problems = lvscf.validate(lvscf.parse(_read(folder / "failover.cf")))

    assert len(problems) == 1
    (problem,) = problems
    assert problem.severity == "warning"
    assert problem.path == ("service",)
    assert "(service = fos) are deprecated" in problem.message
    assert (problem.line, problem.column) == (9, 11)


# --- canonical text ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_rendering_a_fixture_gives_its_canonical_file(name):
    assert lvscf.render(_parse(name)) == _read(CANONICAL / name)


@pytest.mark.parametrize("name", NAMES)
def test_a_canonical_file_renders_back_to_itself(name):
    text = _read(CANONICAL / name)

    assert lvscf.render(lvscf.parse(text)) == text


@pytest.mark.parametrize("name", NAMES)
def test_a_canonical_file_means_what_its_fixture_means(name):
    assert lvscf.parse(_read(CANONICAL / name)) == _parse(name)


@pytest.mark.parametrize("name", NAMES)
def test_canonical_files_use_the_guis_5_and_9_space_layout(name):
    depth = 0
    for number, line in enumerate(_read(CANONICAL / name).splitlines(), 1):
        if line.strip() == "}":
            depth -= 1
        indent = len(line) - len(line.lstrip(" "))
        if line:
            assert "\t" not in line[: indent + 1], f"line {number}: {line!r}"
            assert indent == (0, 5, 9)[depth], f"line {number}: {line!r}"
        if line.endswith(" {"):
            depth += 1
    assert depth == 0


@pytest.mark.parametrize("name", NAMES)
def test_canonical_files_write_send_and_expect_in_double_quotes(name):
    for line in _read(CANONICAL / name).splitlines():
        words = line.split(" = ", 1)
        if words[0].strip() in ("send", "expect", "send_program"):
            assert words[1].startswith('"') and words[1].endswith('"'), line


# --- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_parsing_the_rendered_text_of_a_fixture_gives_the_same_config(path):
    config = lvscf.parse(_read(path))

    assert lvscf.parse(lvscf.render(config)) == config


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_the_rendered_text_of_a_fixture_keeps_every_comment_line(path):
    text = _read(path)
    rendered = lvscf.render(lvscf.parse(text))

    lvscf.parse(rendered)  # accepted again
    assert len(_comment_lines(rendered)) == len(_comment_lines(text))
    stripped = sorted(line.strip() for line in _comment_lines(text))
    assert sorted(line.strip() for line in _comment_lines(rendered)) == stripped


def test_the_shared_examples_parse_as_the_original_parser_says(examples_dir):
    outcome: dict[str, str] = {}
    for path in sorted(examples_dir.glob("*.cf")):
        try:
            lvscf.parse(_read(path))
        except lvscf.ParseError as exc:
            first = exc.problems[0]
            outcome[path.name] = f"{first.line}:{first.column}: {first.message}"
        else:
            outcome[path.name] = "accepted"

    assert outcome == {
        "keepalivedgui-1.cf": "20:1: unknown command",
        "piranha-upstream-1.cf": "accepted",
        "piranha-upstream-2.cf": "1:1: Empty configuration: the file is empty",
        "ssocopsacc-1.cf": "accepted",
        "ssocopsacc-2.cf": "accepted",
    }


def test_every_shared_example_that_parses_reads_back_equal_after_rendering(
    examples_dir,
):
    checked, failures = [], []
    for path in sorted(examples_dir.glob("*.cf")):
        text = _read(path)
        try:
            config = lvscf.parse(text)
        except lvscf.ParseError:
            continue
        rendered = lvscf.render(config)
        checked.append(path.name)
        if lvscf.parse(rendered) != config:
            failures.append(f"{path.name}: parse(render(parse(F))) != parse(F)")
        if lvscf.render(lvscf.parse(rendered)) != rendered:
            failures.append(f"{path.name}: the rendered text is not a fixed point")
        if len(_comment_lines(rendered)) != len(_comment_lines(text)):
            failures.append(f"{path.name}: comment lines were lost")

    assert failures == []
    assert len(checked) >= 3


def test_the_upstream_sample_keeps_its_105_comment_lines(examples_dir):
    text = _read(examples_dir / "piranha-upstream-1.cf")
    config = lvscf.parse(text)
    rendered = lvscf.render(config)

    assert len(_comment_lines(text)) == len(_comment_lines(rendered)) == 105
    server1 = config.virtual("server1")
    assert server1 is not None
    assert server1.servers[0].comments.above == (" sorry_server = 127.0.0.1",)
    assert "     # sorry_server = 127.0.0.1\n     server Real1 {\n" in rendered


# --- what each file means ------------------------------------------------------------


def test_gui_nat_is_a_router_pair_with_a_floating_nat_gateway():
    config = _parse("gui-nat.cf")

    assert (config.serial_no, config.service, config.network) == (14, "lvs", "nat")
    assert (config.primary, config.primary_private) == ("192.168.1.10", "10.11.12.1")
    assert (config.backup, config.backup_private) == ("192.168.1.11", "10.11.12.2")
    assert config.backup_active and config.heartbeat and config.monitor_links
    assert (config.heartbeat_port, config.keepalive, config.deadtime) == (539, 6, 18)
    assert (config.nat_router, config.nat_router_device) == ("10.0.0.254", "eth1:1")
    assert config.nat_nmask == "255.255.255.0"
    assert [vs.name for vs in config.virtual_servers] == ["web", "mail"]
    web = config.virtual_servers[0]
    assert (web.address, web.device, web.port) == ("192.168.1.100", "eth0:1", 80)
    # No escape processing in the parser: the backslashes are nanny's to read.
    assert web.send == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert web.expect == "HTTP"
    assert (web.timeout, web.reentry, web.scheduler) == (6, 15, "wlc")
    assert web.servers == (
        RealServer("web1", "10.0.0.1", active=True, port=80, weight=1),
        RealServer("web2", "10.0.0.2", active=True, port=80, weight=2),
    )
    mx2 = config.virtual_servers[1].servers[1]
    assert (mx2.active, mx2.port) == (False, 2525)


def test_gui_direct_routing_has_persistence_a_sorry_server_and_quiescing():
    config = _parse("gui-direct-routing.cf")
    (https,) = config.virtual_servers

    assert config.network == "direct"
    assert config.nat_router is None
    # No primary_private: the file has none, and pulse uses the public
    # addresses for the heartbeat (the parser's copy rule).
    assert (config.primary_private, config.backup_private) == (None, None)
    assert config.private_addresses() == ("192.168.2.10", "192.168.2.11")
    assert (https.persistent, https.pmask) == (300, "255.255.255.0")
    assert https.sorry_server == "192.168.2.250"
    assert https.quiesce_server is True
    assert https.vip_nmask == "255.255.255.255"
    assert [(s.name, s.active, s.weight) for s in https.servers] == [
        ("app1", True, 10),
        ("app2", True, 10),
        ("app3", False, 5),
    ]


def test_gui_tunnel_checks_its_remote_servers_with_a_sending_program():
    config = _parse("gui-tunnel.cf")
    (www,) = config.virtual_servers

    assert config.network == "tunnel"
    assert (config.tcp_timeout, config.tcpfin_timeout, config.udp_timeout) == (
        900,
        120,
        300,
    )
    # lvsd strips the double quotes: the model holds what nanny receives.
    assert www.send_program == "/usr/local/bin/check_http %h %p"
    assert (www.send, www.expect, www.scheduler) == (None, "OK", "wrr")
    assert [s.address for s in www.servers] == ["203.0.113.5", "192.0.2.77"]


def test_hand_written_comments_land_on_their_keys_and_blocks():
    config = _parse("hand-written-comments.cf")
    web, ssh = config.virtual_servers
    apache1 = web.servers[0]

    assert config.comments.above[0] == (
        " hand-written-comments.cf: an lvs.cf edited by hand, the way admins do:"
    )
    assert len(config.comments.above) == 3
    assert config.comments.for_key("network") == (
        " --- routers ---------------------------------------------------------",
    )
    assert config.comments.for_key("primary") == (
        " the primary router (lb1.example.com)",
    )
    # A TAB-indented comment belongs to the key below it, TAB removed.
    assert config.comments.for_key("deadtime") == (
        " heartbeat timing: deadtime is 3 x keepalive",
    )
    assert config.comments.end == (" end of file: nothing below this line",)
    assert web.comments.above == (
        " The web farm: two Apache boxes behind one VIP.",
        " Ticket OPS-1234 asked for round robin.",
    )
    assert web.comments.for_key("port") == (
        " keep port above the servers: they inherit it",
    )
    assert web.comments.for_key("expect") == ("expect the status line only",)
    assert web.comments.end == (" apache3 is being rebuilt: re-add it when it is back",)
    assert apache1.comments.above == (" first box",)
    assert apache1.comments.for_key("address") == (
        " the data centre renumbered in 2019",
    )
    assert apache1.comments.end == (" TODO: raise its weight after the RAM upgrade",)
    assert ssh.comments.above == (" a second service on the same VIP",)


def test_hand_written_keys_in_any_order_keep_their_values_and_lines():
    config = _parse("hand-written-comments.cf")
    web, ssh = config.virtual_servers

    assert (config.serial_no, config.keepalive, config.deadtime) == (108, 3, 9)
    assert (config.network, config.primary, config.backup) == (
        "direct",
        "172.16.0.10",
        "172.16.0.11",
    )
    assert config.heartbeat is False  # never written: the parser's default
    assert config.source is not None
    assert config.source.keys[()]["serial_no"] == 18
    assert config.source.keys[("virtual", "web")]["port"] == 24
    assert config.source.openers[("virtual", "ssh", "server", "bastion")] == 56
    # Servers take the virtual's port as it is when their block is read.
    assert [(s.name, s.port, s.weight) for s in web.servers] == [
        ("apache1", 8080, 2),
        ("apache2", 8080, 1),
    ]
    assert ssh.servers[0].port == 22
    assert (ssh.active, web.active) == (False, True)


def test_fwmark_ftp_groups_control_and_data_under_mark_21_with_equal_persistence():
    config = _parse("fwmark-ftp.cf")
    ftp, data = config.virtual_servers

    assert (ftp.name, data.name) == ("ftp", "ftp-data")
    assert ftp.fwmark == data.fwmark == 21
    assert ftp.persistent == data.persistent == 600
    # pmask = 255.255.255.255 is ipvsadm's default: the same as no pmask.
    assert ftp.pmask is data.pmask is None
    assert (ftp.port, data.port) == (21, 20)
    assert [s.port for s in ftp.servers + data.servers] == [21, 21, 20, 20]
    assert config.backup == "0.0.0.0"
    assert not config.backup_active


def test_udp_dns_reads_the_domain_service_name_as_port_53():
    config = _parse("udp-dns.cf")
    dns, dns_tcp = config.virtual_servers

    assert (dns.protocol, dns.port) == ("udp", 53)
    assert (dns_tcp.protocol, dns_tcp.port) == ("tcp", 53)
    assert dns.address == dns_tcp.address == "192.168.4.53"
    assert dns.send_program == "/usr/local/bin/check_dns %h"
    assert [s.port for s in dns.servers] == [53, 53]
    assert config.udp_timeout == 30
    assert '     port = 53\n     expect = "OK"\n' in lvscf.render(config)


def test_failover_blocks_land_in_failover_services():
    config = _parse("failover.cf")

    assert config.service == "fos"
    assert config.virtual_servers == ()
    assert [fs.name for fs in config.failover_services] == ["web1", "ftp"]
    web1, ftp = config.failover_services
    assert web1.start_cmd == "/etc/rc.d/init.d/httpd start"
    assert web1.stop_cmd == "/etc/rc.d/init.d/httpd stop"
    assert (web1.active, ftp.active) == (True, False)
    assert (web1.port, ftp.port, ftp.timeout) == (80, 21, 10)
    assert (config.primary_shared, config.backup_shared) == ("/dev/sdb", "/dev/sdb")
    assert config.reservation_conflict_action == "preempt"
    rendered = lvscf.render(config)
    assert rendered.index("failover web1 {") < rendered.index("failover ftp {")
    assert '     start_cmd = "/etc/rc.d/init.d/vsftpd start"\n' in rendered


def test_the_everything_fixture_uses_all_58_keywords():
    assert len(ALL_KEYWORDS) == 58
    assert ALL_KEYWORDS <= _first_tokens(_read(FIXTURES / "everything.cf"))


def test_every_keyword_of_everything_is_in_its_rendered_text():
    rendered = lvscf.render(_parse("everything.cf"))

    assert sorted(ALL_KEYWORDS - _first_tokens(rendered)) == []


def test_everything_keeps_the_keys_the_gui_drops():
    config = _parse("everything.cf")
    web, marked = config.virtual_servers
    (smtp,) = config.failover_services

    assert config.hard_shutdown is False
    assert config.sync is True
    assert (config.active_cmd, config.inactive_cmd) == (
        "/etc/sysconfig/ha/active.sh",
        "/etc/sysconfig/ha/inactive.sh",
    )
    assert config.ipvsadm == "/usr/sbin/ipvsadm"
    assert (config.syncdaemon, config.syncd_iface, config.syncd_id) == (
        True,
        "eth2",
        7,
    )
    assert (config.rsh_command, config.reservation_conflict_action) == (
        "ssh",
        "nothing",
    )
    assert web.client_monitor == "/usr/local/sbin/nanny"
    assert web.master == "192.168.6.10"
    assert web.dirs == ("/var/www/html", "/var/www/cgi-bin")
    assert (web.use_regex, web.expect) == (True, "HTTP/1.[01] 200")
    assert (web.load_monitor, web.scheduler) == ("uptime", "lblcr")
    assert (marked.fwmark, marked.load_monitor) == (42, "rup")
    assert marked.send_program == "/usr/local/bin/check_tls %h %p"
    assert (marked.start_cmd, smtp.start_cmd) == (
        "/bin/true start",
        "/etc/rc.d/init.d/postfix start",
    )
