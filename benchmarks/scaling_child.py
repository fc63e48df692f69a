"""Run by bench_scaling.py in a fresh process: import one extract into a fresh workspace and print the seconds
and the process's peak resident memory, so each size is measured alone."""

from __future__ import annotations

import json
import sys
import time

from bench_import import ACTOR, Q3, extract, fresh_copy
from common import peak_rss_mb

from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace

rows = int(sys.argv[1])
path = extract(rows)
db = open_workspace(fresh_copy(f"scaling-{rows}.sqlite"))
start = time.perf_counter()
result = import_extract(db, ACTOR, "CHA", path, Q3)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), "cohort": result.cohort["total"]}))
