"""Models of the configuration panels; each will mirror one block of lvs.cf.

The first models (global settings, redundancy, virtual and real servers) come with
the panels that edit them.
"""

from __future__ import annotations
