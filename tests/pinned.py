"""The day every test lives on, unless it pins another: tests never read the machine's clock (issue 17).

The demo world the tests build is anchored to this day, so its history, meetings, visits and returns run up
to it whatever the real date is.
"""

from __future__ import annotations

import datetime as dt

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime.combine(TODAY, dt.time(9, 0))
