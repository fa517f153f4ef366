"""Promises of README.md, docs/ECS.md and docs/RA.md that no other test proved, each checked
through the door a user takes: the `sahih` command, or an HTTP route of `sahih serve`. On
SQLite + local directory and on PostgreSQL + S3 (moto), except `/readyz` going down, which needs
a database server that can refuse connections (PostgreSQL).

Each test's docstring quotes the sentence it proves.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import tomllib
import uuid
from pathlib import Path

import pytest

from conftest import PASSPHRASE, REPO, _clean_env, assert_no_panic
from ecs_support import (BACKENDS, b64, ecs_error, http, make_deployment, multipart, pg_admin_url,
                         psql, wait_for)
from validators import Run, run

NIK = "3171012501850003"
MIB = 1024 * 1024
POLICIES = REPO / "policies"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    # A 1 MiB body limit so the 413 test needs only a 2 MiB body; a second server process on
    # the same state, so "at once, on every server" can be checked.
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"promises-{request.param}"),
                        request.param, config_edits={"max_body_mib": 1})
    d.start_server()
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003")
    d.credential = d.add_client("eoffice")
    yield d
    d.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "libreoffice.pdf").read_bytes()


def url(dep, path, server=0):
    return dep.servers[server].url + path


def status_request(dep, credential, server=0):
    """An authenticated read (the official's ECS status) on one server process."""
    return http("GET", url(dep, f"/api/user/status/{NIK}", server), credential=credential)


def sign_v2(dep, pdfs, *, credential=None, nik=NIK, passphrase=PASSPHRASE):
    return http("POST", url(dep, "/api/v2/sign/pdf"), credential=credential or dep.credential,
                json_body={"nik": nik, "passphrase": passphrase, "file": [b64(p) for p in pdfs]})


def client_rows(dep) -> dict[str, list[str]]:
    """`sahih client list`, one row per client: name -> [status, role=.., ip=.., class=.., date]."""
    r = dep.run("client", "list")
    assert r.returncode == 0, r.describe()
    rows = {}
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) >= 4:
            rows[cols[0]] = cols[1:]
    return rows


def curl(dep, path, body: Path, content_type: str, *, credential=None, chunked=False,
         out_name="curl-out") -> tuple[int, bytes]:
    """POSTs a file with curl (it reads an early 413 answer while still sending; urllib would
    report the broken pipe instead). Returns (HTTP status, body)."""
    out = dep.sahih.workdir / out_name
    out.unlink(missing_ok=True)
    cmd = ["curl", "-s", "-o", out, "-w", "%{http_code}", "-u", credential or dep.credential,
           "-H", f"Content-Type: {content_type}", "--data-binary", f"@{body}"]
    if chunked:
        cmd += ["-H", "Transfer-Encoding: chunked"]
    r = run(cmd + [url(dep, path)])
    assert r.returncode == 0, r.describe()
    return int(r.stdout.strip()), out.read_bytes() if out.exists() else b""


def metrics(dep, server=0) -> dict[tuple, float]:
    """The Prometheus text of /metrics as {(name, ((label, value), ...)): value}."""
    r = http("GET", url(dep, "/metrics", server))
    assert r.status == 200, r
    samples = {}
    for line in r.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$', line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def sample(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def log_lines(server) -> list[dict]:
    return [json.loads(l) for l in server.log.read_text(errors="replace").splitlines()
            if l.startswith("{")]


# -- API clients -------------------------------------------------------------------------------

def test_a_disabled_client_is_refused_at_once_on_every_server_and_works_again_when_enabled(dep):
    """README: "`client list`, `client disable NAME`, `client enable NAME` ... API clients
    (HTTP Basic, as ECS)". docs/ECS.md: "`sahih client disable NAME` takes effect at once on
    every server (each request reads the client from the database). A request ... for a
    disabled or unknown client ... gets the same 401"; every failed authentication is audited
    with the reason (disabled)."""
    cred = dep.add_client("arsip-app")
    assert len(dep.servers) == 2
    for server in (0, 1):
        r = status_request(dep, cred, server)
        assert r.status == 200 and r.json()["status"] == "ISSUE", r
    rows = client_rows(dep)
    assert rows["arsip-app"][:3] == ["aktif", "role=app", "ip=*"], rows
    assert rows["eoffice"][0] == "aktif", rows

    r = dep.run("client", "disable", "arsip-app")
    assert r.returncode == 0, r.describe()
    # No waiting: the very next request on either server process is refused.
    wrong_secret = http("GET", url(dep, f"/api/user/status/{NIK}"),
                        credential="arsip-app:" + "x" * 32)
    for server in (0, 1):
        r = status_request(dep, cred, server)
        assert r.status == 401, (server, r.status, r.body)
        assert ecs_error(r)[0] == 4011
        assert r.body == wrong_secret.body, "a disabled client must look like a wrong secret"
    # The other client is untouched.
    assert status_request(dep, dep.credential).status == 200
    rows = client_rows(dep)
    assert rows["arsip-app"][0] == "nonaktif" and rows["eoffice"][0] == "aktif", rows
    entries = [json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()]
    assert any(e["action"] == "client.disable" and "client=arsip-app" in e["detail"] for e in entries)
    refused = [e for e in entries if e["action"] == "client.auth_failed" and e["actor"] == "arsip-app"]
    assert sum("reason=disabled" in e["detail"] for e in refused) == 2, refused

    r = dep.run("client", "enable", "arsip-app")
    assert r.returncode == 0, r.describe()
    for server in (0, 1):
        r = status_request(dep, cred, server)
        assert r.status == 200 and r.json()["status"] == "ISSUE", (server, r.status, r.body)
    assert client_rows(dep)["arsip-app"][0] == "aktif"


def test_a_client_allowed_only_other_addresses_is_refused_from_localhost_until_127_0_0_1_is_allowed(dep):
    """README: "`sahih client add NAME [--allow-ip CIDR]...`". docs/ECS.md: "A request from an
    address outside the client's allow-list ... gets the same 401, so the answer does not reveal
    which part was wrong"; failures are audited with the reason "address not allowed"."""
    elsewhere = dep.add_client("kantor-lain", "--allow-ip", "10.1.2.0/24", "--allow-ip", "192.168.7.9")
    r = status_request(dep, elsewhere)
    assert r.status == 401 and ecs_error(r)[0] == 4011, (r.status, r.body)
    wrong_secret = http("GET", url(dep, f"/api/user/status/{NIK}"),
                        credential="kantor-lain:" + "y" * 32)
    assert wrong_secret.status == 401 and r.body == wrong_secret.body
    rows = client_rows(dep)
    assert rows["kantor-lain"][2] == "ip=10.1.2.0/24,192.168.7.9", rows

    local = dep.add_client("kantor-lokal", "--allow-ip", "10.1.2.0/24", "--allow-ip", "127.0.0.1/32")
    r = status_request(dep, local)
    assert r.status == 200 and r.json()["status"] == "ISSUE", (r.status, r.body)
    entries = [json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()]
    refused = [e for e in entries if e["action"] == "client.auth_failed" and e["actor"] == "kantor-lain"]
    assert any("reason=address_not_allowed" in e["detail"] and "ip=127.0.0.1" in e["detail"]
               for e in refused), refused


# -- policy, audit, CRL --------------------------------------------------------------------------

def _shown_policy(dep) -> dict:
    r = dep.run("policy", "show")
    assert r.returncode == 0, r.describe()
    return tomllib.loads(r.stdout)


def _classes(policy: dict) -> dict:
    return {c["code"]: (c["name"], c["rule"], c["regulation"], list(c.get("positions", [])))
            for c in policy["class"]}


def test_policy_show_prints_the_policy_in_force(dep):
    """README: "`sahih policy load FILE`, `policy show`: the institution's document-class policy
    (TOML) ... Before any policy is loaded, one permissive class `umum` applies." (`policy show
    --help`: "Print the policy in force".)"""
    before = _shown_policy(dep)
    assert before["default_class"] == "umum", before
    assert [(c["code"], c["rule"]) for c in before["class"]] == [("umum", "allowed")], before

    for name in ("kota-larangan-keuangan.toml", "kabupaten-wajib-keuangan-kepegawaian.toml"):
        r = dep.run("policy", "load", POLICIES / name)
        assert r.returncode == 0, r.describe()
        expected = tomllib.loads((POLICIES / name).read_text(encoding="utf-8"))
        shown = _shown_policy(dep)
        assert shown["default_class"] == expected["default_class"], (name, shown)
        assert _classes(shown) == _classes(expected), name
    # What `show` prints is the policy requests are judged by: a class the loaded policy does
    # not name is not there any more.
    assert "umum" not in _classes(shown)


def test_audit_export_from_to_writes_exactly_those_entries_as_json_lines(dep):
    """README: "`audit export [--from N] [--to N] [-o FILE]` ... `export` writes JSON lines"."""
    for i in range(3):
        dep.add_client(f"ekspor-{i}")
    full = [json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()]
    seqs = [e["seq"] for e in full]
    assert seqs == list(range(1, len(full) + 1)) and len(full) >= 8, seqs
    by_seq = {e["seq"]: e for e in full}
    first, last = seqs[2], seqs[-3]

    out = dep.sahih.workdir / "audit-range.jsonl"
    r = dep.run("audit", "export", "--from", first, "--to", last, "-o", out)
    assert r.returncode == 0, r.describe()
    assert '"seq"' not in r.stdout, "with -o the entries go to the file, not to stdout"
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n"), "JSON lines: every entry ends with a newline"
    lines = text.splitlines()
    exported = [json.loads(l) for l in lines]
    assert all(isinstance(e, dict) for e in exported)
    assert [e["seq"] for e in exported] == list(range(first, last + 1))
    assert exported == [by_seq[s] for s in range(first, last + 1)]
    assert exported[0]["prev_hash"] == by_seq[first - 1]["hash"], "the range continues the chain"

    # --from alone runs to the end; --to alone starts at 1.
    tail = dep.sahih.workdir / "audit-tail.jsonl"
    assert dep.run("audit", "export", "--from", last, "-o", tail).returncode == 0
    assert [json.loads(l)["seq"] for l in tail.read_text().splitlines()][:3] == seqs[-3:]
    head = dep.sahih.workdir / "audit-head.jsonl"
    assert dep.run("audit", "export", "--to", 2, "-o", head).returncode == 0
    assert [json.loads(l) for l in head.read_text().splitlines()] == full[:2]


def _crl_text(path: Path) -> str:
    r = run(["openssl", "crl", "-inform", "DER", "-in", path, "-noout", "-text"])
    assert r.returncode == 0, r.describe()
    return r.stdout


def _revoked_serials(text: str) -> set[int]:
    return {int(s, 16) for s in re.findall(r"Serial Number:\s*([0-9A-Fa-f]+)", text)}


def test_crl_writes_a_der_crl_per_ca_that_openssl_parses_and_verifies(dep, tmp_path):
    """README: "`sahih crl [--ca NAME] [-o FILE]` ... print a CA's current CRL" (`crl --help`:
    "root" or "issuing-N", default the active issuing CA; `-o`: "Write DER to this file
    instead of printing PEM"), and "`sahih revoke` ... verification sees it at once"."""
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n")
    passfile.chmod(0o600)
    nik = "3171012501859001"
    r = dep.run("enroll", "--nik", nik, "--nip", "198501252010011901", "--name", "Siti Aminah",
                "--email", "siti@contoh.go.id", "--position", "Kepala Bidang", "--unit",
                "Dinas Komunikasi dan Informatika", "--passphrase-file", passfile)
    assert r.returncode == 0, r.describe()
    m = re.search(r"Nomor seri: ([0-9a-f]+)", r.stdout)
    assert m, r.stdout
    serial = int(m.group(1), 16)
    r = dep.run("revoke", "--nik", nik, "--reason", "keyCompromise")
    assert r.returncode == 0, r.describe()

    # Chain for OpenSSL: the exported root and the issuing CA certificate the server publishes.
    issuing_der = http("GET", url(dep, "/ca/issuing-1.crt"))
    assert issuing_der.status == 200
    issuing = run(["openssl", "x509", "-inform", "DER", "-outform", "PEM"], input=issuing_der.body)
    assert issuing.returncode == 0, issuing.describe()
    chain = tmp_path / "chain.pem"
    chain.write_text(dep.sahih.root_pem.read_text() + issuing.stdout)

    crls = {}
    for name, args in (("default", ()), ("issuing-1", ("--ca", "issuing-1")), ("root", ("--ca", "root"))):
        out = tmp_path / f"{name}.crl"
        r = dep.run("crl", *args, "-o", out)
        assert r.returncode == 0, r.describe()
        assert "BEGIN X509 CRL" not in r.stdout, "with -o the CRL goes to the file"
        der = out.read_bytes()
        assert der[:1] == b"\x30" and b"-----BEGIN" not in der, f"{name}: not DER"
        crls[name] = (out, _crl_text(out))

    for name in ("default", "issuing-1"):
        out, text = crls[name]
        assert re.search(r"Issuer: .*Issuing CA 1", text), text
        assert serial in _revoked_serials(text), (hex(serial), text)
        assert "Key Compromise" in text, text
        v = run(["openssl", "crl", "-inform", "DER", "-in", out, "-CAfile", chain, "-noout", "-verify"])
        assert "verify OK" in v.stdout + v.stderr, v.describe()
    out, text = crls["root"]
    assert re.search(r"Issuer: .*Root CA", text), text
    assert serial not in _revoked_serials(text), "the root CRL lists CA certificates only"
    v = run(["openssl", "crl", "-inform", "DER", "-in", out, "-CAfile", dep.sahih.root_pem,
             "-noout", "-verify"])
    assert "verify OK" in v.stdout + v.stderr, v.describe()
    # The issuing CRL is not signed by the root key.
    v = run(["openssl", "crl", "-inform", "DER", "-in", crls["issuing-1"][0], "-CAfile",
             dep.sahih.root_pem, "-noout", "-verify"])
    assert "verify OK" not in v.stdout + v.stderr, v.describe()

    missing = tmp_path / "none.crl"
    r = dep.run("crl", "--ca", "issuing-9", "-o", missing)
    assert r.returncode != 0 and not missing.exists(), r.describe()


# -- verification without a data directory ------------------------------------------------------

def test_verify_needs_no_data_directory_only_the_trust_anchor(dep, letter, corpus, tmp_path):
    """README: "`sahih verify FILE [--json] [--trust PEM]...`: validates every signature; exit 0
    when all are TOTAL_PASSED (and there is at least one), 1 otherwise, 2 for unreadable input
    ... Works without a data directory too (then only `--trust` anchors count)."""
    r = sign_v2(dep, [letter])
    assert r.status == 200, r.body[:300]
    signed = tmp_path / "ditandatangani.pdf"
    signed.write_bytes(base64.b64decode(r.json()["file"][0]))
    unsigned = tmp_path / "asli.pdf"
    unsigned.write_bytes(letter)
    garbage = tmp_path / "rusak.pdf"
    garbage.write_bytes((corpus / "garbage.pdf").read_bytes())
    root = tmp_path / "root.pem"
    shutil.copyfile(dep.sahih.root_pem, root)
    empty = tmp_path / "kosong"
    empty.mkdir()
    nowhere = tmp_path / "tidak-ada" / "data"

    def verify(*args):
        # Run in the empty directory, and no SAHIH_* variable (database, blob store, data
        # directory) reaches the command.
        cmd = [str(dep.sahih.bin), "verify", *map(str, args)]
        proc = subprocess.run(cmd, cwd=empty, env=_clean_env(), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        res = Run(cmd, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"))
        assert_no_panic(res)
        return res

    # From an empty directory, default --data (./sahih-data, absent), and with --data naming a
    # directory that does not exist.
    for extra in ((), ("--data", nowhere)):
        res = verify(signed, "--trust", root, "--json", *extra)
        assert res.returncode == 0, res.describe()
        report = json.loads(res.stdout)
        assert report["indication"] == "TOTAL_PASSED" and len(report["signatures"]) == 1, report
        sig = report["signatures"][0]
        assert sig["trusted"] and sig["integrity"] and not sig["revoked"], sig
        assert report["ltv_enabled"] is True, "the ECS default level is B-LT"
    assert list(empty.iterdir()) == [], "verify created files in the working directory"
    assert not nowhere.exists() and not nowhere.parent.exists(), "verify created the data directory"

    # Only --trust anchors count: none, or a foreign root, is not enough.
    res = verify(signed, "--json")
    assert res.returncode == 1 and json.loads(res.stdout)["indication"] != "TOTAL_PASSED", res.describe()
    res = verify(signed, "--trust", corpus / "foreign.pem", "--json")
    assert res.returncode == 1, res.describe()
    # No signature at all: exit 1; unreadable input: exit 2.
    res = verify(unsigned, "--trust", root, "--json")
    assert res.returncode == 1, res.describe()
    assert json.loads(res.stdout)["signatures"] == []
    res = verify(garbage, "--trust", root)
    assert res.returncode == 2, res.describe()
    assert list(empty.iterdir()) == []


# -- operations: metrics, request ids, unknown paths, readiness ------------------------------------

def test_metrics_count_requests_by_route_and_status_and_signed_documents(dep, letter):
    """docs/ECS.md (Operations): "`/metrics` (Prometheus: `sahih_http_requests_total{method,route,
    status}`, `sahih_http_request_duration_seconds` histogram by route,
    `sahih_signatures_total{result}`, `sahih_http_in_flight`)"."""
    before = metrics(dep)
    for _ in range(3):
        assert http("GET", url(dep, "/healthz")).status == 200
    r = sign_v2(dep, [letter, letter])
    assert r.status == 200 and len(r.json()["file"]) == 2, r.body[:300]
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={"passphrase": PASSPHRASE, "file": [b64(letter)]})
    assert r.status == 400 and ecs_error(r)[0] == 4014
    after = metrics(dep)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    req = "sahih_http_requests_total"
    assert delta(req, method="GET", route="/healthz", status="200") == 3
    assert delta(req, method="POST", route="/api/v2/sign/pdf", status="200") == 1
    assert delta(req, method="POST", route="/api/v2/sign/pdf", status="400") == 1
    assert delta(req, method="GET", route="/metrics", status="200") == 1, "the first scrape counts"
    assert delta("sahih_http_request_duration_seconds_count", route="/api/v2/sign/pdf") == 2
    assert delta("sahih_http_request_duration_seconds_sum", route="/api/v2/sign/pdf") > 0
    buckets = [(k, v) for k, v in after.items()
               if k[0] == "sahih_http_request_duration_seconds_bucket"
               and ("route", "/api/v2/sign/pdf") in k[1]]
    inf = [v for k, v in buckets if ("le", "+Inf") in k[1]]
    assert inf == [sample(after, "sahih_http_request_duration_seconds_count", route="/api/v2/sign/pdf")], buckets
    assert delta("sahih_signatures_total", result="ok") == 2, "one per signed document"
    assert ("sahih_http_in_flight", ()) in after


def test_request_id_is_echoed_when_sent_and_made_when_absent_and_logged(dep):
    """docs/ECS.md (Operations) and README: "One JSON log line per request on stderr: time,
    request id (taken from `X-Request-Id` when sane, else made; echoed in the response), route,
    status ..."."""
    server = dep.servers[0]
    mine = "promise-" + uuid.uuid4().hex
    r = http("GET", url(dep, "/healthz"), headers={"X-Request-Id": mine})
    assert r.status == 200 and r.headers.get("x-request-id") == mine, r.headers
    # Also on an authenticated API error.
    mine_api = "promise-api-" + uuid.uuid4().hex[:16]
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={},
             headers={"X-Request-Id": mine_api})
    assert r.status == 400 and r.headers.get("x-request-id") == mine_api, r.headers

    made = [http("GET", url(dep, "/healthz")).headers.get("x-request-id") for _ in range(2)]
    assert all(made) and made[0] != made[1], made
    insane = "<script>alert(1)</script>"
    replaced = http("GET", url(dep, "/healthz"), headers={"X-Request-Id": insane}).headers.get("x-request-id")
    assert replaced and replaced != insane and "<" not in replaced, replaced

    def logged():
        by_id = {l.get("request_id"): l for l in log_lines(server)}
        ids = (mine, mine_api, *made, replaced)
        return by_id if all(i in by_id for i in ids) else None

    by_id = wait_for(logged, "the request log lines")
    assert by_id[mine]["route"] == "/healthz" and by_id[mine]["status"] == 200
    assert by_id[mine_api]["route"] == "/api/v2/sign/pdf" and by_id[mine_api]["status"] == 400
    assert by_id[mine_api]["error_code"] == 4014 and by_id[mine_api]["client"] == "eoffice"
    assert insane not in server.log.read_text(errors="replace")


def test_an_unknown_path_is_a_json_404_with_code_4040(dep):
    """docs/ECS.md (Errors): "Every error body is `{"status_code": <HTTP status>, "error_code":
    <code>, "error": "... <code>", "message": "<message>"}`" and the table row "404 | 4040 |
    unknown path"."""
    for method, path, cred in (("GET", "/api/tidak-ada", dep.credential),
                               ("POST", "/api/v2/sign/tidak-ada", dep.credential),
                               ("GET", "/tidak/ada/sama/sekali", None)):
        r = http(method, url(dep, path), credential=cred,
                 json_body={} if method == "POST" else None)
        assert r.status == 404, (path, r.status, r.body)
        assert r.headers.get("content-type", "").startswith("application/json"), r.headers
        code, _ = ecs_error(r)
        assert code == 4040 and r.json()["error_code"] == 4040 and r.json()["message"], r.body


@pytest.fixture(scope="module")
def pg_dep(sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("promises-readyz"), "postgres-s3")
    d.credential = d.add_client("eoffice")
    d.sahih.enroll(nik=NIK, nip="198501252010011003")
    yield d
    psql(pg_admin_url(), f"ALTER DATABASE {d.db_name} ALLOW_CONNECTIONS true")
    d.close()


def test_readyz_is_503_while_the_database_refuses_connections_and_200_again_after(pg_dep):
    """README / docs/ECS.md (Operations): "`/healthz` (process alive), `/readyz` (database
    answers)". PostgreSQL is made to refuse every connection to the deployment's database (its
    sessions terminated, ALLOW_CONNECTIONS false), then restored."""
    d = pg_dep
    server = d.servers[0]
    r = http("GET", server.url + "/readyz")
    assert r.status == 200, r
    admin = pg_admin_url()
    psql(admin, f"ALTER DATABASE {d.db_name} ALLOW_CONNECTIONS false")
    try:
        psql(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{d.db_name}' AND pid <> pg_backend_pid()")
        down = wait_for(lambda: (r := http("GET", server.url + "/readyz", timeout=120)).status == 503 and r,
                        "/readyz to report the database down")
        assert down.status == 503, down
        # Still down on the next asks (not a one-off), while the process itself is alive.
        assert http("GET", server.url + "/readyz", timeout=120).status == 503
        assert http("GET", server.url + "/healthz").status == 200
    finally:
        psql(admin, f"ALTER DATABASE {d.db_name} ALLOW_CONNECTIONS true")
    wait_for(lambda: http("GET", server.url + "/readyz", timeout=120).status == 200,
             "/readyz to report the database back")
    r = http("GET", server.url + f"/api/user/status/{NIK}", credential=d.credential)
    assert r.status == 200 and r.json()["status"] == "ISSUE", r.body
    assert "panicked" not in server.log.read_text(errors="replace")


def test_readyz_is_503_while_the_sqlite_file_is_moved_away_and_200_again_after(sahih_bin, tmp_path_factory):
    """The same promise on the embedded default: open SQLite connections keep answering
    `SELECT 1` after their database file is moved away, so readiness also checks that the file
    is still the one the server opened."""
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("readyz-sqlite"), "sqlite")
    try:
        server = d.servers[0]
        assert http("GET", server.url + "/readyz").status == 200
        db = d.sahih.data / "sahih.db"
        aside = d.sahih.data / "sahih.db.moved"
        db.rename(aside)
        try:
            assert http("GET", server.url + "/readyz").status == 503
            assert http("GET", server.url + "/healthz").status == 200
        finally:
            aside.rename(db)
        assert http("GET", server.url + "/readyz").status == 200
    finally:
        d.close()


# -- bad input -----------------------------------------------------------------------------------

def test_an_encrypted_pdf_is_refused_with_4031_before_any_passphrase_attempt(dep, corpus, letter, tmp_path):
    """docs/ECS.md: "Encrypted PDFs ... are refused with a clear message", and the Errors table:
    "400 | 4031 | the file is not a readable PDF (empty, garbage, truncated, encrypted): checked
    before any passphrase attempt"; "Internal failures never reach the client"."""
    official = dep.sahih.enroll(passphrase="Passphrase-Enkripsi-2026")
    src = corpus / "libreoffice.pdf"
    encrypted = []
    for user_password in ("user", ""):  # one that needs a password to open, one that does not
        out = tmp_path / f"enc-{user_password or 'empty'}.pdf"
        q = run(["qpdf", "--encrypt", user_password, "owner", "256", "--", src, out])
        assert q.returncode == 0, q.describe()
        assert b"/Encrypt" in out.read_bytes()
        encrypted.append(out.read_bytes())

    for pdf in encrypted:
        # With the right passphrase: 4031 with a message that says why.
        r = sign_v2(dep, [pdf], nik=official.nik, passphrase="Passphrase-Enkripsi-2026")
        assert r.status == 400, (r.status, r.body[:300])
        code, text = ecs_error(r)
        assert code == 4031 and "terenkripsi" in text, text
        # With a wrong one, six times: never a passphrase check (2031) or a lockout (2032).
        for _ in range(6):
            r = sign_v2(dep, [pdf], nik=official.nik, passphrase="Passphrase-Salah-2026")
            assert r.status == 400 and ecs_error(r)[0] == 4031, r.body[:300]
        # v1 multipart: the same answer.
        body, ctype = multipart({"nik": official.nik, "passphrase": "Passphrase-Salah-2026",
                                 "tampilan": "invisible"},
                                {"file": ("rahasia.pdf", pdf, "application/pdf")})
        r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body,
                 content_type=ctype)
        assert r.status == 400 and ecs_error(r)[0] == 4031, r.body[:300]
        # An encrypted file among good ones: the whole request is refused, nothing signed.
        r = sign_v2(dep, [letter, pdf], nik=official.nik, passphrase="Passphrase-Enkripsi-2026")
        assert r.status == 400 and ecs_error(r)[0] == 4031, r.body[:300]
    # No attempt was counted: the right passphrase still signs.
    r = sign_v2(dep, [letter], nik=official.nik, passphrase="Passphrase-Enkripsi-2026")
    assert r.status == 200, r.body[:300]
    for server in dep.servers:
        lines = log_lines(server)
        assert not [l for l in lines if l["status"] >= 500], [l for l in lines if l["status"] >= 500]


def test_the_body_limit_applies_to_verify_routes_too(dep, letter, tmp_path):
    """docs/ECS.md (Errors): "413 | 4131 | body over `max_body_mib` (default 128 MiB)": the
    limit (1 MiB in this deployment) holds on every route, not only the two ECS sign routes:
    here the v2, v1 and native verify routes, with and without a Content-Length."""
    r = sign_v2(dep, [letter])
    assert r.status == 200
    signed_b64 = r.json()["file"][0]
    signed = base64.b64decode(signed_b64)

    big_json = tmp_path / "big.json"
    big_json.write_text(json.dumps({"file": "A" * (2 * MIB)}))
    big_pdf = tmp_path / "big.pdf"
    big_pdf.write_bytes(b"%PDF-1.7\n" + b"0" * (2 * MIB))
    mp_body, mp_type = multipart({}, {"signed_file": ("besar.pdf", big_pdf.read_bytes(), "application/pdf")})
    big_mp = tmp_path / "big.multipart"
    big_mp.write_bytes(mp_body)
    cases = [("/api/v2/verify/pdf", big_json, "application/json"),
             ("/api/v1/verify", big_pdf, "application/pdf"),
             ("/api/sign/verify", big_mp, mp_type)]
    for path, body, ctype in cases:
        for chunked in (False, True):
            status, answer = curl(dep, path, body, ctype, chunked=chunked)
            assert status == 413, (path, chunked, status, answer[:300])
            j = json.loads(answer)
            assert j["status_code"] == 413 and j["error_code"] == 4131 and j["error"].endswith("4131"), j

    # The same routes answer small bodies: it is the size that was refused.
    small_json = tmp_path / "small.json"
    small_json.write_text(json.dumps({"file": signed_b64}))
    small_pdf = tmp_path / "small.pdf"
    small_pdf.write_bytes(signed)
    mp_body, mp_type = multipart({}, {"signed_file": ("ttd.pdf", signed, "application/pdf")})
    small_mp = tmp_path / "small.multipart"
    small_mp.write_bytes(mp_body)
    status, answer = curl(dep, "/api/v2/verify/pdf", small_json, "application/json")
    assert status == 200 and json.loads(answer)["conclusion"] == "VALID", answer[:300]
    status, answer = curl(dep, "/api/v1/verify", small_pdf, "application/pdf")
    assert status == 200 and json.loads(answer)["indication"] == "TOTAL_PASSED", answer[:300]
    status, answer = curl(dep, "/api/sign/verify", small_mp, mp_type)
    assert status == 200 and json.loads(answer)["summary"] == "VALID", answer[:300]
    assert http("GET", url(dep, "/healthz")).status == 200


def test_a_multipart_route_sent_something_else_answers_an_ecs_error(dep):
    """docs/ECS.md: "Every error body is `{status_code, error_code, error, message}`". The
    multipart routes answered axum's plain text ("Invalid `boundary` ...") to a JSON body."""
    for path in ("/api/sign/pdf", "/api/sign/verify", "/api/v1/documents", "/api/v1/verify"):
        r = http("POST", url(dep, path), credential=dep.credential, json_body={})
        assert r.status == 400 and r.headers["content-type"].startswith("application/json"), \
            (path, r.status, r.headers.get("content-type"), r.body[:200])
        # 4015 (not multipart), or 4031 where the route also takes a bare PDF body.
        assert ecs_error(r)[0] in (4015, 4031), r.body
