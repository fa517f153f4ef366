"""`sahih doctor` (README "Production"): every check OK on a fresh demo data directory, a FAIL
with the fix that repairs it when the master key file's mode is loosened or the database file
cannot be read, exit status 1 on any failure, and the `/healthz` check against a running
server (skipped with a note when nothing listens, failed when something else answers).

When the suite runs as root, the demo directory is handed to `nobody` and doctor runs as that
user: root reads any file whatever its mode, so only an unprivileged user shows what the
service user would see.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ORG, _clean_env, free_port, start_server

NOBODY = 65534


def _as_service_user() -> list[str]:
    """The command prefix that runs sahih as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def doctor(sahih_bin: Path, data: Path, *args: str, prefix: list[str] | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run([*(prefix or []), str(sahih_bin), "--data", str(data), "doctor", *args],
                       capture_output=True, text=True, timeout=300, env=_clean_env(),
                       stdin=subprocess.DEVNULL, cwd=cwd or data.parent)
    assert "panicked" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert p.returncode in (0, 1), (p.returncode, p.stdout, p.stderr)
    return p


def checks(p: subprocess.CompletedProcess) -> dict[str, dict]:
    doc = json.loads(p.stdout)
    return {c["check"]: c for c in doc["checks"]}


@pytest.fixture()
def demo(sahih_bin):
    """A fresh `sahih demo --no-serve` directory, owned by the user doctor runs as."""
    # Not under pytest's tmp (0700 for root): the unprivileged user must reach it.
    base = Path(tempfile.mkdtemp(prefix="sahih-doctor-"))
    os.chmod(base, 0o755)
    p = subprocess.run([str(sahih_bin), "demo", "--no-serve"], capture_output=True, text=True,
                       timeout=300, env=_clean_env(), cwd=base, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    data = base / "sahih-demo"
    prefix = _as_service_user()
    if prefix:
        for path in [data, *data.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    yield data, prefix
    shutil.rmtree(base, ignore_errors=True)


def test_doctor_passes_on_a_fresh_demo_directory(sahih_bin, demo):
    """README: "`sahih doctor` checks the configuration, that the database and blob store
    answer and take writes, the master key file (mode 0600, owned by the user running it), the
    remaining validity of the CA, TSA and OCSP responder certificates (WARN under 30 days), that
    the CRL each CA would publish is fresh, a TSA and an OCSP round trip in-process, the clock
    against the database server and that `base_url` answers `/healthz`"; "exits 1 when any
    check fails"."""
    data, prefix = demo
    p = doctor(sahih_bin, data, "--no-http", "--json", "--lang", "en", prefix=prefix)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True, doc
    found = checks(p)
    for name in ["config", "master-key", "database", "blob-store", "cert:root", "cert:issuing-1",
                 "cert:ocsp-root", "cert:ocsp-issuing-1", "cert:tsa", "crl:root",
                 "crl:issuing-1", "tsa-round-trip", "ocsp-round-trip", "clock"]:
        assert found.get(name, {}).get("status") == "OK", (name, found.get(name), p.stdout)
    assert found["healthz"]["status"] == "SKIP" and "--no-http" in found["healthz"]["detail"]
    assert "same clock" in found["clock"]["detail"]
    # The text form, in Bahasa Indonesia by default: one line per check, a summary.
    t = doctor(sahih_bin, data, "--no-http", prefix=prefix)
    assert t.returncode == 0, t.stdout + t.stderr
    assert "OK    tsa-round-trip" in t.stdout and "0 gagal" in t.stdout, t.stdout
    # No secret in the output: the master key's hex never appears.
    key = (data / "master.key").read_text().strip()
    assert key not in p.stdout + t.stdout


def test_doctor_fails_with_chmod_600_when_the_master_key_mode_is_loosened(sahih_bin, demo):
    """README: "`sahih doctor` prints a fix in one sentence for each failure": a master key file
    readable by others is a FAIL whose fix is the chmod that repairs it."""
    data, prefix = demo
    key = data / "master.key"
    os.chmod(key, 0o644)
    p = doctor(sahih_bin, data, "--no-http", "--lang", "en", prefix=prefix)
    assert p.returncode == 1, p.stdout + p.stderr
    line = next(l for l in p.stdout.splitlines() if "master-key" in l)
    assert line.startswith("FAIL") and "644" in line, p.stdout
    assert f"Fix: Run `chmod 600 {key}`." in p.stdout, p.stdout
    # Indonesian by default.
    p_id = doctor(sahih_bin, data, "--no-http", prefix=prefix)
    assert p_id.returncode == 1 and f"Perbaikan: Jalankan `chmod 600 {key}`." in p_id.stdout, p_id.stdout
    # Repaired, it passes again.
    os.chmod(key, 0o600)
    assert doctor(sahih_bin, data, "--no-http", prefix=prefix).returncode == 0


def test_doctor_fails_with_the_ownership_fix_when_the_master_key_belongs_to_someone_else(sahih_bin, demo):
    """The master key file must be owned by the user running sahih (the service user)."""
    data, prefix = demo
    if not prefix:
        pytest.skip("needs root to give the key file to another user")
    key = data / "master.key"
    os.chown(key, 0, 0)
    p = doctor(sahih_bin, data, "--no-http", "--json", "--lang", "en", prefix=prefix)
    assert p.returncode == 1
    mk = checks(p)["master-key"]
    assert mk["status"] == "FAIL" and "owned by uid 0" in mk["detail"], mk
    assert f"chown sahih {key}" in mk["fix"], mk


def test_doctor_fails_naming_the_file_when_the_database_is_unreadable(sahih_bin, demo):
    """An unreadable SQLite file is a FAIL of the database check whose fix names the file and
    the permissions it needs; the checks that need the database say they were skipped."""
    data, prefix = demo
    if not prefix and os.geteuid() == 0:
        pytest.skip("root reads any file")
    db = data / "sahih.db"
    os.chmod(db, 0)
    try:
        p = doctor(sahih_bin, data, "--no-http", "--json", "--lang", "en", prefix=prefix)
    finally:
        os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)
    assert p.returncode == 1, p.stdout + p.stderr
    found = checks(p)
    assert found["database"]["status"] == "FAIL", found["database"]
    assert str(db) in found["database"]["fix"] and "readable and writable" in found["database"]["fix"]
    assert found["trust-services"]["status"] == "SKIP", found
    # The checks that do not need the database still ran.
    assert found["config"]["status"] == "OK" and found["blob-store"]["status"] == "OK", found


def test_doctor_checks_healthz_of_a_running_server(sahih_bin, tmp_path):
    """README: "that `base_url` answers `/healthz` (skipped with a note when no server answers
    there, or with `--no-http`)": nothing listening is a SKIP that says to start the server, a
    running `sahih serve` is OK, and something else answering there is a FAIL."""
    port = free_port()
    data = tmp_path / "data"
    init = subprocess.run([str(sahih_bin), "init", "--data", str(data), "--org", ORG,
                           "--base-url", f"http://127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=300, env=_clean_env(), cwd=tmp_path)
    assert init.returncode == 0, init.stdout + init.stderr

    idle = doctor(sahih_bin, data, "--json", "--lang", "en")
    assert idle.returncode == 0, idle.stdout
    hz = checks(idle)["healthz"]
    assert hz["status"] == "SKIP" and "start `sahih serve`" in hz["detail"], hz

    # start_server needs only the binary and the data directory of conftest's Sahih.
    proc = start_server(SimpleNamespace(bin=sahih_bin, data=data), port)
    try:
        up = doctor(sahih_bin, data, "--json", "--lang", "en")
        assert up.returncode == 0, up.stdout
        hz = checks(up)["healthz"]
        assert hz["status"] == "OK" and f"http://127.0.0.1:{port}/healthz" in hz["detail"], hz
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    # Something that is not Sahih answers at base_url.
    class NotSahih(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>welcome to nginx</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    other = http.server.HTTPServer(("127.0.0.1", port), NotSahih)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        wrong = doctor(sahih_bin, data, "--json", "--lang", "en")
    finally:
        other.shutdown()
        other.server_close()
    assert wrong.returncode == 1, wrong.stdout
    hz = checks(wrong)["healthz"]
    assert hz["status"] == "FAIL" and "--no-http" in hz["fix"], hz


def test_the_package_installs_and_doctor_runs_clean_as_the_service_user():
    """README "The Debian package": `dpkg -i` creates the `sahih` user, /etc/sahih and
    /var/lib/sahih (0700), `systemd-analyze verify` accepts the unit, `sahih-setup` initialises
    the data directory as `sahih` and `sahih doctor` runs clean as that user; purge and cleanup
    leave no trace. It changes the machine while it runs, so it needs root and a built package
    named by SAHIH_TEST_DEB (`packaging/build-deb.sh` or `cargo deb -p sahih`); skipped
    otherwise."""
    deb = os.environ.get("SAHIH_TEST_DEB")
    if not deb or os.geteuid() != 0:
        pytest.skip("set SAHIH_TEST_DEB=path/to/sahih.deb and run as root")
    script = Path(__file__).resolve().parents[2] / "packaging" / "verify-deb.sh"
    p = subprocess.run([str(script), deb], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "0 failed" in p.stdout and "verify-deb: OK" in p.stdout, p.stdout[-4000:]


def test_doctor_on_postgres_and_s3_reads_the_database_servers_clock(sahih_bin, tmp_path):
    """On PostgreSQL + S3 every check passes too, and the clock check compares this host's
    clock with the database server's (`clock_timestamp()`), not "same host"."""
    from ecs_support import make_deployment

    dep = make_deployment(sahih_bin, tmp_path / "pg", "postgres-s3")
    try:
        r = dep.run("doctor", "--no-http", "--json")
        assert r.returncode == 0, r.describe()
        found = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
        assert all(c["status"] in ("OK", "WARN", "SKIP") for c in found.values()), found
        clock = [c for name, c in found.items() if "clock" in name]
        assert clock and clock[0]["status"] == "OK", found
        assert "same host" not in json.dumps(clock[0]).lower(), clock[0]
    finally:
        dep.close()
