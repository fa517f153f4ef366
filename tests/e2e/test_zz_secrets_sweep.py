"""No secret in the clear where an operator's eyes or a database dump reach (issue 14, abuse
resistance): after the rest of the session has run, every server log, SQLite database and
PostgreSQL dump the suite left behind is searched for every passphrase and password the tests
use, every API credential and every TOTP secret handed out. Named `zz` so that it runs last in
a session; run alone it has nothing to search and says so.

What counts as a secret: string literals the test sources assign to a name containing
passphrase, password or secret (at least 8 characters), and what `conftest.remember_secret`
collected at run time. Short one-time codes (6 to 8 digits) are left out: they would match digit
runs by chance, and they are stored as hashes (checked in the Rust store tests).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import PASSPHRASE, REPO, RUNTIME_SECRETS

# A literal assigned to a secret-sounding name: `PASSPHRASE = "..."`, `login_password="..."`.
ASSIGNED = re.compile(
    r"""(?ix)\b[\w]*(?:passphrase|password|secret)[\w]*\s*[:=]\s*(?:\w+\s*=\s*)?["']([^"'\n]{8,})["']""")

# Where secrets must never be: what servers log and what databases keep.
SWEPT = ("*.log", "*.db", "*.db-wal", "*.dump.sql")

# Literals that match the pattern but are not secrets anyone uses (file names, field names, the
# S3 test account of moto, which the tests hand to the server on purpose).
NOT_SECRETS = {
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


def source_secrets() -> set[str]:
    found: set[str] = set()
    for f in sorted((REPO / "tests" / "e2e").glob("*.py")):
        for m in ASSIGNED.finditer(f.read_text(errors="replace")):
            value = m.group(1)
            if value in NOT_SECRETS or "/" in value or value.endswith((".pdf", ".txt", ".toml")):
                continue
            found.add(value)
    return found


def test_no_secret_in_logs_or_databases(tmp_path_factory):
    base = Path(tmp_path_factory.getbasetemp())
    files = sorted(p for pattern in SWEPT for p in base.rglob(pattern) if p.is_file())
    from_sources = source_secrets()
    # The suite's own passphrase must be among them, or the pattern has stopped matching.
    assert PASSPHRASE in from_sources, sorted(s[:3] for s in from_sources)
    secrets = from_sources | set(RUNTIME_SECRETS)
    assert len(secrets) >= 5, f"the sweep found too few secrets to be meaningful: {len(secrets)}"
    if not files:
        pytest.skip("nothing to sweep: run this file after (in the same session as) the others")
    print(f"\nsecrets sweep: {len(secrets)} secrets over {len(files)} files "
          f"({sum(p.stat().st_size for p in files) // 1024} KiB)")
    leaks = []
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            if secret.encode() in data:
                # Never print the secret itself: the name of the file and its first letters.
                leaks.append(f"{path.relative_to(base)}: {secret[:3]}…({len(secret)} chars)")
    assert not leaks, "secrets found in the clear:\n" + "\n".join(leaks)
