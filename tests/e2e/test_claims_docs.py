"""Promises of README.md, docs/ECS.md and docs/RA.md that no other test proved (the inventory in
docs/CLAIMS.md), each checked through the door a user takes: a `sahih` command or an HTTP route
of `sahih serve`. SQLite + local directory: none of these promises is about the storage backend.

Each test's docstring quotes the sentences it proves. Tests that change the deployment for
everyone after them (a loaded policy, a rotated CA) come last in the file.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from conftest import PASSPHRASE, REPO, assert_no_panic
from ecs_support import b64, ecs_error, http, make_deployment, multipart
from validators import run

NIK = "3171012501850003"
UNIT = "Dinas Komunikasi dan Informatika"
POLICIES = REPO / "policies"


@pytest.fixture(scope="module")
def dep(sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("claims-docs"), "sqlite")
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003")
    d.credential = d.add_client("eoffice")
    yield d
    d.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "libreoffice.pdf").read_bytes()


def url(dep, path, server=0):
    return dep.servers[server].url + path


def v1_sign(dep, pdf: bytes, fields: dict, files: dict | None = None, credential=None):
    body, ctype = multipart({"nik": NIK, "passphrase": PASSPHRASE, **fields},
                            {"file": ("surat.pdf", pdf, "application/pdf"), **(files or {})})
    return http("POST", url(dep, "/api/sign/pdf"), credential=credential or dep.credential,
                data=body, content_type=ctype)


def v2_sign(dep, pdfs, *, nik=NIK, passphrase=PASSPHRASE, credential=None, **extra):
    return http("POST", url(dep, "/api/v2/sign/pdf"), credential=credential or dep.credential,
                json_body={"nik": nik, "passphrase": passphrase, "file": [b64(p) for p in pdfs],
                           **extra})


def audit(dep) -> list[dict]:
    r = dep.run("audit", "export")
    assert r.returncode == 0, r.describe()
    return [json.loads(line) for line in r.stdout.splitlines()]


def get_der(u: str) -> bytes:
    with urllib.request.urlopen(u, timeout=10) as resp:
        return resp.read()


def load_cert(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def official_cert(dep, nik: str) -> x509.Certificate:
    h = dep.sql("SELECT hex(c.cert_der) FROM certificates c JOIN officials o ON o.id = c.official_id "
                f"WHERE o.nik = '{nik}' ORDER BY c.id DESC LIMIT 1")
    return x509.load_der_x509_certificate(bytes.fromhex(h))


def ocsp_query(dep, cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPResponse:
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    r = http("POST", url(dep, "/ocsp"), data=req.public_bytes(serialization.Encoding.DER),
             content_type="application/ocsp-request")
    assert r.status == 200, r
    return ocsp.load_der_ocsp_response(r.body)


def widget(pdf_path: Path) -> tuple[int, list[float]]:
    """(page number, /Rect) of the last signature widget."""
    from pypdf import PdfReader
    found = None
    for number, page in enumerate(PdfReader(str(pdf_path)).pages, start=1):
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/FT") == "/Sig" or (a.get("/Parent") and a["/Parent"].get("/FT") == "/Sig"):
                found = (number, [float(v) for v in a["/Rect"]])
    assert found, f"{pdf_path}: no signature widget"
    return found


def lasts_years(cert: x509.Certificate, years: int) -> bool:
    """Valid `years` years: 365 days a year, give or take the leap days and a few minutes."""
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / 86400
    return 365 * years - 1 <= days <= 366 * years + 1


# -- init, the CA hierarchy and the trust services ---------------------------------------------

def test_init_makes_the_documented_data_directory_and_ca_hierarchy(dep):
    """README: "`sahih init` ... creates the data directory: `config.toml`, `sahih.db`
    (SQLite), `master.key` (mode 0600), and a built-in CA hierarchy (root CA, 20 years;
    issuing CA, 10 years; RSA-3072 by default)"; "`sahih ca export -o FILE`: the root
    certificate (PEM)"; "`sahih serve`: ... CA certificates at `/ca/{name}.crt`"; and the
    defaults the docs name: `[server] audit_anchor_secs`, `audit_anchor_grace_secs` (5 + 10
    minutes), `header_timeout_secs` (30), `body_timeout_secs` (600), `max_body_mib` (128),
    `[ra] max_evidence_mib` (10 MiB), `max_failures` 5, `lock_minutes` 15, `ecs_level` B-LT."""
    data = dep.sahih.data
    for name in ("config.toml", "sahih.db", "master.key"):
        assert (data / name).is_file(), sorted(p.name for p in data.iterdir())
    assert stat.S_IMODE(os.stat(data / "master.key").st_mode) == 0o600
    root_pem = dep.sahih.root_pem.read_bytes()
    assert root_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    root = load_cert(root_pem)
    served_root = load_cert(get_der(url(dep, "/ca/root.crt")))
    assert served_root == root, "/ca/root.crt is not the exported root"
    issuing = load_cert(get_der(url(dep, "/ca/issuing-1.crt")))
    assert issuing.issuer == root.subject
    for cert, years in ((root, 20), (issuing, 10)):
        assert lasts_years(cert, years), (years, cert.not_valid_before_utc, cert.not_valid_after_utc)
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072, cert.subject
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert bc.ca is True
    import tomllib
    cfg = tomllib.loads((data / "config.toml").read_text())
    server = cfg["server"]
    assert (server["audit_anchor_secs"], server["audit_anchor_grace_secs"]) == (300, 600), server
    assert (server["header_timeout_secs"], server["body_timeout_secs"]) == (30, 600), server
    assert server["max_body_mib"] == 128 and server["ecs_level"] == "B-LT", server
    assert cfg["ra"]["max_evidence_mib"] == 10, cfg["ra"]
    assert (cfg["signing"]["max_failures"], cfg["signing"]["lock_minutes"]) == (5, 15), cfg["signing"]


def test_tsa_and_ocsp_responder_certificates_have_the_documented_profile(dep, tmp_path):
    """README (Trust services): "a TSA certificate (P-256, issued by the root, 12 years,
    critical EKU timeStamping) and a delegated OCSP responder per CA (EKU OCSPSigning,
    id-pkix-ocsp-nocheck)"."""
    data = tmp_path / "d.txt"
    data.write_text("Nota Dinas 800/1\n")
    q, reply, token = tmp_path / "q.tsq", tmp_path / "r.tsr", tmp_path / "t.der"
    assert run(["openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", q]).returncode == 0
    r = http("POST", url(dep, "/tsa"), data=q.read_bytes(), content_type="application/timestamp-query")
    assert r.status == 200, r
    reply.write_bytes(r.body)
    assert run(["openssl", "ts", "-reply", "-in", reply, "-token_out", "-out", token]).returncode == 0
    certs = run(["openssl", "pkcs7", "-inform", "DER", "-in", token, "-print_certs"]).stdout
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", certs, re.S)
    root = load_cert(dep.sahih.root_pem.read_bytes())
    def ekus(c):
        try:
            return list(c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        except x509.ExtensionNotFound:
            return []
    tsa = [c for c in (load_cert(p.encode()) for p in pems) if ExtendedKeyUsageOID.TIME_STAMPING in ekus(c)]
    assert len(tsa) == 1, certs
    tsa = tsa[0]
    key = tsa.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert tsa.issuer == root.subject, tsa.issuer
    assert lasts_years(tsa, 12), (tsa.not_valid_before_utc, tsa.not_valid_after_utc)
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]

    issuing = load_cert(get_der(url(dep, "/ca/issuing-1.crt")))
    resp = ocsp_query(dep, official_cert(dep, NIK), issuing)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD
    responders = resp.certificates
    assert len(responders) == 1, responders
    responder = responders[0]
    assert responder.issuer == issuing.subject, "the responder is delegated by the issuing CA"
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.OCSP_SIGNING in eku
    responder.extensions.get_extension_for_oid(ExtensionOID.OCSP_NO_CHECK)


def test_served_crls_are_der_signed_by_their_ca(dep):
    """README: "`sahih serve`: ... the trust services (... CRLs at `/crl/{root,issuing-N}.crl`,
    CA certificates at `/ca/{name}.crt`), `/healthz`"."""
    root = load_cert(dep.sahih.root_pem.read_bytes())
    issuing = load_cert(get_der(url(dep, "/ca/issuing-1.crt")))
    for name, ca in (("root", root), ("issuing-1", issuing)):
        crl = x509.load_der_x509_crl(get_der(url(dep, f"/crl/{name}.crl")))
        assert crl.issuer == ca.subject, name
        assert crl.is_signature_valid(ca.public_key()), name
    with urllib.request.urlopen(url(dep, "/healthz"), timeout=10) as resp:
        assert resp.status == 200 and resp.read() == b"ok"


def test_the_server_knows_certificates_it_has_not_seen_yet_at_once(dep):
    """README: "The server picks up revocations made by other processes within 2 seconds, and at
    once for certificates it has not seen yet." An official enrolled and revoked by the command
    line while the server runs is answered revoked by its OCSP responder straight away."""
    issuing = load_cert(get_der(url(dep, "/ca/issuing-1.crt")))
    fresh = dep.sahih.enroll(passphrase="Passphrase-Baru-Sekali-2026")
    resp = ocsp_query(dep, official_cert(dep, fresh.nik), issuing)
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD, "a new certificate is known at once"
    gone = dep.sahih.enroll(passphrase="Passphrase-Dicabut-Segera-2026")
    cert = official_cert(dep, gone.nik)
    assert dep.run("revoke", "--nik", gone.nik, "--reason", "keyCompromise").returncode == 0
    resp = ocsp_query(dep, cert, issuing)
    assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED, resp.certificate_status


def _tsa_serial(reply: bytes, tmp: Path) -> int:
    p = tmp / "s.tsr"
    p.write_bytes(reply)
    text = run(["openssl", "ts", "-reply", "-in", p, "-text"]).stdout
    m = re.search(r"Serial number:\s*(0x[0-9A-Fa-f]+|\d+)", text)
    assert m, text
    return int(m.group(1), 0)


def test_tsa_serials_never_repeat_across_processes(dep, tmp_path):
    """README: "TSA serial numbers come from a block number each process reserves in the
    database when it starts (2^32 serials per block), so several processes never repeat one."
    Two server processes on one database answer timestamps; no serial repeats and each process
    draws from its own block."""
    second = dep.start_server()
    try:
        data = tmp_path / "d.txt"
        data.write_text("x\n")
        q = tmp_path / "q.tsq"
        assert run(["openssl", "ts", "-query", "-data", data, "-sha256", "-out", q]).returncode == 0
        by_server = {0: [], 1: []}
        for i in range(10):
            for s in (0, 1):
                srv = dep.servers[0] if s == 0 else second
                r = http("POST", srv.url + "/tsa", data=q.read_bytes(),
                         content_type="application/timestamp-query")
                assert r.status == 200, r
                by_server[s].append(_tsa_serial(r.body, tmp_path))
    finally:
        second.stop()
        dep.servers.remove(second)
    every = by_server[0] + by_server[1]
    assert len(set(every)) == len(every), by_server
    blocks = [{n >> 32 for n in serials} for serials in by_server.values()]
    assert all(len(b) == 1 for b in blocks) and blocks[0] != blocks[1], blocks


# -- API clients -------------------------------------------------------------------------------

def test_no_default_credential_and_only_the_sha256_of_a_160_bit_secret_is_stored(dep):
    """docs/ECS.md: "`sahih client add NAME ...` prints the credential as `NAME:SECRET` on its
    last line, once; only the SHA-256 of the 160-bit secret is stored ... There is no factory
    default credential." README: "`--role admin` (or `--admin`)"."""
    names = {line.split("\t")[0] for line in dep.run("client", "list").stdout.splitlines()}
    assert names == {"eoffice"}, f"clients the deployment did not add: {names}"
    for guess in ("admin:admin", "sahih:sahih", "demo:demo", "admin:password"):
        r = http("GET", url(dep, f"/api/user/status/{NIK}"), credential=guess)
        assert r.status == 401, guess
    r = dep.run("client", "add", "pemeriksa", "--admin")
    assert r.returncode == 0, r.describe()
    name, secret = r.stdout.strip().splitlines()[-1].split(":", 1)
    assert name == "pemeriksa"
    # 160 bits: 32 base32 characters (or 40 hex, 27 base64url).
    alphabet_bits = {32: 5, 40: 4, 27: 6}
    assert len(secret) in alphabet_bits and len(secret) * alphabet_bits[len(secret)] >= 160, secret
    stored = dep.sql("SELECT secret_sha256, role FROM api_clients WHERE name = 'pemeriksa'")
    digest, role = stored.split("|")
    assert digest.lower() == hashlib.sha256(secret.encode()).hexdigest(), stored
    assert role == "admin", "`--admin` is `--role admin`"
    with open(dep.sahih.data / "sahih.db", "rb") as f:
        assert secret.encode() not in f.read(), "the secret itself is in the database"
    assert secret not in dep.run("client", "list").stdout
    assert http("GET", url(dep, "/api/v1/clients"), credential=f"{name}:{secret}").status == 200


def test_browsers_and_cross_site_requests(dep):
    """docs/ECS.md: "The 401 carries `WWW-Authenticate: Basic` only for clients that are not
    browsers (no `Sec-Fetch-Mode`, no `Mozilla/` User-Agent)"; "every state-changing `/api`
    request that a browser marks as coming from another site (`Sec-Fetch-Site: cross-site` or
    `same-site`), or whose `Origin` is neither the configured base URL nor the request's own
    host, is refused with 403 (code 4033) before any credential is checked. Machine clients send
    neither header and are not affected."""
    status_url = url(dep, "/api/v2/user/check/status")
    r = http("POST", status_url, json_body={"nik": NIK},
             headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"})
    assert r.status == 401 and "www-authenticate" not in r.headers, r.headers
    r = http("POST", status_url, json_body={"nik": NIK}, headers={"User-Agent": "python-requests/2.31"})
    assert r.status == 401 and r.headers.get("www-authenticate", "").startswith("Basic"), r.headers
    # Refused before the credential is checked: a wrong one gets 403, not 401.
    wrong = dep.credential.split(":")[0] + ":salah"
    for headers in ({"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://sahih.contoh.go.id.evil.example"}):
        for cred in (wrong, dep.credential):
            r = http("POST", status_url, credential=cred, json_body={"nik": NIK}, headers=headers)
            assert r.status == 403 and ecs_error(r)[0] == 4033, (headers, r.status, r.body[:200])
    # The configured base URL, the request's own host, and same-origin browsers pass.
    base = dep.sahih.base_url
    port = base.rsplit(":", 1)[1]
    for target, headers in ((status_url, {"Origin": base}),
                            (f"http://localhost:{port}/api/v2/user/check/status",
                             {"Origin": f"http://localhost:{port}"}),
                            (status_url, {"Sec-Fetch-Site": "same-origin"})):
        r = http("POST", target, credential=dep.credential, json_body={"nik": NIK}, headers=headers)
        assert r.status == 200, (target, headers, r.status, r.body[:200])


def test_throttling_is_shared_by_servers_on_one_database(dep):
    """docs/ECS.md: "After 10 failures within 5 minutes an address ... is refused with 429 (code
    4291, `Retry-After`) without any check, even with a right credential, until its window
    ends ... The failures are counted in the database (`auth_failures`), so every server sharing
    it sees them." Two extra processes on the same database: failures seen by one throttle the
    other too. The address is 127.0.0.7, which no other test uses."""
    a, b = dep.start_server(), dep.start_server()
    try:
        target = "/api/v2/user/check/status"
        src = ("127.0.0.7", 0)
        for i in range(10):
            r = http("POST", a.url + target, credential=f"penebak-{i}:x", json_body={"nik": NIK},
                     source_address=src)
            assert r.status == 401, r
        for server in (a, b):
            r = http("POST", server.url + target, credential=dep.credential,
                     json_body={"nik": NIK}, source_address=src)
            assert r.status == 429 and ecs_error(r)[0] == 4291, (r.status, r.body[:200])
            assert 0 < int(r.headers["retry-after"]) <= 300
        # Another address is not affected.
        r = http("POST", b.url + target, credential=dep.credential, json_body={"nik": NIK},
                 source_address=("127.0.0.8", 0))
        assert r.status == 200, (r.status, r.body[:200])
    finally:
        for s in (a, b):
            s.stop()
            dep.servers.remove(s)
    throttled = [e for e in audit(dep) if e["action"] == "client.auth_throttled"
                 and "ip=127.0.0.7 " in e["detail"] + " "]
    assert len(throttled) == 1, throttled


def test_a_client_name_is_throttled_across_addresses(dep):
    """docs/ECS.md: "A client name is refused the same way after 30 failures within 5 minutes
    from any addresses". Wrong secrets for one client from four addresses (8 each, under the
    per-address limit of 10): after 30 the client is refused even with its right secret and
    from a fresh address; the addresses themselves are not cut off for other clients."""
    secret = dep.add_client("tebakan-nama").split(":", 1)[1]
    target = dep.servers[0].url + "/api/v2/user/check/status"
    sent = 0
    for host in ("127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"):
        for _ in range(8):
            if sent == 30:
                break
            r = http("POST", target, credential="tebakan-nama:salah", json_body={"nik": NIK},
                     source_address=(host, 0))
            assert r.status == 401, (host, r.status)
            sent += 1
    r = http("POST", target, credential=f"tebakan-nama:{secret}", json_body={"nik": NIK},
             source_address=("127.0.0.25", 0))
    assert r.status == 429 and ecs_error(r)[0] == 4291, (r.status, r.body[:200])
    assert int(r.headers["retry-after"]) > 0
    # The other client's credential still works from those addresses.
    r = http("POST", target, credential=dep.credential, json_body={"nik": NIK},
             source_address=("127.0.0.21", 0))
    assert r.status == 200, (r.status, r.body[:200])
    entries = [e for e in audit(dep) if e["action"] == "client.auth_throttled"
               and "client=tebakan-nama" in e["detail"]]
    assert len(entries) == 1, entries


def test_request_log_lines_hold_the_documented_fields_and_never_secrets(dep):
    """docs/ECS.md (Operations): "One JSON log line per request on stderr: time, request id ...,
    route, status, milliseconds, client, the TCP peer address ..., error code ... Never bodies,
    credentials or query strings." README: "One JSON log line per request with a request id"."""
    server = dep.servers[0]
    before = len(server.log.read_text(errors="replace").splitlines())
    secret = dep.credential.split(":", 1)[1]
    r = http("GET", url(dep, f"/api/user/status/{NIK}?token=RAHASIA-KUERI-77"), credential=dep.credential)
    assert r.status == 200
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={"nik": NIK, "passphrase": "Isi-Badan-Rahasia-88", "file": ["%%%"]})
    assert r.status == 400
    time.sleep(0.3)
    new = server.log.read_text(errors="replace").splitlines()[before:]
    text = "\n".join(new)
    for needle in ("RAHASIA-KUERI-77", "Isi-Badan-Rahasia-88", secret, "token="):
        assert needle not in text, needle
    lines = [json.loads(line) for line in new if line.startswith("{")]
    assert len(lines) >= 2, new
    for line in lines[-2:]:
        keys = set(line)
        assert {"status", "client", "peer"} <= keys, line
        assert any("request" in k and "id" in k for k in keys), line
        assert any(k in keys for k in ("ms", "millis", "duration_ms", "elapsed_ms")), line
        assert any(k in keys for k in ("time", "ts", "timestamp", "at")), line
        assert "route" in keys or "path" in keys, line
        assert line["client"] == "eoffice" and line["peer"] == "127.0.0.1", line
    errors = [line for line in lines if line.get("status") == 400]
    assert errors and any(4015 in (v for v in line.values() if isinstance(v, int)) for line in errors), errors


# -- the command line --------------------------------------------------------------------------

def test_passphrases_never_come_from_a_command_line_argument(dep, letter, tmp_path):
    """README: "Passphrases come from `--passphrase-file F`, the `SAHIH_PASSPHRASE` environment
    variable, or an interactive prompt: never from a command-line argument." Without a
    terminal, file or variable, nothing is signed."""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    for flag in ("--passphrase", "--pass", "-p"):
        out = tmp_path / f"x{flag}.pdf"
        r = dep.run("sign", src, "-o", out, "--nik", NIK, "--level", "B-B", flag, PASSPHRASE)
        assert_no_panic(r)
        assert r.returncode != 0 and not out.exists(), r.describe()
    out = tmp_path / "tanpa.pdf"
    r = dep.run("sign", src, "-o", out, "--nik", NIK, "--level", "B-B")
    assert r.returncode != 0 and not out.exists(), r.describe()
    r = dep.sahih.run("sign", src, "-o", out, "--nik", NIK, "--level", "B-B", "--data", dep.sahih.data,
                      env={"SAHIH_PASSPHRASE": PASSPHRASE})
    assert r.returncode == 0 and out.exists(), r.describe()


def test_enroll_seals_the_key_with_the_documented_argon2id_cost(dep):
    """README: "`sahih enroll` ... The key is generated here and sealed under the official's
    passphrase (Argon2id m=19 MiB t=2 p=1 -> AES-256-GCM); the passphrase is stored nowhere."
    Read from what `enroll` stored (the library default has its own unit test)."""
    sealed = dep.sql("SELECT c.sealed_key FROM certificates c JOIN officials o ON o.id = c.official_id "
                     f"WHERE o.nik = '{NIK}'")
    assert sealed.startswith("sahih-sealed-v1$argon2id$m=19456,t=2,p=1$"), sealed[:60]
    assert PASSPHRASE not in sealed


def test_environment_variables_stand_for_data_and_lang(dep, letter, tmp_path):
    """README: "Every command takes `--data DIR` (or `SAHIH_DATA` ...), `--lang id|en` (or
    `SAHIH_LANG`; messages and reports are in Bahasa Indonesia by default)"."""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    out = tmp_path / "signed.pdf"
    r = dep.sahih.run("sign", src, "-o", out, "--nik", NIK, "--level", "B-B",
                      "--passphrase-file", dep.official.passfile,
                      env={**dep.env, "SAHIH_DATA": str(dep.sahih.data)})
    assert r.returncode == 0 and out.exists(), r.describe()
    r_id = dep.sahih.run("verify", out, env={"SAHIH_DATA": str(dep.sahih.data)})
    r_en = dep.sahih.run("verify", out, env={"SAHIH_DATA": str(dep.sahih.data), "SAHIH_LANG": "en"})
    assert r_id.returncode == 0 and r_en.returncode == 0, r_id.describe() + r_en.describe()
    assert re.search(r"tanda tangan", r_id.stdout, re.I), r_id.stdout
    assert re.search(r"signature", r_en.stdout, re.I) and not re.search(r"tanda tangan", r_en.stdout, re.I)


def test_sign_prints_the_level_and_b_b_needs_no_master_key(dep, letter, tmp_path):
    """README: "`sahih sign` ... Level B-LT by default ... It prints the level produced. B-T and
    above run the institution's trust services in-process, which needs the master key;
    `--level B-B` does not.\""""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    out = tmp_path / "default.pdf"
    r = dep.run("sign", src, "-o", out, "--nik", NIK, "--passphrase-file", dep.official.passfile)
    assert r.returncode == 0 and "B-LT" in r.stdout + r.stderr, r.describe()
    _, rep = dep.sahih.verify(out)
    assert rep["signatures"][0]["level"] == "B-LT", rep
    key = dep.sahih.data / "master.key"
    away = tmp_path / "master.key.away"
    shutil.move(key, away)
    try:
        bb = tmp_path / "bb.pdf"
        r = dep.run("sign", src, "-o", bb, "--nik", NIK, "--level", "B-B",
                    "--passphrase-file", dep.official.passfile)
        assert r.returncode == 0 and bb.exists(), f"B-B needed the master key:\n{r.describe()}"
        assert "B-B" in r.stdout + r.stderr, r.describe()
        bt = tmp_path / "bt.pdf"
        r = dep.run("sign", src, "-o", bt, "--nik", NIK, "--level", "B-T",
                    "--passphrase-file", dep.official.passfile)
        assert_no_panic(r)
        assert r.returncode != 0 and not bt.exists(), r.describe()
        assert re.search(r"master|induk", r.stderr, re.I), r.describe()
    finally:
        shutil.move(away, key)


def test_verify_at_takes_rfc3339_and_relative_times(dep, letter, tmp_path):
    """README: "`sahih verify ... [--at TIME]` ... `--at` validates as of another time (RFC
    3339, or `+10y`, `+90d`, `-1d`)". A B-LT file passes ninety days and a given date ahead; a
    day before it was made, its certificate did not exist yet."""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    out = tmp_path / "blt.pdf"
    r = dep.run("sign", src, "-o", out, "--nik", NIK, "--passphrase-file", dep.official.passfile)
    assert r.returncode == 0, r.describe()
    now = datetime.now(timezone.utc)
    later = now + timedelta(days=400)
    for at, expect in (("+90d", now + timedelta(days=90)), ("+10y", now + timedelta(days=3652)),
                       (later.strftime("%Y-%m-%dT%H:%M:%SZ"), later),
                       ("-1d", now - timedelta(days=1))):
        r, rep = dep.sahih.verify(out, f"--at={at}")
        assert r.returncode in (0, 1) and rep, (at, r.describe())
        validated = datetime.fromisoformat(re.sub(r"(\.\d{1,6})\d*", r"\1", rep["validated_at"])
                                           .replace("Z", "+00:00"))
        assert abs(validated - expect) < timedelta(days=2), (at, rep["validated_at"])
        if at.startswith("+") or at == later.strftime("%Y-%m-%dT%H:%M:%SZ"):
            assert r.returncode == 0 and rep["indication"] == "TOTAL_PASSED", (at, r.describe())


@pytest.fixture(scope="module")
def fresh_blt(dep, letter, tmp_path_factory):
    d = tmp_path_factory.mktemp("fresh-blt")
    src = d / "a.pdf"
    src.write_bytes(letter)
    out = d / "blt.pdf"
    r = dep.run("sign", src, "-o", out, "--nik", NIK, "--passphrase-file", dep.official.passfile)
    assert r.returncode == 0, r.describe()
    return out


def test_verify_at_minus_one_day_as_the_readme_writes_it(dep, fresh_blt):
    """README: "`--at` validates as of another time (RFC 3339, or `+10y`, `+90d`, `-1d`)"."""
    r, rep = dep.sahih.verify(fresh_blt, "--at", "-1d")
    assert r.returncode in (0, 1) and rep, r.describe()


def test_verify_at_a_time_before_the_signature_existed_does_not_pass(dep, fresh_blt):
    """README: "`--at` validates as of another time". As of a day and as of years before the
    signature and its certificate existed, the signature cannot be valid."""
    for at in ("-1d", "2020-01-01T00:00:00Z"):
        r, rep = dep.sahih.verify(fresh_blt, f"--at={at}")
        assert rep["indication"] != "TOTAL_PASSED" and r.returncode == 1, (at, rep["indication"])
        sig = rep["signatures"][0]
        assert sig["sub_indication"] == "NO_POE", sig
        assert any(e["code"] == "signed_after_validation_time" for e in sig["errors"]), sig


def test_verify_at_a_past_time_needs_a_timestamp_and_ignores_the_claimed_time(dep, letter, tmp_path):
    """Without a timestamp nothing proves when a signature was made: as of a past time it is
    INDETERMINATE/NO_POE whatever the signer's own /M time says (it could be backdated). As of
    now, the same B-B file passes even if its /M time lay hours ahead (offset-less local times)."""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    bb = tmp_path / "bb.pdf"
    r = dep.run("sign", src, "-o", bb, "--nik", NIK, "--level", "B-B",
                "--passphrase-file", dep.official.passfile)
    assert r.returncode == 0, r.describe()
    r, rep = dep.sahih.verify(bb)
    assert r.returncode == 0 and rep["indication"] == "TOTAL_PASSED", r.describe()
    r, rep = dep.sahih.verify(bb, "--at=-1d")
    sig = rep["signatures"][0]
    assert r.returncode == 1 and sig["sub_indication"] == "NO_POE", sig
    assert any(e["code"] == "no_poe_at_validation_time" for e in sig["errors"]), sig


def test_extend_again_renews_the_archive_timestamp(dep, letter, tmp_path):
    """README: "`sahih extend FILE [-o OUT] [--level B-LT|B-LTA]` ... Run it again before the TSA
    certificate expires to renew the archive timestamp." Extending a B-LTA file adds a second
    document timestamp, and the file still passes."""
    src = tmp_path / "a.pdf"
    src.write_bytes(letter)
    lta = tmp_path / "lta.pdf"
    r = dep.run("sign", src, "-o", lta, "--nik", NIK, "--level", "B-LTA",
                "--passphrase-file", dep.official.passfile)
    assert r.returncode == 0, r.describe()
    _, rep = dep.sahih.verify(lta)
    assert len(rep["document_timestamps"]) == 1, rep
    again = tmp_path / "lta2.pdf"
    r = dep.run("extend", lta, "-o", again, "--level", "B-LTA")
    assert r.returncode == 0, r.describe()
    assert again.read_bytes().startswith(lta.read_bytes()), "extend only appends"
    r, rep = dep.sahih.verify(again)
    assert r.returncode == 0 and len(rep["document_timestamps"]) == 2, rep
    assert all(t["trusted"] for t in rep["document_timestamps"]), rep


# -- the ECS endpoints -------------------------------------------------------------------------

def test_ecs_answers_carry_signing_time_and_id_dokumen(dep, letter):
    """docs/ECS.md (Endpoints): v1 sign "200 `application/pdf`, headers `id_dokumen` and
    `signing_time`; with `jenis_response=BASE64` a JSON `{base64_signed_file, id_dokumen,
    signing_time}`"; v2 sign "`{time, file: [...]}` in request order, plus `id_dokumen:
    [...]`"; "Sahih adds `id_dokumen`"."""
    r = v1_sign(dep, letter, {"tampilan": "invisible"})
    assert r.status == 200 and r.headers["content-type"].startswith("application/pdf")
    assert r.headers.get("id_dokumen") and r.headers.get("signing_time"), r.headers
    r = v1_sign(dep, letter, {"tampilan": "invisible", "jenis_response": "BASE64"})
    j = r.json()
    assert {"base64_signed_file", "id_dokumen", "signing_time"} <= set(j), j.keys()
    assert j["signing_time"], j["signing_time"]
    r = v2_sign(dep, [letter, letter])
    j = r.json()
    assert isinstance(j["time"], int) and len(j["file"]) == 2, j.keys()
    ids = j["id_dokumen"]
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    # Each id is the document's record: its verification page names the SHA-256 of that file.
    for doc_id, f in zip(ids, j["file"]):
        page = http("GET", url(dep, f"/v/{doc_id}"))
        assert page.status == 200
        assert hashlib.sha256(base64.b64decode(f)).hexdigest() in page.body.decode(), doc_id


def test_v1_verify_takes_the_file_part_too(dep, letter):
    """docs/ECS.md: "`POST /api/sign/verify` | multipart `signed_file` (or `file`)"."""
    signed = v1_sign(dep, letter, {"tampilan": "invisible"}).body
    body, ctype = multipart({}, {"file": ("ttd.pdf", signed, "application/pdf")})
    j = http("POST", url(dep, "/api/sign/verify"), credential=dep.credential, data=body,
             content_type=ctype).json()
    assert j["summary"] == "VALID" and j["jumlah_signature"] == 1 and j["nama_dokumen"] == "ttd.pdf", j


def test_base64_as_clients_send_it_is_accepted(dep, letter):
    """docs/ECS.md: "base64 may be wrapped, PHP-escaped (`\\/`), unpadded or a `data:` URL"."""
    plain = b64(letter)
    assert "/" in plain
    wrapped = "\n".join(plain[i:i + 76] for i in range(0, len(plain), 76))
    variants = {
        "wrapped": wrapped,
        "unpadded": plain.rstrip("="),
        "data-url": "data:application/pdf;base64," + plain,
    }
    for name, value in variants.items():
        r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
            "nik": NIK, "passphrase": PASSPHRASE, "file": [value],
            "signatureProperties": [{"tampilan": "INVISIBLE"}]})
        assert r.status == 200, (name, r.body[:300])
        assert base64.b64decode(r.json()["file"][0]).startswith(letter), name
    # PHP's json_encode writes every "/" as "\/".
    body = json.dumps({"nik": NIK, "passphrase": PASSPHRASE, "file": [plain],
                       "signatureProperties": [{"tampilan": "INVISIBLE"}]}).replace("/", "\\/")
    assert "\\/" in body
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, data=body.encode(),
             content_type="application/json")
    assert r.status == 200, r.body[:300]
    assert base64.b64decode(r.json()["file"][0]).startswith(letter)


def test_malformed_fields_are_4015(dep, letter):
    """docs/ECS.md (Errors): "400 | 4015 | a field is malformed: bad base64, not a number, bad
    `tampilan`, bad JSON, mismatched `signatureProperties`"."""
    for fields in ({"tampilan": "miring"},
                   {"tampilan": "visible", "page": "satu", "xAxis": "10", "yAxis": "10",
                    "width": "200", "height": "80"},
                   {"tampilan": "visible", "page": "1", "xAxis": "kiri", "yAxis": "10",
                    "width": "200", "height": "80"}):
        r = v1_sign(dep, letter, fields)
        assert r.status == 400 and ecs_error(r)[0] == 4015, (fields, r.body[:300])


def test_placement_by_halaman_and_a_page_without_coordinates(dep, corpus, tmp_path):
    """docs/ECS.md (Placement precedence): "`page` (number) or `halaman` (`PERTAMA`/`TERAKHIR`,
    also accepted as v2 `page`) with the four coordinates; a page without coordinates gets the
    default rectangle (bottom right)"."""
    from pypdf import PdfReader
    book = (corpus / "book36.pdf").read_bytes()
    pages = len(PdfReader(io.BytesIO(book)).pages)
    assert pages > 2
    r = v1_sign(dep, book, {"tampilan": "visible", "halaman": "PERTAMA", "xAxis": "60",
                            "yAxis": "70", "width": "200", "height": "80"})
    assert r.status == 200, r.body[:300]
    p = tmp_path / "pertama.pdf"
    p.write_bytes(r.body)
    number, rect = widget(p)
    assert number == 1 and [round(v) for v in rect] == [60, 70, 260, 150], (number, rect)
    r = v2_sign(dep, [book], signatureProperties=[{"tampilan": "VISIBLE", "page": "PERTAMA",
                                                    "originX": 50, "originY": 50, "width": 180,
                                                    "height": 60}])
    assert r.status == 200, r.body[:300]
    p = tmp_path / "v2-pertama.pdf"
    p.write_bytes(base64.b64decode(r.json()["file"][0]))
    assert widget(p)[0] == 1
    r = v1_sign(dep, book, {"tampilan": "visible", "page": "2"})
    assert r.status == 200, r.body[:300]
    p = tmp_path / "page2.pdf"
    p.write_bytes(r.body)
    number, rect = widget(p)
    box = PdfReader(str(p)).pages[1].mediabox
    assert number == 2, number
    # Bottom right: the stamp's centre lies in the right half and the lower quarter of the page.
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    assert cx > float(box.width) / 2 and cy < float(box.height) / 4, (rect, box)


def _png(w, h, rgba=(200, 30, 30, 255)) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), rgba).save(buf, "PNG")
    return buf.getvalue()


def test_specimen_images_limits_and_embedding(dep, letter):
    """docs/ECS.md (The stamp): "A specimen image (... JPEG, or 8-bit PNG with or without
    transparency, at most 4096 pixels a side and 8 MiB) ... JPEG is embedded as is; PNG is
    decoded and stored as Flate data with a soft mask for its alpha channel. ... an unreadable
    image is 4015."""
    from PIL import Image
    place = {"tampilan": "visible", "image": "true", "page": "1", "xAxis": "300", "yAxis": "100",
             "width": "200", "height": "80"}
    jpg = io.BytesIO()
    Image.new("RGB", (120, 48), (20, 20, 220)).save(jpg, "JPEG", quality=90)
    r = v1_sign(dep, letter, place, {"imageTTD": ("ttd.jpg", jpg.getvalue(), "image/jpeg")})
    assert r.status == 200, r.body[:300]
    assert jpg.getvalue() in r.body, "the JPEG is not embedded as is"
    r = v1_sign(dep, letter, place, {"imageTTD": ("ttd.png", _png(200, 80, (200, 30, 30, 128)), "image/png")})
    assert r.status == 200, r.body[:300]
    update = r.body[len(letter):]
    assert b"/SMask" in update and b"/FlateDecode" in update, "no soft mask for the PNG's alpha"
    r = v1_sign(dep, letter, place, {"imageTTD": ("besar.png", _png(4097, 8), "image/png")})
    assert r.status == 400 and ecs_error(r)[0] == 4015, r.body[:300]
    r = v1_sign(dep, letter, place, {"imageTTD": ("pas.png", _png(4096, 8), "image/png")})
    assert r.status == 200, r.body[:300]
    # Over 8 MiB (a noisy JPEG inside the pixel limit).
    noise = Image.frombytes("RGB", (3000, 3000), os.urandom(3000 * 3000 * 3))
    big = io.BytesIO()
    noise.save(big, "JPEG", quality=100)
    assert len(big.getvalue()) > 8 * 1024 * 1024, len(big.getvalue())
    r = v1_sign(dep, letter, place, {"imageTTD": ("besar.jpg", big.getvalue(), "image/jpeg")})
    assert r.status == 400 and ecs_error(r)[0] == 4015, r.body[:300]


def test_totp_answer_lifetime_file_count_and_storage(dep, letter):
    """docs/ECS.md: "`POST /api/v2/sign/get/totp` | `{nik|email, data: <number of files>}` |
    `{success, message: "TOTP berhasil dikirim", data: {expires}}`"; "(TOTP) it must be live (5
    minutes), issued for at least as many files as the request signs, and each use spends it
    ... Only its hash is stored; it never appears in the audit log.\""""
    o = dep.sahih.enroll(passphrase="Passphrase-Kode-Sekali-2026")
    r = http("POST", url(dep, "/api/v2/sign/get/totp"), credential=dep.credential,
             json_body={"nik": o.nik, "data": 1})
    assert r.status == 200, r.body
    j = r.json()
    assert j["success"] is True and j["message"] == "TOTP berhasil dikirim", j
    expires = j["data"]["expires"]
    when = datetime.fromisoformat(re.sub(r"(\.\d{1,6})\d*", r"\1", expires).replace("Z", "+00:00"))
    left = when - datetime.now(timezone.utc)
    assert timedelta(minutes=4) < left <= timedelta(minutes=5, seconds=5), expires
    code = re.findall(r"Kode OTP Anda: (\d{6})", dep.run("outbox", o.email).stdout)[-1]
    stored = dep.sql("SELECT * FROM one_time_codes")
    assert code not in stored, "the code itself is stored"
    req = {"nik": o.nik, "passphrase": "Passphrase-Kode-Sekali-2026"}
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={**req, "totp": code, "file": [b64(letter)] * 2})
    assert r.status == 400 and ecs_error(r)[0] == 2033, "a code for one file signed two"
    # A code past its five minutes is refused.
    r = http("POST", url(dep, "/api/v2/sign/get/totp"), credential=dep.credential,
             json_body={"nik": o.nik, "data": 1})
    code2 = re.findall(r"Kode OTP Anda: (\d{6})", dep.run("outbox", o.email).stdout)[-1]
    oid = dep.sql(f"SELECT id FROM officials WHERE nik = '{o.nik}'")
    dep.sql(f"UPDATE one_time_codes SET expires_at = expires_at - 301 WHERE official_id = {oid}")
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={**req, "totp": code2, "file": [b64(letter)]})
    assert r.status == 400 and ecs_error(r)[0] == 2033, "an expired code signed"
    exported = dep.run("audit", "export").stdout
    assert code not in exported and code2 not in exported


def test_status_codes_for_revoked_and_expired_certificates(dep):
    """docs/ECS.md (Status codes): "Sahih adds ... `1113 REVOKE`, `1114 EXPIRED`"; docs/RA.md:
    "`ISSUE`, `SUSPEND`, `REVOKE` and `EXPIRED` are read from the newest certificate"."""
    gone = dep.sahih.enroll(passphrase="Passphrase-Dicabut-2026")
    assert dep.run("revoke", "--nik", gone.nik, "--reason", "cessationOfOperation").returncode == 0
    st = http("GET", url(dep, f"/api/user/status/{gone.nik}"), credential=dep.credential).json()
    assert (st["status_code"], st["status"]) == (1113, "REVOKE"), st
    old = dep.sahih.enroll(passphrase="Passphrase-Kedaluwarsa-2026")
    oid = dep.sql(f"SELECT id FROM officials WHERE nik = '{old.nik}'")
    past = int(time.time()) - 86400
    dep.sql(f"UPDATE certificates SET not_after = {past} WHERE official_id = {oid}")
    st = http("POST", url(dep, "/api/v2/user/check/status"), credential=dep.credential,
              json_body={"nik": old.nik}).json()
    assert (st["status_code"], st["status"]) == (1114, "EXPIRED"), st


# -- the registration authority ----------------------------------------------------------------

@pytest.fixture(scope="module")
def ra(dep, corpus):
    from PIL import Image
    jpg = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 180, 150)).save(jpg, "JPEG", quality=90)
    dep.operator = dep.add_client("op-kominfo", "--role", "operator", "--unit", UNIT)
    dep.verifikator = dep.add_client("verif-1", "--role", "verifikator", "--person-nik", "3573014404800009")
    dep.files = {"letter": (corpus / "reportlab.pdf").read_bytes(),
                 "sk": (corpus / "libreoffice.pdf").read_bytes(), "ktp": jpg.getvalue()}
    return dep


def ra_submit(dep, kind, person, evidence):
    body, ctype = multipart({"request": json.dumps({"kind": kind, "officials": [person]})}, evidence)
    return http("POST", url(dep, "/api/v1/ra/submissions"), credential=dep.operator, data=body,
                content_type=ctype)


def ra_status(dep, nik):
    return http("POST", url(dep, "/api/v2/user/check/status"), credential=dep.credential,
                json_body={"nik": nik}).json()


def last_link(dep, email) -> str:
    links = re.findall(r"/aktivasi/([A-Za-z0-9_-]{20,})", dep.run("outbox", email).stdout)
    assert links
    return links[-1]


def test_renewal_signs_throughout_then_supersedes_and_a_rejection_restores_the_status(ra, letter):
    """docs/RA.md: "`renew` | none | activation link; the old certificate is revoked
    (superseded) when the new one is activated, so the official can sign throughout"; "RENEW
    --reject--> (back to the certificate's status)"; "ISSUE | EXPIRED | REVOKE
    --request-renewal--> RENEW"; "anything else is refused with 409 code 4091 ("Langkah ...
    tidak diperbolehkan pada status ...")"; evidence "served as attachments with
    `X-Content-Type-Options: nosniff`"."""
    dep = ra
    o = dep.sahih.enroll(name="Sari Perpanjangan", unit=UNIT, passphrase="Passphrase-Lama-Perpanjang-2026")
    person = {"nik": o.nik, "nip": o.nip, "name": o.name, "email": o.email, "position": o.position,
              "unit": o.unit}
    letter_ev = {"surat_permohonan": ("surat.pdf", dep.files["letter"], "application/pdf")}
    r = ra_submit(dep, "renew", person, letter_ev)
    assert r.status == 201, r.body[:300]
    rid = r.json()["requests"][0]["id"]
    assert ra_status(dep, o.nik)["status_code"] == 1118
    ev = http("GET", url(dep, f"/api/v1/ra/requests/{rid}/evidence/surat_permohonan"),
              credential=dep.verifikator)
    assert ev.status == 200 and ev.body == dep.files["letter"]
    assert ev.headers.get("x-content-type-options") == "nosniff"
    assert ev.headers.get("content-disposition", "").startswith("attachment"), ev.headers
    r = http("POST", url(dep, f"/api/v1/ra/requests/{rid}/reject"), credential=dep.verifikator,
             json_body={"reason": "Surat belum ditandatangani kepala OPD"})
    assert r.status == 200, r.body[:300]
    st = ra_status(dep, o.nik)
    assert (st["status_code"], st["status"]) == (1111, "ISSUE"), st
    r = http("POST", url(dep, f"/api/v1/ra/requests/{rid}/approve"), credential=dep.verifikator)
    assert r.status == 409 and ecs_error(r)[0] == 4091
    assert "tidak diperbolehkan pada status" in r.json()["message"], r.json()

    rid = ra_submit(dep, "renew", person, letter_ev).json()["requests"][0]["id"]
    old_serial = official_cert(dep, o.nik).serial_number
    assert http("POST", url(dep, f"/api/v1/ra/requests/{rid}/approve"),
                credential=dep.verifikator).status == 200
    assert v2_sign(dep, [letter], nik=o.nik, passphrase="Passphrase-Lama-Perpanjang-2026").status == 200, \
        "the official cannot sign while the renewal waits for activation"
    time.sleep(1.1)
    token = last_link(dep, o.email)
    r = http("POST", url(dep, f"/api/v1/activation/{token}"),
             json_body={"passphrase": "Passphrase-Baru-Perpanjang-2026"})
    assert r.status == 200, r.body[:300]
    row = dep.sql(f"SELECT status, revocation_reason FROM certificates WHERE serial_hex = "
                  f"'{old_serial:x}' OR lower(serial_hex) = '{old_serial:x}' OR "
                  f"ltrim(lower(serial_hex), '0') = '{old_serial:x}'")
    assert row.split("|")[0] == "REVOKE" and "superseded" in row.lower(), row
    assert v2_sign(dep, [letter], nik=o.nik, passphrase="Passphrase-Baru-Perpanjang-2026").status == 200

    # A revoked official may be renewed.
    time.sleep(1.1)
    assert dep.run("revoke", "--nik", o.nik, "--reason", "keyCompromise").returncode == 0
    assert ra_status(dep, o.nik)["status"] == "REVOKE"
    r = ra_submit(dep, "renew", person, letter_ev)
    assert r.status == 201, r.body[:300]
    assert ra_status(dep, o.nik)["status"] == "RENEW"


def test_activation_link_is_256_bits_stored_as_sha256_and_checks_the_passphrase(ra):
    """docs/RA.md: "the official receives a link `{base_url}/aktivasi/{token}` ...: 256 random
    bits, only its SHA-256 stored"; "checks it before using the link up (at least 8 characters;
    not a common password such as `password123` or `bismillah`; not containing the official's
    NIK, NIP, name or e-mail), so a refused passphrase can be corrected"; "The page is plain HTML
    with no scripts"."""
    dep = ra
    nik = "3573012112800021"
    person = {"nik": nik, "nip": "198001012005011021", "name": "Teguh Aktivasi",
              "email": "teguh.aktivasi@contoh.go.id", "position": "Analis", "unit": UNIT}
    r = ra_submit(dep, "enroll", person, {
        "surat_permohonan": ("surat.pdf", dep.files["letter"], "application/pdf"),
        "ktp": ("ktp.jpg", dep.files["ktp"], "image/jpeg"),
        "sk_jabatan": ("sk.pdf", dep.files["sk"], "application/pdf")})
    assert r.status == 201, r.body[:300]
    rid = r.json()["requests"][0]["id"]
    assert http("POST", url(dep, f"/api/v1/ra/requests/{rid}/approve"), credential=dep.verifikator).status == 200
    out = dep.run("outbox", person["email"]).stdout
    m = re.search(r"(\S+)/aktivasi/([A-Za-z0-9_-]+)", out)
    assert m and m.group(1) == dep.sahih.base_url, out
    token = m.group(2)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32, token
    digest = hashlib.sha256(token.encode()).hexdigest()
    stored = dep.sql("SELECT * FROM activation_links")
    assert token not in stored and digest in stored.lower(), "the link is stored other than as its SHA-256"
    page = http("GET", url(dep, f"/aktivasi/{token}"))
    assert page.status == 200 and b"<script" not in page.body.lower()
    for bad in ("Pendek1", f"Kunci-{nik}-x", f"Kunci-{person['nip']}", "teguh.aktivasi@contoh.go.id!",
                "password123", "Bismillah"):
        r = http("POST", url(dep, f"/api/v1/activation/{token}"), json_body={"passphrase": bad})
        assert r.status == 400, (bad, r.status, r.body[:200])
    r = http("POST", url(dep, f"/api/v1/activation/{token}"), json_body={"passphrase": "Lontong-Kupang-Kenjeran-2026"})
    assert r.status == 200, r.body[:300]
    assert ra_status(dep, nik)["status"] == "ISSUE"


def test_a_jpeg_polyglot_is_refused_as_evidence(ra):
    """docs/RA.md: "a JPEG's marker segments chain from start- to end-of-image ...; nothing but
    padding after); ... polyglots (an executable slipped between JPEG segments ...) and truncated
    files are refused (400, code 4016)"."""
    dep = ra
    person = {"nik": "3573012212800022", "nip": "198001012005011022", "name": "Umar Poliglot",
              "email": "umar.poliglot@contoh.go.id", "position": "Analis", "unit": UNIT}
    jpg = dep.files["ktp"]
    exe = b"MZ\x90\x00\x03" + b"\x00" * 60 + b"PE\x00\x00" + b"\x90" * 200
    after_eoi = jpg + exe
    # An APP segment holding an executable, inserted right after SOI, is well formed: refused
    # anyway as a polyglot? The doc names "slipped between segments": a raw blob, no marker.
    between = jpg[:2] + exe + jpg[2:]
    for label, ktp in (("after EOI", after_eoi), ("between segments", between),
                       ("truncated", jpg[: len(jpg) // 2])):
        r = ra_submit(dep, "enroll", person, {
            "surat_permohonan": ("surat.pdf", dep.files["letter"], "application/pdf"),
            "ktp": ("ktp.jpg", ktp, "image/jpeg"),
            "sk_jabatan": ("sk.pdf", dep.files["sk"], "application/pdf")})
        assert r.status == 400 and ecs_error(r)[0] == 4016, (label, r.status, r.body[:200])


# -- configuration that changes what follows ----------------------------------------------------

def test_ecs_coordinates_corners_and_ecs_level(sahih_bin, tmp_path, letter):
    """docs/ECS.md: "An installation calibrated against a real ECS that reads `width/height` as
    the upper-right corner ... sets `ecs_coordinates = "corners"` in `[server]`"; "`ecs_level`
    in `[server]` sets B-B, B-T, B-LT or B-LTA"."""
    d = make_deployment(sahih_bin, tmp_path / "corners", "sqlite",
                        config_edits={"ecs_coordinates": '"corners"', "ecs_level": '"B-T"'})
    try:
        d.sahih.enroll(nik=NIK, nip="198501252010011003")
        cred = d.add_client("kalibrasi")
        body, ctype = multipart({"nik": NIK, "passphrase": PASSPHRASE, "tampilan": "visible",
                                 "page": "1", "xAxis": "100", "yAxis": "120", "width": "340",
                                 "height": "200"},
                                {"file": ("a.pdf", letter, "application/pdf")})
        r = http("POST", d.servers[0].url + "/api/sign/pdf", credential=cred, data=body,
                 content_type=ctype)
        assert r.status == 200, r.body[:300]
        p = tmp_path / "corners.pdf"
        p.write_bytes(r.body)
        number, rect = widget(p)
        assert [round(v) for v in rect] == [100, 120, 340, 200], rect
        rr, rep = d.sahih.verify(p)
        assert rep["signatures"][0]["level"] == "B-T", rep
    finally:
        d.close()


def test_document_class_v1_field_and_positions(dep, letter):
    """docs/ECS.md: "A request may name one with the Sahih extension field `kelasDokumen` (v2)
    or `kelas_dokumen` (v1)"; "403 | 2041 | the document class is forbidden, or the position may
    not sign it; the message cites the regulation"; README: "which classes may, must not or must
    be signed electronically, by which positions, citing the regulation"."""
    r = dep.run("policy", "load", POLICIES / "kota-larangan-keuangan.toml")
    assert r.returncode == 0, r.describe()
    r = v1_sign(dep, letter, {"tampilan": "invisible", "kelas_dokumen": "dokumen-anggaran"})
    assert r.status == 403, r.body[:300]
    code, text = ecs_error(r)
    assert code == 2041 and "Dokumen Anggaran" in text and "Pasal 9" in text, text
    # sk-kepegawaian: only some positions may sign.
    r = v1_sign(dep, letter, {"tampilan": "invisible", "kelas_dokumen": "sk-kepegawaian"})
    assert r.status == 403, r.body[:300]
    code, text = ecs_error(r)
    assert code == 2041 and "Pasal 6" in text, text
    sekda = dep.sahih.enroll(position="Sekretaris Daerah", passphrase="Passphrase-Sekda-2026")
    body, ctype = multipart({"nik": sekda.nik, "passphrase": "Passphrase-Sekda-2026",
                             "tampilan": "invisible", "kelas_dokumen": "sk-kepegawaian"},
                            {"file": ("sk.pdf", letter, "application/pdf")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 200, r.body[:300]
    r = v1_sign(dep, letter, {"tampilan": "invisible", "kelas_dokumen": "surat-dinas"})
    assert r.status == 200, r.body[:300]


def test_ca_rotate_keeps_the_old_crl_and_ocsp_working(dep):
    """README: "`sahih ca rotate` issues a new issuing CA and makes it active; earlier
    certificates, their OCSP responder and CRL, and existing signatures keep working"."""
    issuing1 = load_cert(get_der(url(dep, "/ca/issuing-1.crt")))
    cert = official_cert(dep, NIK)
    r = dep.run("ca", "rotate")
    assert r.returncode == 0, r.describe()
    fresh = dep.start_server()
    try:
        for server in (dep.servers[0], fresh):
            crl = x509.load_der_x509_crl(get_der(server.url + "/crl/issuing-1.crl"))
            assert crl.issuer == issuing1.subject and crl.is_signature_valid(issuing1.public_key())
            req = ocsp.OCSPRequestBuilder().add_certificate(cert, issuing1, hashes.SHA1()).build()
            resp = http("POST", server.url + "/ocsp", data=req.public_bytes(serialization.Encoding.DER),
                        content_type="application/ocsp-request")
            o = ocsp.load_der_ocsp_response(resp.body)
            assert o.certificate_status == ocsp.OCSPCertStatus.GOOD, server.url
        issuing2 = load_cert(get_der(fresh.url + "/ca/issuing-2.crt"))
        assert issuing2.subject != issuing1.subject
        # New officials get the new issuing CA; the old official still signs.
        newer = dep.sahih.enroll(passphrase="Passphrase-Sesudah-Rotasi-2026")
        assert official_cert(dep, newer.nik).issuer == issuing2.subject
    finally:
        fresh.stop()
        dep.servers.remove(fresh)


SEAL_CODE_RE = re.compile(r"(?m)^\s{4}([A-HJ-NP-Z2-9]{12})\s*$")


def test_seal_codes_certificate_and_policy(ra, letter):
    """docs/ECS.md (Segel elektronik): activation code "12 characters `A-Z`/`2-9` without
    `I`/`O` (60 bits; case, spaces and dashes ignored)"; "The refresh answers whether the
    presented code is still valid and until when; it does not extend it"; "a right code resets
    the count"; the certificate has "AIA and CRL distribution point as for officials. No
    qcStatements"; "Sealing runs the ordinary pipeline: the document class is the request's
    `kelasDokumen` ... and is matched against the seal's position "Segel Elektronik"."
    (Runs after the policy test: the loaded policy limits `sk-kepegawaian` to some positions.)"""
    dep = ra
    verif2 = dep.add_client("verif-2", "--role", "verifikator", "--person-nik", "3573014404800010")
    r = http("POST", url(dep, "/api/v1/seals"), credential=dep.verifikator,
             json_body={"name": "Segel Klaim", "unit": UNIT, "email": "segel.klaim@contoh.go.id"})
    assert r.status == 202, r.body[:300]
    sid = r.json()["id_subscriber"]
    assert http("POST", url(dep, f"/api/v1/seals/{sid}/approve"), credential=verif2,
                json_body={}).status == 201

    def post(path, body):
        return http("POST", url(dep, path), credential=dep.credential, json_body=body)

    assert post("/api/v2/seal/get/activation", {"idSubscriber": sid}).status == 200
    code = SEAL_CODE_RE.findall(dep.run("outbox", "segel.klaim@contoh.go.id").stdout)[-1]
    sloppy = " " + "-".join(code[i:i + 4] for i in range(0, 12, 4)).lower() + " "
    first = post("/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": sloppy})
    assert first.status == 200, first.body[:300]
    time.sleep(1.1)
    second = post("/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": code})
    assert second.json()["data"]["expires"] == first.json()["data"]["expires"], "a refresh extended the code"

    def wrong(n):
        for i in range(n):
            r = post("/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1, "totp": f"SALAH{i:07d}"})
            assert r.status == 400 and ecs_error(r)[0] == 2033, r.body[:300]

    wrong(4)
    r = post("/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 3, "totp": code})
    assert r.status == 200, "four wrong codes then the right one"
    batch = r.json()["totp"]
    wrong(4)  # the right code reset the count: four more are answered "wrong", not "locked"

    r = post("/api/v2/seal/pdf", {"idSubscriber": sid, "totp": batch, "file": [b64(letter)],
                                  "kelasDokumen": "sk-kepegawaian"})
    assert r.status == 403 and ecs_error(r)[0] == 2041 and "Pasal 6" in r.json()["error"], r.body[:300]
    r = post("/api/v2/seal/pdf", {"idSubscriber": sid, "totp": batch, "file": [b64(letter)],
                                  "kelasDokumen": "surat-dinas"})
    assert r.status == 200, r.body[:300]
    from pyhanko.pdf_utils.reader import PdfFileReader
    sig = PdfFileReader(io.BytesIO(base64.b64decode(r.json()["file"][0])), strict=False).embedded_signatures[0]
    cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP for d in aia)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert any(dp.full_name for dp in cdp)
    oids = {e.oid.dotted_string for e in cert.extensions}
    assert "1.3.6.1.5.5.7.1.3" not in oids, "qcStatements present"
    official = official_cert(dep, NIK)
    assert "1.3.6.1.5.5.7.1.3" not in {e.oid.dotted_string for e in official.extensions}
    assert {type(official.extensions.get_extension_for_class(t).value) for t in
            (x509.AuthorityInformationAccess, x509.CRLDistributionPoints)}
