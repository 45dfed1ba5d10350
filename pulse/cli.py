"""The command line: `run`, and `status`/`reload`/`stop` over the control socket."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .config import ConfigError
from .control import default_socket, request
from .daemon import Options, run
from .dataplanes import DATAPLANES
from .status import format_status

LOG_FORMAT = "%(asctime)s pulse[%(process)d]: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pulse", description=__doc__)
    parser.add_argument(
        "--control-socket",
        default=None,
        help="default: $PIRANHA_PULSE_SOCKET or var/pulse.sock",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("run", help="run the router")
    start.add_argument("--config", required=True, help="the lvs.cf to run")
    start.add_argument("--dataplane", choices=sorted(DATAPLANES), default="userspace")
    start.add_argument("--role", choices=("auto", "primary", "backup"), default="auto")
    start.add_argument(
        "--force-active", action="store_true", help="start active, not passive"
    )
    start.add_argument("--control-socket", dest="run_socket", default=None)
    start.add_argument("--pidfile", default=None)
    start.add_argument("--foreground", action="store_true", help="do not detach")
    state = commands.add_parser("status", help="print the table and health")
    state.add_argument("--json", action="store_true")
    commands.add_parser("reload", help="re-read lvs.cf and apply the changes")
    commands.add_parser("stop", help="shut the router down")
    for verb in ("drain", "maint", "ready"):
        admin = commands.add_parser(verb, help=f"set a real server {verb}")
        admin.add_argument("virtual")
        admin.add_argument("server")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = getattr(args, "run_socket", None) or args.control_socket or default_socket()
    if args.command == "run":
        return _run(args, path)
    return _client(args, path)


def _run(args: argparse.Namespace, path: str) -> int:
    options = Options(
        config_path=args.config,
        dataplane=args.dataplane,
        control_socket=path,
        pidfile=args.pidfile,
        role=args.role,
        failover=True,
        force_active=args.force_active,
    )
    if not args.foreground:
        _detach()
    _setup_logging(args.foreground)
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(run(options))
    except ConfigError as exc:
        logging.getLogger("pulse").error("cannot start:\n%s", exc)
        return 2
    except OSError as exc:
        logging.getLogger("pulse").error("cannot start: %s", exc)
        return 1


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (the proxy moves bytes about twice as fast); None
    means asyncio's own loop. The benchmarks run pulse with the same choice."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.Loop


def _detach() -> None:
    """Fork into the background; the parent returns to the shell."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _setup_logging(foreground: bool) -> None:
    handler: logging.Handler
    if not foreground and os.path.exists("/dev/log"):
        handler = logging.handlers.SysLogHandler("/dev/log")
        handler.setFormatter(logging.Formatter("pulse[%(process)d]: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def _client(args: argparse.Namespace, path: str) -> int:
    message: dict[str, str] = {"cmd": args.command}
    if args.command in ("drain", "maint", "ready"):
        message.update(virtual=args.virtual, server=args.server)
    try:
        answer = request(path, message)
    except OSError as exc:
        print(f"pulse: cannot reach {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not answer.get("ok"):
        print(f"pulse: {answer.get('error')}", file=sys.stderr)
        return 1
    if args.command == "status":
        if args.json:
            print(json.dumps(answer["status"], indent=2))
        else:
            print(format_status(answer["status"]))
            print(heartbeat_line(answer["status"].get("heartbeat", {})))
    return 0


def heartbeat_line(heartbeat: dict[str, Any]) -> str:
    """The role/partner line: role, active or passive, each path's last word."""
    state = "active" if heartbeat.get("active") else "passive"
    line = f"role {heartbeat.get('role', '?')}, {state}"
    if not heartbeat.get("enabled"):
        return line + ", no partner (standalone)"
    paths = []
    for path in heartbeat.get("paths", []):
        age = path["last_age"]
        heard = (
            "never heard" if age is None else f"{path['partner_says']} {age:.1f} s ago"
        )
        paths.append(f"{path['name']} {path['local']} -> {path['partner']}: {heard}")
    line += f", partner {heartbeat.get('partner')}; " + "; ".join(paths)
    down = heartbeat.get("links", {}).get("down", [])
    return line + (f"; links down: {', '.join(down)}" if down else "")
