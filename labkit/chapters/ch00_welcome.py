"""Notebook 00, welcome: how the kit works (the lab clock, fixture keys, resetting), and exercise 00.1."""

from __future__ import annotations

import datetime as _dt

from labkit import guide, lab
from labkit.exercises import check, exercise

__all__ = ["check"]


@exercise("00.1", "Move the lab clock one week forward", guide.NB00)
def _clock_week(answer) -> tuple[bool, str]:
    expected = lab.DEFAULT_INSTANT + _dt.timedelta(days=7)
    if not isinstance(answer, _dt.datetime):
        return False, "pass the value of lab.now() after moving the clock (a datetime)"
    if lab.now(answer) == expected:
        return True, f"the lab clock reads {expected:%Y-%m-%d %H:%M} UTC; lab.reset() puts it back"
    return False, (f"{answer:%Y-%m-%d %H:%M} is not one week after the default instant "
                   f"({lab.DEFAULT_INSTANT:%Y-%m-%d %H:%M}): start from the default instant, then move the lab clock "
                   "forward (section 2 shows how)")
