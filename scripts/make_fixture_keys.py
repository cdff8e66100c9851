"""Generate labkit's named fixture keys (run once by a maintainer; the keys ship as package data).

    python scripts/make_fixture_keys.py

Existing key files are kept, so the lab's certificates and fingerprints never change by accident. Adding a name to
``labkit.lab.FIXTURE_KEYS`` and running this script adds its key.
"""

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from labkit.lab import FIXTURE_KEYS, new_key

OUT = Path(__file__).resolve().parent.parent / "labkit" / "data" / "keys"

for spec in FIXTURE_KEYS.values():
    path = OUT / f"{spec.name}.key.pem"
    if path.exists():
        continue
    key = new_key(spec.kind, spec.size)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    print("wrote", path)
