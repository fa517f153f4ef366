#!/usr/bin/env python3
"""Fails when docs/CLAIMS.md names a test that does not exist.

Each `path::name` in the table must be a file in the repository holding `def name(` (pytest)
or `fn name(` (Rust).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
text = (ROOT / "docs" / "CLAIMS.md").read_text()
refs = re.findall(r"`([\w./-]+\.(?:py|rs))::(\w+)`", text)
missing = []
for path, name in refs:
    file = ROOT / path
    body = file.read_text() if file.is_file() else ""
    if not re.search(rf"(?m)^\s*(?:async\s+)?(?:def|fn|async fn)\s+{name}\s*\(", body):
        missing.append(f"{path}::{name}")
if not refs:
    sys.exit("docs/CLAIMS.md names no tests")
if missing:
    sys.exit("docs/CLAIMS.md names tests that do not exist:\n  " + "\n  ".join(missing))
print(f"docs/CLAIMS.md: {len(refs)} test references, all present")
