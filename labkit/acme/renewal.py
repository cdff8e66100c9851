"""The ACME automated-renewal model of guide chapter 5, on the lab clock (no network).

:func:`renewal_schedule` lists when an Expressway-E in automated mode renews (at two-thirds of the certificate's
lifetime) and deploys (on the chosen days at the chosen time); :func:`renewal_timeline` draws it;
:func:`deployment_margin` says how close to its predecessor's expiry a renewed certificate goes into service.

The guide's 90 days are Let's Encrypt's lifetime of 2021. Its default profile shortens them to 64 days from
2027-02-10 and 45 days from 2028-02-16 (Let's Encrypt's announcement of 2025-12-02): :data:`LETS_ENCRYPT_LIFETIMES`
and :func:`lets_encrypt_lifetime`. Renewing at two-thirds still leaves a third of the lifetime (15 days at 45).
"""

from __future__ import annotations

import datetime as _dt
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from labkit import guide, lab
from labkit.errors import InputError

__all__ = ["RenewalEvent", "RenewalSchedule", "renewal_schedule", "renewal_timeline", "deployment_margin",
           "LETS_ENCRYPT_LIFETIMES", "lets_encrypt_lifetime"]

#: (from date, days): the lifetime of a certificate from Let's Encrypt's default ("classic") profile, from the date
#: each lifetime takes effect (Let's Encrypt's announcement of 2025-12-02; the opt-in tlsserver profile has issued
#: 45-day certificates since 2026-05-13).
LETS_ENCRYPT_LIFETIMES: tuple[tuple[_dt.date, int], ...] = (
    (_dt.date(2015, 12, 3), 90), (_dt.date(2027, 2, 10), 64), (_dt.date(2028, 2, 16), 45))


def lets_encrypt_lifetime(at: _dt.datetime | str | None = None) -> int:
    """The lifetime in days of a certificate Let's Encrypt's default profile issues at ``at`` (the lab clock)."""
    day = lab.now(at).date()
    return [days for start, days in LETS_ENCRYPT_LIFETIMES if start <= day][-1]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday(day) -> int:
    if isinstance(day, int) and 0 <= day <= 6:
        return day
    if isinstance(day, str):
        for index, name in enumerate(_DAYS):
            if len(day.strip()) >= 3 and name.lower().startswith(day.strip().lower()):
                return index
    raise InputError("Days are weekday names (Monday or Mon) or numbers 0 (Monday) to 6 (Sunday)",
                     rule="acme-schedule-day", value=day, chapter=guide.CH5)


def _weekday_name(day) -> str:
    return _DAYS[_weekday(day)]


def _time_of_day(value) -> _dt.time:
    if isinstance(value, _dt.time):
        return value.replace(tzinfo=None, microsecond=0)
    match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", str(value))
    if not match:
        raise InputError("The deployment time is HH:MM (24-hour)", rule="acme-schedule-time", value=value,
                         chapter=guide.CH5)
    return _dt.time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class RenewalEvent:
    """One step of automated mode: ``kind`` is ``issued``, ``attempt`` (``ok`` says whether it got a certificate),
    ``deployed`` or ``expires``; ``generation`` counts certificates from 0."""

    when: _dt.datetime
    kind: str
    generation: int
    ok: bool = True

    def __str__(self) -> str:
        extra = "" if self.kind != "attempt" else (" (certificate obtained)" if self.ok else " (failed)")
        return f"{self.when:%Y-%m-%d %a %H:%M} {self.kind:<8} certificate {self.generation}{extra}"


class RenewalSchedule(list):
    """What :func:`renewal_schedule` returns: its :class:`RenewalEvent` list, in time order, which also says what the
    admin chose: ``days_of_week`` (full weekday names, Monday first) and ``time_of_day``."""

    def __init__(self, events, *, days_of_week: tuple[str, ...], time_of_day: _dt.time):
        super().__init__(events)
        self.days_of_week = days_of_week
        self.time_of_day = time_of_day


def renewal_schedule(issued_at: _dt.datetime | str | None = None, *, lifetime_days: int = 90,
                     renew_fraction: float = 2 / 3, days_of_week: Iterable = ("Monday",),
                     time_of_day: str | _dt.time = "02:00", horizon_days: int = 365, seed: int = 0,
                     failed_attempts: int = 0) -> RenewalSchedule:
    """Automated mode, modelled on the lab clock (chapter 5), in time order.

    The first certificate is issued at ``issued_at`` (the lab clock by default) and deployed at the next slot of
    the admin's schedule (``days_of_week`` at ``time_of_day``). From day ``lifetime_days * renew_fraction`` of a
    certificate's life (day 60 of 90) the stored CSR is resubmitted twice a day at random times (a seeded RNG:
    the same ``seed`` gives the same times); the first ``failed_attempts`` attempts of each renewal fail (port 80
    closed, say). A renewed certificate is deployed at the next slot after it arrives. Events stop at
    ``horizon_days`` after ``issued_at``.
    """
    start = lab.now(issued_at)
    if not isinstance(lifetime_days, int) or lifetime_days <= 0:
        raise InputError("The lifetime is a positive number of days", rule="acme-lifetime", value=lifetime_days,
                         chapter=guide.CH5)
    if not 0 < renew_fraction < 1:
        raise InputError("Renewal starts part-way through the lifetime: 0 < renew_fraction < 1",
                         rule="acme-renew-fraction", value=renew_fraction, chapter=guide.CH5)
    days = sorted({_weekday(d) for d in ([days_of_week] if isinstance(days_of_week, str | int) else days_of_week)})
    if not days:
        raise InputError("Choose at least one deployment day", rule="acme-schedule-day", value="none",
                         chapter=guide.CH5)
    slot_time = _time_of_day(time_of_day)
    end = start + _dt.timedelta(days=horizon_days)
    rng = random.Random(seed)

    def next_slot(after: _dt.datetime) -> _dt.datetime:
        day = after.date()
        while True:
            slot = _dt.datetime.combine(day, slot_time, tzinfo=after.tzinfo)
            if day.weekday() in days and slot > after:
                return slot
            day += _dt.timedelta(days=1)

    events: list[RenewalEvent] = []
    generation, issued = 0, start
    events.append(RenewalEvent(issued, "issued", 0))
    events.append(RenewalEvent(next_slot(issued), "deployed", 0))
    while issued < end:
        events.append(RenewalEvent(issued + _dt.timedelta(days=lifetime_days), "expires", generation))
        due_day = (issued + _dt.timedelta(days=lifetime_days * renew_fraction)).date()
        failures, obtained = failed_attempts, None
        day = due_day
        while obtained is None:
            midnight = _dt.datetime.combine(day, _dt.time(), tzinfo=start.tzinfo)
            for second in sorted(rng.sample(range(86400), 2)):  # two attempts a day, random times
                when = midnight + _dt.timedelta(seconds=second)
                ok = failures == 0
                events.append(RenewalEvent(when, "attempt", generation + 1, ok))
                if ok:
                    obtained = when
                    break
                failures -= 1
            day += _dt.timedelta(days=1)
        generation, issued = generation + 1, obtained
        events.append(RenewalEvent(issued, "issued", generation))
        events.append(RenewalEvent(next_slot(issued), "deployed", generation))
    return RenewalSchedule(sorted((e for e in events if e.when <= end), key=lambda e: (e.when, e.generation)),
                           days_of_week=tuple(_DAYS[d] for d in days), time_of_day=slot_time)


def renewal_timeline(events: list[RenewalEvent]):
    """A matplotlib figure: one bar per certificate from issue to expiry, the renewal attempts as ticks and the
    deployments as diamonds."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    issued = {e.generation: e.when for e in events if e.kind == "issued"}
    expires = {e.generation: e.when for e in events if e.kind == "expires"}
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(issued) + 1.5))
    for gen, start in issued.items():
        stop = expires.get(gen, start + _dt.timedelta(days=90))
        ax.barh(gen, mdates.date2num(stop) - mdates.date2num(start), left=mdates.date2num(start), height=0.4,
                color="#cfe2f3", edgecolor="#1f4e79")
    for kind, marker, colour, label in (("attempt", "|", "#a4262c", "renewal attempt"),
                                        ("deployed", "D", "#1b7f3b", "deployed")):
        points = [e for e in events if e.kind == kind]
        if points:
            ax.scatter([mdates.date2num(e.when) for e in points], [e.generation for e in points], marker=marker,
                       color=colour, label=label, zorder=3, s=60 if marker == "|" else 30)
    ax.set_yticks(list(issued), [f"certificate {g}" for g in issued])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_title("ACME automated mode: renew at two-thirds of the lifetime, deploy on the schedule")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize=8,
              frameon=False)  # beside the axes, never on the bars
    fig.autofmt_xdate()
    fig.tight_layout()
    plt.close(fig)
    return fig


def deployment_margin(events: list[RenewalEvent]) -> tuple[_dt.timedelta, int] | None:
    """The shortest time between a renewed certificate's deployment and its predecessor's expiry, and which
    certificate that is (None when the schedule deploys no renewed certificate)."""
    deployed = {e.generation: e.when for e in events if e.kind == "deployed"}
    expires = {e.generation: e.when for e in events if e.kind == "expires"}
    worst: tuple[_dt.timedelta, int] | None = None
    for gen, when in deployed.items():
        if gen == 0 or gen - 1 not in expires:
            continue
        left = expires[gen - 1] - when
        if worst is None or left < worst[0]:
            worst = (left, gen)
    return worst
