#!/usr/bin/env python3
"""Peak memory of `sahih serve` for one large ECS v2 sign body (security finding 5).

Usage: .venv/bin/python bench/body_memory.py BINARY [BINARY...]
Starts a fresh SQLite deployment per binary, sends a 100 MiB base64 body (plain, then with
PHP-escaped slashes) with a wrong passphrase, and prints the growth of the server's peak
resident size (VmHWM, reset with clear_refs before each request) relative to the body size.
Linux only. Run with SAHIH_CORPUS pointing at a built corpus (tests/e2e/conftest.py).
"""
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from ecs_support import http, make_deployment  # noqa: E402

MIB = 1024 * 1024


def peak(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")


def body(style: str) -> bytes:
    junk = "AB/+" * (25 * MIB)
    if style == "php":
        junk = junk.replace("/", "\\/")[: 100 * MIB]
        junk = junk[: len(junk) - len(junk) % 4]
    return ('{"nik":"3171010101010001","passphrase":"salah","file":["' + junk + '"]}').encode()


for binary in sys.argv[1:]:
    d = make_deployment(Path(binary), Path(tempfile.mkdtemp()), "sqlite")
    app = d.add_client("eoffice")
    pid = d.servers[0].proc.pid
    for style in ("plain", "php"):
        data = body(style)
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        before = peak(pid)
        r = http("POST", d.servers[0].url + "/api/v2/sign/pdf", credential=app, data=data,
                 content_type="application/json")
        growth = peak(pid) - before
        print(f"{binary}\t{style}\t{len(data) / MIB:.0f} MiB body\tHTTP {r.status}\t"
              f"peak +{growth / MIB:.0f} MiB ({growth / len(data):.2f}x)")
    d.close()
