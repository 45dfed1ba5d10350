"""lvscf: the lvs.cf format of the LVS Load Balancer Add-On, as a pure library.

Three verbs and one error type::

    config = parse(text)          # raises ParseError (an LvsCfError)
    text = render(config)         # canonical, deterministic; raises RenderError
    problems = validate(config)   # list[Problem], errors and warnings

No Django, no network, no I/O beyond the command line in ``__main__``.
"""

from __future__ import annotations

from .errors import LvsCfError, ParseError, Problem, RenderError
from .model import Comments, Config, RealServer, Source, VirtualServer
from .parse import parse
from .render import render
from .validate import validate

__all__ = [
    "Comments",
    "Config",
    "LvsCfError",
    "ParseError",
    "Problem",
    "RealServer",
    "RenderError",
    "Source",
    "VirtualServer",
    "parse",
    "render",
    "validate",
]
