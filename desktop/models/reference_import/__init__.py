"""Reference data from the NHS's own published files (issue 21): ODS epraccur (practices), ePCN (PCNs) and
CQC's care directory (care homes).

`read_files` reads and checks the files, `plan` compares them with the workspace (the preview: nothing written),
`apply` writes a plan in one audited transaction. The same files twice give an empty plan, so nothing changes.
"""

from __future__ import annotations

from .apply import apply, import_files
from .cqc import LLR_LOCAL_AUTHORITIES
from .ods import LLR_COMMISSIONERS, OdsFiles, read_files
from .plan import Plan, covered_authorities, covered_commissioners, plan

__all__ = [
    "LLR_COMMISSIONERS",
    "LLR_LOCAL_AUTHORITIES",
    "OdsFiles",
    "Plan",
    "apply",
    "covered_authorities",
    "covered_commissioners",
    "import_files",
    "plan",
    "read_files",
]
