"""The status panel's routing table and metrics, from status answers of pulse's shape.

A real pulse's answer is checked against the same shape in test_control_views.py
(`test_the_benchmark_status_has_the_keys_of_a_real_one`).
"""

from __future__ import annotations

import copy

import pytest

from bench.status_bench import recorded_status
from lbconfig import control_panel, control_socket
from lbconfig.control import Snapshot
from lbconfig.control_metrics import prometheus
from lbconfig.control_panel import panel_context, poll
from lbconfig.control_table import FULL_ROWS, ago, routing_table
from tests.pulse.status_reference import compact_status

pytestmark = pytest.mark.django_db


def test_a_small_router_shows_every_real_server():
    status = recorded_status(4, 16)

    table = routing_table(status)

    assert table.rows == 64
    assert table.html.count("<tr data-rs=") == 64
    assert table.healths["up"] + table.healths["down"] < 64  # some drain or maint


def test_a_large_router_shows_every_service_but_only_servers_not_up():
    status = recorded_status(40, 16)
    assert len(status["servers"]) > FULL_ROWS
    not_up = [s for s in status["servers"] if s["health"] != "up"]

    table = routing_table(status)

    assert table.rows == len(not_up)
    assert table.html.count('class="table-secondary"') == 40
    assert sum(table.healths.values()) == 640
    assert table.healths["up"] == 640 - len(not_up)
    assert routing_table(status, show="all").rows == 640


def test_each_service_row_counts_its_real_servers_by_health():
    status = recorded_status(1, 16)
    for server in status["servers"]:
        server.update(health="up", admin="ready")
    status["servers"][0]["health"] = "down"
    status["servers"][1]["health"] = "quiesced"

    html = routing_table(status, show="problems").html

    assert "16 real servers: 14 up, 1 down, 1 quiesced ·" in html


def test_the_name_filter_keeps_the_matching_virtual_servers():
    status = recorded_status(12, 2)

    table = routing_table(status, show="all", match="web1")

    # web1, web10, web11
    assert table.html.count('class="table-secondary"') == 3
    assert table.rows == 6


def test_names_from_pulse_are_escaped():
    status = recorded_status(1, 1)
    status["servers"][0]["server"] = "<b>x</b>"
    status["servers"][0]["last_error"] = "<script>alert(1)</script>"

    html = routing_table(status).html

    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert 'value="drain web0 &lt;b&gt;x&lt;/b&gt;"' in html


def test_a_virtual_server_on_its_sorry_server_shows_the_sorry_row():
    status = recorded_status(1, 2)
    for server in status["servers"]:
        server.update(health="down", weight=None)
    status["services"][0]["dests"] = [
        {"address": "192.0.2.99", "port": 80, "weight": 1, "active": 2, "conns": 7}
    ]
    status["sorry"] = ["web0"]

    html = routing_table(status).html

    assert "sorry server" in html
    assert "192.0.2.99:80" in html


def test_drained_servers_offer_ready_and_others_drain_and_maint():
    status = recorded_status(1, 2)
    status["servers"][0].update(health="draining", admin="drain")

    html = routing_table(status).html

    assert 'value="ready web0 rs0"' in html
    assert 'value="drain web0 rs1"' in html and 'value="maint web0 rs1"' in html


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "—"), (42.4, "42 s"), (300, "5 min"), (10800, "3 h"), (259200, "3 d")],
)
def test_durations_read_in_the_largest_short_unit(seconds, words):
    assert ago(seconds) == words


def test_the_panel_lists_the_runtime_parts_and_the_heartbeat():
    context = panel_context(Snapshot("running", recorded_status(2, 2)))

    names = [p["name"] for p in context["processes"]]
    assert names == [
        "heartbeat",
        "table manager (lvs)",
        "health checks (nanny)",
        "dataplane ipvs",
    ]
    assert context["heartbeat"]["paths"][0]["heard"] == "last heard 1 s ago"
    assert context["published"]["text"] == "nothing has been published from here"
    assert len(context["events"]) == 25


def test_metrics_of_a_stopped_pulse_say_only_that_it_is_down():
    assert prometheus(Snapshot("stopped")) == (
        "# HELP piranha_pulse_up 1 when pulse answers on its control socket\n"
        "# TYPE piranha_pulse_up gauge\n"
        "piranha_pulse_up 0\n"
    )


def test_metrics_escape_label_values_and_give_one_health_series_each():
    status = copy.deepcopy(recorded_status(1, 1))
    status["servers"][0]["server"] = 'a"b\\c'

    text = prometheus(Snapshot("running", status))

    assert 'server="a\\"b\\\\c"' in text
    assert 'health="down"} 0' in text or 'health="down"} 1' in text
    assert text.count("piranha_real_server_health{") == 6
    assert 'piranha_pulse_heartbeat_age_seconds{path="udp"} 1.2' in text


def shown(status, show="auto", match=""):
    """What the panel shows of a status, but for the clock."""
    context = panel_context(Snapshot("running", status), show, match)
    keep = ("table", "table_rows", "table_total", "processes", "events", "uptime")
    return {k: context[k] for k in keep}


@pytest.mark.parametrize("match", ["", "web1", "nothing"])
def test_the_compact_answer_shows_the_same_panel_as_the_whole_one(match):
    status = recorded_status(40, 16)
    status["services"][3]["dests"].append(
        {"address": "192.0.2.99", "port": 80, "weight": 1, "active": 2, "conns": 7}
    )
    status["sorry"] = ["web3"]
    compact = compact_status(status, match)
    assert len(compact["servers"]) < len(status["servers"]) // 10

    assert shown(compact, "auto", match) == shown(status, "auto", match)
    assert shown(compact, "problems", match) == shown(status, "problems", match)
    if not match:
        assert "sorry server" in str(shown(compact)["table"])


@pytest.fixture
def asked(monkeypatch):
    """The requests the panel sends, answered from a recorded status."""
    requests, status = [], {"full": recorded_status(40, 16)}

    def ask(message, timeout=None):
        requests.append(message)
        full = status["full"]
        if "servers" in message:
            full = compact_status(full, message.get("match", ""), message["servers"])
        return {"ok": True, "status": full}

    monkeypatch.setattr(control_socket, "ask", ask)
    monkeypatch.setattr(control_panel._Seen, "total", 0)
    return requests, status


def test_past_the_threshold_the_poll_asks_for_the_compact_form(asked):
    requests, status = asked

    poll()  # the first poll learns how large the router is
    snap = poll()
    poll("auto", "web1")
    poll("problems")
    poll("all")

    assert requests == [
        {"cmd": "status"},
        {"cmd": "status", "servers": "not-up"},
        {"cmd": "status", "servers": "not-up", "match": "web1"},
        {"cmd": "status", "servers": "not-up"},
        {"cmd": "status"},
    ]
    assert snap.status is not None and snap.status["compact"]["total"] == 640


def test_a_router_that_shrank_below_the_threshold_gets_every_row_again(asked):
    requests, status = asked
    poll()
    status["full"] = recorded_status(2, 16)

    snap = poll()
    poll()

    assert (
        requests[1:]
        == [{"cmd": "status", "servers": "not-up"}] + [{"cmd": "status"}] * 2
    )
    assert snap.status is not None and "compact" not in snap.status
