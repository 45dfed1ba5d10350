"""The CONTROL/MONITORING views: the checklist, a dead socket, then a real pulse."""

from __future__ import annotations

import hashlib
import socket
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from bench.status_bench import recorded_status
from lbconfig import control, control_panel, control_socket, control_table
from lbconfig.models import AuditEntry, Revision
from tests.lbconfig.test_control_service import (
    reaches,
    router_made,
    serving,
    wait_for,
)
from tests.pulse.status_reference import compact_status

pytestmark = pytest.mark.django_db

ACTIONS = [reverse("lbconfig:pulse_action", args=[v]) for v in control.VERBS]
POSTS = [*ACTIONS, reverse("lbconfig:pulse_admin")]
READS = ["lbconfig:status", "lbconfig:status_json", "lbconfig:metrics"]


def shown(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def router(settings):
    with router_made(settings) as made:
        yield made


@pytest.fixture
def running(router, admin_client):
    router.publish()
    text = (router.var / "lvs.cf").read_text()
    sha = hashlib.sha256(text.encode()).hexdigest()
    Revision.objects.create(serial_no=1, text=text, sha256=sha, path="lvs.cf")
    # follow: the page shows (and so uses up) the "pulse started" message.
    admin_client.post(reverse("lbconfig:pulse_action", args=["start"]), follow=True)
    wait_for(serving, what="pulse active with both real servers up")
    return router


# --- the checklist ---


@pytest.mark.parametrize("url", POSTS)
def test_actions_refuse_get(admin_client, url):
    assert admin_client.get(url).status_code == 405


@pytest.mark.parametrize("url", POSTS)
def test_anonymous_users_are_sent_to_login_and_nothing_is_done(client, url):
    response = client.post(url, {"verb": "drain web a"})
    assert response.headers["Location"].startswith(reverse("login"))
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("name", READS)
def test_anonymous_readers_get_401(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 401
    assert b"status" not in response.content


def test_an_expired_login_sends_the_whole_page_to_the_login_form(client):
    response = client.get(reverse("lbconfig:status"), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == "/login/?next=/"


def test_actions_need_the_csrf_token(admin_user, router):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(ACTIONS[0]).status_code == 403


def test_an_unknown_action_is_404(admin_client):
    url = reverse("lbconfig:pulse_action", args=["explode"])
    assert admin_client.post(url).status_code == 404


# --- a dead or absent control socket: clear words, never a 500 ---


def test_the_page_says_stopped_without_a_socket(admin_client, router):
    response = admin_client.get("/")
    assert response.status_code == 200
    assert 'id="daemon-state">stopped<' in response.text
    assert "not published yet" in response.text  # the summary is still there


def test_a_dead_socket_reads_as_failed_everywhere(admin_client, router):
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(router.var / "pulse.sock"))

    page = admin_client.get(reverse("lbconfig:status"))
    data = admin_client.get(reverse("lbconfig:status_json")).json()
    metrics = admin_client.get(reverse("lbconfig:metrics")).text

    assert 'id="daemon-state">failed<' in page.text
    assert (data["state"], data["status"]) == ("failed", None)
    assert "piranha_pulse_up 0\n" in metrics


@pytest.mark.parametrize(
    ("verb", "words"),
    [
        ("stop", "pulse is not running."),
        ("reload", "pulse does not answer: no control socket at "),
        ("start", "pulse did not start: nothing is published yet"),
    ],
)
def test_actions_without_pulse_say_why(admin_client, router, verb, words):
    url = reverse("lbconfig:pulse_action", args=[verb])
    response = admin_client.post(url, follow=True)
    assert response.status_code == 200
    assert any(words in m for m in shown(response))
    assert AuditEntry.objects.get().action == f"pulse {verb}"


def test_drain_without_pulse_says_why(admin_client, router):
    url = reverse("lbconfig:pulse_admin")
    response = admin_client.post(url, {"verb": "drain web a"}, follow=True)
    assert any("pulse does not answer" in m for m in shown(response))


def test_drain_without_a_target_says_which_is_missing(admin_client, router):
    response = admin_client.post(reverse("lbconfig:pulse_admin"), follow=True)
    assert shown(response) == ["Say which real server: DRAIN, MAINT or READY."]


# --- the read-only token ---


def test_the_token_opens_status_json_and_metrics(client, router, settings):
    settings.PIRANHA_STATUS_TOKEN = "s3cret-token"
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}
    assert client.get(reverse("lbconfig:status_json"), **auth).status_code == 200
    assert client.get(reverse("lbconfig:metrics"), **auth).status_code == 200
    # It reads only: the panel and the buttons still want a login.
    assert client.get(reverse("lbconfig:status"), **auth).status_code == 401
    assert client.post(ACTIONS[0], **auth).status_code == 302


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer ", "Basic s3cret-token"])
def test_a_wrong_token_is_refused(client, router, settings, header):
    settings.PIRANHA_STATUS_TOKEN = "s3cret-token"
    response = client.get(reverse("lbconfig:metrics"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="piranha-web"'


def test_no_token_configured_means_no_token_works(client, router, settings):
    settings.PIRANHA_STATUS_TOKEN = ""
    response = client.get(reverse("lbconfig:metrics"), HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


# --- the live panel's polling ---


def test_the_panel_polls_at_the_chosen_frequency(admin_client, router):
    response = admin_client.get(reverse("lbconfig:status"), {"live": 1, "auto": 1})
    assert 'hx-trigger="every 5s"' in response.text
    response = admin_client.get(
        reverse("lbconfig:status"), {"live": 1, "auto": 1, "every": "0"}
    )
    assert 'hx-trigger="every 1s"' in response.text


def test_auto_update_off_returns_the_panel_without_triggers(admin_client, router):
    response = admin_client.get(reverse("lbconfig:status"), {"live": 1, "every": 3})
    assert 'id="status-panel"' in response.text
    assert "hx-trigger" not in response.text
    assert "hx-get" not in response.text


def test_the_live_settings_survive_the_reload_after_a_button(admin_client, router):
    live = {"live": 1, "auto": 1, "every": 2, "show": "problems", "match": "web"}
    admin_client.get(reverse("lbconfig:status"), live)

    text = admin_client.get("/").text

    assert 'hx-trigger="every 2s"' in text
    assert '<option value="problems" selected>' in text
    assert 'value="web" placeholder' in text


def test_stop_asks_to_confirm(admin_client, router):
    text = admin_client.get("/").text
    assert 'action="/pulse/stop/" data-confirm="Stop pulse?' in text


def test_the_page_has_the_live_controls(admin_client, router):
    text = admin_client.get("/").text
    assert "Auto update" in text
    assert "Update frequency in seconds" in text
    assert "Update information now" in text
    assert 'hx-trigger="every 5s"' in text
    assert "js/control.js" in text


# --- with a real pulse ---


def test_the_page_shows_the_routing_table_of_the_running_pulse(admin_client, running):
    text = admin_client.get("/").text

    assert 'id="daemon-state">running<' in text
    assert "the published revision" in text
    assert f"TCP {running.vip}:{running.vport} · scheduler rr" in text
    for backend in running.backends:
        assert f"{backend.address}:{backend.port}" in text
    assert text.count('text-bg-success">up<') == 2
    assert "starting virtual service web active" in text
    assert "CURRENT LVS PROCESSES" in text


def test_the_page_says_when_the_running_config_is_not_the_published_one(
    admin_client, running
):
    Revision.objects.create(serial_no=2, text="x", sha256="0" * 64, path="lvs.cf")
    text = admin_client.get(reverse("lbconfig:status")).text
    assert "not the published revision" in text
    assert "RELOAD to run it" in text


def test_drain_from_the_page_reaches_pulse_and_is_audited(admin_client, running):
    url = reverse("lbconfig:pulse_admin")

    response = admin_client.post(url, {"verb": "drain web a"}, follow=True)

    assert shown(response) == ["web/a: drain is set."]
    assert 'data-rs="web/a"' in response.text
    health = {s["server"]: s["health"] for s in control.status()["servers"]}
    assert health == {"a": "draining", "b": "up"}
    assert AuditEntry.objects.filter(action="pulse drain", detail="web/a").exists()


def test_stop_from_the_page_stops_pulse(admin_client, running):
    url = reverse("lbconfig:pulse_action", args=["stop"])

    response = admin_client.post(url, follow=True)

    assert shown(response)[0].startswith("pulse stopped (pid ")
    assert 'id="daemon-state">stopped<' in response.text
    assert not reaches(running.vip, running.vport)


def test_status_json_carries_the_whole_status(admin_client, running):
    data = admin_client.get(reverse("lbconfig:status_json")).json()
    assert data["state"] == "running"
    assert [s["server"] for s in data["status"]["servers"]] == ["a", "b"]


def test_metrics_speak_the_prometheus_text_format(admin_client, running):
    response = admin_client.get(reverse("lbconfig:metrics"))
    text = response.text

    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "piranha_pulse_up 1\n" in text
    # No partner is configured: the router runs standalone (pulse's role).
    assert 'piranha_pulse_role{role="standalone"} 1\n' in text
    labels = f'virtual="web",server="a",address="{running.backends[0].address}:'
    assert f"piranha_real_server_health{{{labels}" in text
    assert "# TYPE piranha_real_server_connections_total counter" in text
    for line in text.splitlines():
        assert line.startswith("#") or line.rsplit(" ", 1)[1].replace(".", "").isdigit()


def test_the_benchmark_status_has_the_keys_of_a_real_one(running):
    real, recorded = control.status(), recorded_status(2, 2)

    assert recorded.keys() == real.keys()
    assert recorded["servers"][0].keys() == real["servers"][0].keys()
    assert recorded["services"][0].keys() == real["services"][0].keys()
    assert (
        recorded["services"][0]["dests"][0].keys()
        == real["services"][0]["dests"][0].keys()
    )
    assert recorded["heartbeat"].keys() == real["heartbeat"].keys()


def test_the_compact_status_of_the_benchmark_has_the_keys_of_a_real_one(running):
    real = control.status(form={"servers": "not-up"})
    recorded = compact_status(recorded_status(2, 2))

    assert recorded.keys() == real.keys()
    assert recorded["compact"].keys() == real["compact"].keys()
    assert recorded["services"][0].keys() == real["services"][0].keys()


def test_past_the_threshold_the_page_shows_what_the_compact_status_lists(
    admin_client, running, monkeypatch
):
    monkeypatch.setattr(control_panel, "FULL_ROWS", 1)
    monkeypatch.setattr(control_table, "FULL_ROWS", 1)
    monkeypatch.setattr(control_panel._Seen, "total", 0)
    admin_client.post(reverse("lbconfig:pulse_admin"), {"verb": "drain web a"})
    admin_client.get(reverse("lbconfig:status"))  # learns there are 2
    asked, ask = [], control.ask

    def spy(message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        asked.append(message)
        return ask(message, timeout)

    monkeypatch.setattr(control_socket, "ask", spy)

    text = admin_client.get(reverse("lbconfig:status")).text

    assert asked == [{"cmd": "status", "servers": "not-up"}]

    assert 'data-rs="web/a"' in text and 'data-rs="web/b"' not in text
    assert "2 real servers: 1 up, 1 draining" in text
    assert "Showing 1 of 2 real servers" in text
    assert "2 checks running for 2 real servers" in text
