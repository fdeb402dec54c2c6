"""The shells' clock. Services never read it: they take ``today``/``now`` as arguments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today() -> dt.date:
    """Today's date in France (a 23:30 UTC event is already tomorrow in Paris)."""
    return dt.datetime.now(PARIS).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
