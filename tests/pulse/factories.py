"""lvs.cf texts for the pulse tests, built from small overrides."""

from __future__ import annotations

import lvscf


def server(name, address, port=None, weight=1, active=1):
    lines = [f"     server {name} {{", f"         address = {address}"]
    lines.append(f"         active = {active}")
    if port is not None:
        lines.append(f"         port = {port}")
    lines += [f"         weight = {weight}", "     }"]
    return "\n".join(lines)


def virtual(name, address, port, servers=(), **keys):
    keys = {"active": 1, "scheduler": "wlc", "protocol": "tcp", **keys}
    lines = [f"virtual {name} {{", f"     address = {address} lo"]
    lines.append(f"     port = {port}")
    for key, value in keys.items():
        lines.append(f"     {key} = {value}")
    lines += [*servers, "}"]
    return "\n".join(lines)


def config_text(*virtuals, **globals_):
    keys = {"serial_no": 1, "primary": "127.0.0.1", "service": "lvs"}
    keys |= {"network": "direct", **globals_}
    head = [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(head + list(virtuals)) + "\n"


def config(*virtuals, **globals_):
    return lvscf.parse(config_text(*virtuals, **globals_))
