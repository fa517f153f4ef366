"""Several `sahih serve` processes on one PostgreSQL database and one S3 bucket (issue 4): no
state lives in one process's memory. Lockout, download-once and the audit chain hold across
processes; a server killed with SIGKILL in the middle of a bulk request leaves nothing half-done.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ecs_support import b64, ecs_error, http, make_deployment, multipart
from validators import pyhanko_validate

NIK = "3171012501850003"
PASS = "Rahasia-Negara-2026!"


def wait_in_flight(server, timeout=60):
    """Waits until the server is working on a request besides this /metrics one."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = http("GET", server.url + "/metrics")
        m = re.search(r"(?m)^sahih_http_in_flight (\d+)$", r.body.decode())
        if m and int(m.group(1)) >= 2:
            return
        time.sleep(0.05)
    raise AssertionError("the bulk request never reached the server")


@pytest.fixture(scope="module")
def cluster(sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("cluster"), "postgres-s3")
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003")
    d.credential = d.add_client("eoffice")
    d.start_server()  # a second process on the same database and bucket
    assert len(d.servers) == 2
    yield d
    d.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "reportlab.pdf").read_bytes()


def test_lockout_holds_across_two_servers(cluster, letter):
    official = cluster.sahih.enroll(passphrase="Passphrase-Benar-2026")
    codes = []
    for i in range(5):
        server = cluster.servers[i % 2]
        r = http("POST", server.url + "/api/v2/sign/pdf", credential=cluster.credential,
                 json_body={"nik": official.nik, "passphrase": "salah-sekali", "file": [b64(letter)]})
        codes.append(ecs_error(r)[0])
    assert codes == [2031, 2031, 2031, 2031, 2032], codes
    for server in cluster.servers:
        r = http("POST", server.url + "/api/v2/sign/pdf", credential=cluster.credential,
                 json_body={"nik": official.nik, "passphrase": "Passphrase-Benar-2026", "file": [b64(letter)]})
        assert ecs_error(r)[0] == 2032, r.body


def test_download_once_used_concurrently_through_both(cluster, letter):
    body, ctype = multipart({"nik": NIK, "passphrase": PASS, "tampilan": "invisible"},
                            {"file": ("a.pdf", letter, "application/pdf")})
    r = http("POST", cluster.servers[0].url + "/api/sign/pdf", credential=cluster.credential,
             data=body, content_type=ctype)
    assert r.status == 200, r.body[:300]
    doc_id = r.headers["id_dokumen"]
    barrier = threading.Barrier(16)

    def take(i):
        barrier.wait()
        server = cluster.servers[i % 2]
        return http("GET", f"{server.url}/api/sign/download/{doc_id}", credential=cluster.credential)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(take, range(16)))
    ok = [x for x in results if x.status == 200]
    assert len(ok) == 1, [x.status for x in results]
    assert ok[0].body == r.body
    assert all(x.status == 404 for x in results if x.status != 200)


def test_audit_chain_valid_under_concurrent_signing_from_both(cluster, letter):
    def sign(i):
        server = cluster.servers[i % 2]
        return http("POST", server.url + "/api/v2/sign/pdf", credential=cluster.credential,
                    json_body={"nik": NIK, "passphrase": PASS, "file": [b64(letter)] * 3})

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(sign, range(16)))
    assert all(r.status == 200 for r in results), [r.status for r in results]
    r = cluster.run("audit", "verify")
    assert r.returncode == 0, r.describe()
    entries = [json.loads(l) for l in cluster.run("audit", "export").stdout.splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert sum(1 for e in entries if e["action"] == "sign") >= 16 * 3


def test_sigkill_during_bulk_leaves_nothing_half_done(cluster, letter):
    """A SIGKILL mid-request leaves no record of the batch. The kill lands twice where it
    matters: while the documents are being signed, and inside the recording transaction (the
    server is told, for this test only, to pause there and say so). Either way nothing of the
    batch remains, and the test fails if the request had already finished."""
    n = 1500
    before = int(cluster.sql("SELECT count(*) FROM signed_documents"))
    audit_before = int(cluster.sql("SELECT count(*) FROM audit_log"))

    def bulk(server, result):
        try:
            result["r"] = http("POST", server.url + "/api/v2/sign/pdf", credential=cluster.credential,
                               json_body={"nik": NIK, "passphrase": PASS, "file": [b64(letter)] * n},
                               timeout=120)
        except OSError as e:  # the connection dies with the server: expected
            result["error"] = e

    # 1. Killed while signing: the request is in flight and has not answered.
    server = cluster.servers[1]
    result = {}
    t = threading.Thread(target=bulk, args=(server, result))
    t.start()
    wait_in_flight(server)
    server.kill()
    t.join(timeout=120)
    assert "r" not in result or result["r"].status != 200, "the request finished before the kill"
    assert int(cluster.sql("SELECT count(*) FROM signed_documents")) == before
    cluster.servers.remove(server)

    # 2. Killed inside the transaction that records the batch: every record and audit entry
    # written, none committed.
    pause = cluster.sahih.workdir / "paused-before-commit"
    cluster.env["SAHIH_TEST_PAUSE_BEFORE_COMMIT"] = str(pause)
    try:
        server = cluster.start_server()
    finally:
        del cluster.env["SAHIH_TEST_PAUSE_BEFORE_COMMIT"]
    result = {}
    t = threading.Thread(target=bulk, args=(server, result))
    t.start()
    deadline = time.time() + 120
    while not pause.exists() and time.time() < deadline and t.is_alive():
        time.sleep(0.05)
    assert pause.exists(), f"the server never reached the recording transaction: {result}"
    server.kill()
    t.join(timeout=120)
    assert "r" not in result or result["r"].status != 200, "the request finished before the kill"
    cluster.servers.remove(server)
    after = int(cluster.sql("SELECT count(*) FROM signed_documents"))
    assert after == before, f"a killed transaction left {after - before} signed-document records"
    assert int(cluster.sql("SELECT count(*) FROM audit_log")) == audit_before

    # The audit chain still verifies, and the request can be retried on a restarted server.
    assert cluster.run("audit", "verify").returncode == 0
    restarted = cluster.start_server()
    r = http("POST", restarted.url + "/api/v2/sign/pdf", credential=cluster.credential,
             json_body={"nik": NIK, "passphrase": PASS, "file": [b64(letter)] * 5})
    assert r.status == 200 and len(r.json()["file"]) == 5
    signed = base64.b64decode(r.json()["file"][4])
    path = cluster.sahih.workdir / "after-restart.pdf"
    path.write_bytes(signed)
    ph = pyhanko_validate(path, cluster.sahih.root_pem)
    assert ph.signatures[0].intact and ph.signatures[0].trusted, ph.run.describe()
    assert cluster.run("audit", "verify").returncode == 0
    assert int(cluster.sql("SELECT count(*) FROM signed_documents")) == after + 5


def test_sigterm_finishes_the_bulk_request_in_flight(cluster, letter):
    server = cluster.servers[-1]
    n = 600
    result = {}

    def bulk():
        try:
            result["r"] = http("POST", server.url + "/api/v2/sign/pdf", credential=cluster.credential,
                               json_body={"nik": NIK, "passphrase": PASS, "file": [b64(letter)] * n},
                               timeout=300)
        except OSError as e:
            result["error"] = e

    t = threading.Thread(target=bulk)
    t.start()
    wait_in_flight(server)
    server.proc.terminate()  # SIGTERM: graceful shutdown
    t.join(timeout=300)
    server.proc.wait(timeout=60)
    cluster.servers.remove(server)
    assert "error" not in result, f"the request in flight was cut off: {result.get('error')}"
    r = result["r"]
    assert r.status == 200 and len(r.json()["file"]) == n, r.body[:300]
    assert cluster.run("audit", "verify").returncode == 0
