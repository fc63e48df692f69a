"""A small thread pool for the domain's vectorised work: Arrow and numpy release the GIL, so the parsing and
counting of a large extract can use a laptop's second core."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="locality-desk-work")
