"""The return files of the bad-input corpus for signed returns (issue 20, point 3): each was imported with exit 0
before returns were signed. Both are otherwise good returns of Charnwood, their digests right.

- unsigned.json: a return as Locality Desk wrote it before signing (no signature fields);
- forged_signature.json: the forgery of the issue on a signed return: COH-02 edited to 100 %, another signer, the
  digest recomputed, the team's signature kept. Its signature no longer matches, whatever key is trusted.

`python tests/corpus_signing.py` writes them under tests/data/bad/; tests/unit/test_return_signing.py checks the
committed copies and runs each file.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from return_files import as_json as _json
from return_files import return_doc

from desktop.models.kpi import returns, signing
from desktop.models.kpi.catalogue import by_code

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
# A fixed key, so the file is the same each time it is made (Ed25519 signatures are deterministic).
KEY = signing.new_pair(hashlib.sha256(b"tests/corpus_signing.py CHA").digest())


def unsigned_doc() -> dict:
    doc = return_doc()
    for field in signing.FIELDS:
        doc.pop(field, None)
    return doc


def forge(doc: dict) -> dict:
    """What the issue found accepted: COH-02 made 100 %, another signer, the digest recomputed."""
    kpi = by_code()["COH-02"]
    row = next(r for r in doc["values"] if r["kpi"] == "COH-02")
    row["numerator"] = row["denominator"]
    row["value"] = kpi.value(row["numerator"], row["denominator"])
    row["rag"] = kpi.rag(row["value"])
    doc["signed_off_by"] = "Someone Else"
    # The digest of the content, as the import checks it (the signing fields are not part of it).
    doc["sha256"] = returns.digest({k: v for k, v in doc.items() if k not in signing.FIELDS})
    return doc


def files() -> dict[str, bytes]:
    """Every file, by its path under tests/data/bad/."""
    return {
        "returns/unsigned.json": _json(unsigned_doc()),
        "returns/forged_signature.json": _json(forge(signing.sign_with(unsigned_doc(), KEY))),
    }


# file name -> (code, words of the reason)
REFUSED = {
    "unsigned.json": ("unsigned", "not signed"),
    "forged_signature.json": ("bad-signature", "does not match its content"),
}


if __name__ == "__main__":
    for name, data in files().items():
        (CORPUS / name).write_bytes(data)
        print("wrote", CORPUS / name)
