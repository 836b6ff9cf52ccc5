"""Known gaps between a tier and the language: program path -> tier id -> reason.

Keys are paths relative to `tests/programs/` (`numbers/floor_division.fl`) and tier ids from
`tiers.TIERS`. Every entry runs as a strict xfail, so an entry whose program starts passing fails
the suite and must be removed: the map only shrinks.
"""

from __future__ import annotations

from typing import Final

SKIPS: Final[dict[str, dict[str, str]]] = {}
