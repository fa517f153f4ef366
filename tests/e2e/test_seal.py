"""The institutional electronic seal (segel elektronik) end to end over HTTP, on SQLite + local
directory and on PostgreSQL + S3 (moto), plus one run with the seal's key in a PKCS#11 token
(SoftHSM2).

A Diskominfo verifikator issues a seal for a unit (operators and applications may not); the
seal's activation code ("TOTP Aktivasi") goes only to the responsible person's e-mail; the
application refreshes it, trades it for a batch code for exactly N documents, and seals N
licences in one request. Every output passes pdfsig (NSS trusting only the deployment's root)
and pyHanko; the signer certificate names the organisation, never a person; the stamp says
"Disegel secara elektronik oleh". Codes cannot stand in for each other, a batch code covers
no more than it was issued for, wrong codes lock the seal like wrong passphrases, revoking the
activation retires every code, a revoked or suspended seal cannot seal, and the audit chain
verifies and never holds a code (nor does the database).
"""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.x509 import load_der_x509_certificate
from cryptography.x509.oid import NameOID

from conftest import ORG, REPO
from ecs_support import BACKENDS, b64, ecs_error, http, make_deployment, multipart
from validators import page_text, pdfsig, qpdf_check, run

PYHANKO = REPO / ".venv" / "bin" / "pyhanko"
UNIT = "Dinas Penanaman Modal dan PTSP"
SEAL_NAME = "DPMPTSP Kota Contoh"
SEAL_EMAIL = "kepala.dpmptsp@contoh.go.id"
VERIF_NIK = "3573014404800009"
ACTIVATION_RE = re.compile(r"(?m)^\s{4}([A-HJ-NP-Z2-9]{12})\s*$")
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "sahih-seal-e2e"
HSM_PIN = "5524-7710"
HSM_SO_PIN = "so-1190-3321"


def setup_clients(d):
    d.app = d.add_client("perizinan")
    d.admin = d.add_client("admin-1", "--role", "admin")
    d.operator = d.add_client("op-dpmptsp", "--role", "operator", "--unit", UNIT)
    d.verifikator = d.add_client("verif-1", "--role", "verifikator", "--person-nik", VERIF_NIK)
    # Seals take two persons: one requests, another issues.
    d.verifikator2 = d.add_client("verif-2", "--role", "verifikator", "--person-nik", "3573014404800010")
    nss = d.sahih.workdir / "nss"
    nss.mkdir()
    for cmd in (["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
                ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i",
                 d.sahih.root_pem]):
        r = run(cmd)
        assert r.returncode == 0, r.describe()
    d.nss = nss
    # Every code seen in this deployment: none may appear in the audit log or the database.
    d.codes = set()


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"seal-{request.param}"), request.param)
    setup_clients(d)
    yield d
    d.close()


@pytest.fixture(scope="module")
def files(corpus):
    return {
        "izin-1": (corpus / "reportlab.pdf").read_bytes(),
        "izin-2": (corpus / "libreoffice.pdf").read_bytes(),
        "izin-3": (corpus / "chromium.pdf").read_bytes(),
    }


# -- helpers ---------------------------------------------------------------------------------

def url(dep, path):
    return dep.servers[0].url + path


def post(dep, path, body, credential=None):
    return http("POST", url(dep, path), credential=credential or dep.app, json_body=body)


def issue_seal(dep, name=SEAL_NAME, unit=UNIT, email=SEAL_EMAIL, credential=None) -> str:
    """Requested by one verifikator, issued by the other."""
    requester = credential or dep.verifikator
    r = post(dep, "/api/v1/seals", {"name": name, "unit": unit, "email": email}, requester)
    assert r.status == 202 and r.json()["status"] == "WAITING_FOR_VERIFICATION", r.body[:400]
    sid = r.json()["id_subscriber"]
    assert sid.startswith("seal-") and len(sid) > 20, sid
    approver = dep.verifikator2 if requester != dep.verifikator2 else dep.verifikator
    r = post(dep, f"/api/v1/seals/{sid}/approve", {}, approver)
    assert r.status == 201 and r.json()["id_subscriber"] == sid, r.body[:400]
    return sid


def activation_code(dep, sid, email=SEAL_EMAIL) -> str:
    """Asks for an activation code and reads it from the outbox (the seal's e-mail)."""
    r = post(dep, "/api/v2/seal/get/activation", {"idSubscriber": sid})
    assert r.status == 200, r.body[:400]
    j = r.json()
    assert j == {"success": True, "message": "TOTP Aktivasi berhasil dikirim", "data": None}, j
    out = dep.run("outbox", email).stdout
    codes = ACTIVATION_RE.findall(out)
    assert codes, out
    # Security finding 1: the database alone never holds the code (the body is sealed under the
    # master key, which `sahih outbox` uses above).
    stored = dep.sql("SELECT body FROM outbox")
    assert codes[-1] not in stored and "TOTP" not in stored, stored[-400:]
    dep.codes.add(codes[-1])
    return codes[-1]


def batch_code(dep, sid, activation, n) -> str:
    r = post(dep, "/api/v2/seal/get/totp", {"idSubscriber": sid, "data": n, "totp": activation})
    assert r.status == 200, r.body[:400]
    j = r.json()
    assert j["message"] == "TOTP berhasil dibuat" and j["result"] is True, j
    assert j["data"]["totp"] == j["totp"] and re.fullmatch(r"\d{8}", j["totp"]), j
    expires = datetime.strptime(j["expires"], "%Y-%m-%dT%H:%M:%S.%f%z")
    left = expires - datetime.now(timezone.utc)
    assert timedelta(minutes=8) < left <= timedelta(minutes=10, seconds=5), j["expires"]
    dep.codes.add(j["totp"])
    return j["totp"]


def seal_pdf(dep, sid, code, pdfs, props=None):
    body = {"idSubscriber": sid, "totp": code, "file": [b64(p) for p in pdfs]}
    if props is not None:
        body["signatureProperties"] = props
    return post(dep, "/api/v2/seal/pdf", body)


def sealed_files(r, originals) -> list[bytes]:
    assert r.status == 200, r.body[:500]
    j = r.json()
    assert len(j["file"]) == len(originals) and len(j["id_dokumen"]) == len(originals), j.keys()
    out = [base64.b64decode(f) for f in j["file"]]
    for o, s in zip(originals, out):
        assert s.startswith(o), "incremental update: the original bytes come first"
    return out


def outside_validators_accept(dep, pdf: bytes, name: str) -> Path:
    path = dep.sahih.workdir / name
    path.write_bytes(pdf)
    assert qpdf_check(path).clean
    ps = pdfsig(path, dep.nss)
    assert ps.signatures and all(s.valid and s.trusted for s in ps.signatures), ps.run.describe()
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()
    return path


def signer_certificate(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader
    sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(sigs) == 1
    return load_der_x509_certificate(sigs[0].signer_cert.dump())


def assert_organisation_certificate(cert, name=SEAL_NAME, unit=UNIT):
    subject = cert.subject
    values = lambda oid: [a.value for a in subject.get_attributes_for_oid(oid)]  # noqa: E731
    assert values(NameOID.COUNTRY_NAME) == ["ID"]
    assert values(NameOID.ORGANIZATION_NAME) == [ORG]
    assert values(NameOID.ORGANIZATIONAL_UNIT_NAME) == [unit]
    assert values(NameOID.COMMON_NAME) == [name]
    for person in (NameOID.SERIAL_NUMBER, NameOID.TITLE, NameOID.GIVEN_NAME, NameOID.SURNAME,
                   NameOID.EMAIL_ADDRESS, NameOID.USER_ID):
        assert values(person) == [], (person, subject.rfc4514_string())
    text = subject.rfc4514_string()
    assert not re.search(r"\d{16}", text) and "PNOID" not in text, text
    from cryptography import x509
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign


def code_of(r) -> int:
    return ecs_error(r)[0]


# -- tests -----------------------------------------------------------------------------------

def test_only_a_verifikator_issues_a_seal(dep):
    body = {"name": SEAL_NAME, "unit": UNIT, "email": SEAL_EMAIL}
    for who in (dep.app, dep.operator, dep.admin):
        r = post(dep, "/api/v1/seals", body, who)
        assert r.status == 403 and code_of(r) == 4033, r.body[:300]
    r = post(dep, "/api/v1/seals", dict(body, email="bukan-email"), dep.verifikator)
    assert r.status == 400 and code_of(r) == 4015, r.body[:300]
    r = post(dep, "/api/v1/seals", dict(body, name=" "), dep.verifikator)
    assert r.status == 400, r.body[:300]
    r = post(dep, "/api/v1/seals", body, dep.verifikator)
    assert r.status == 202, r.body[:300]
    sid = r.json()["id_subscriber"]
    # Not usable before a second verifikator issues it, and not issuable by the requester.
    r = post(dep, "/api/v2/seal/get/activation", {"idSubscriber": sid})
    assert r.status >= 400, r.body[:300]
    r = post(dep, f"/api/v1/seals/{sid}/approve", {}, dep.verifikator)
    assert r.status == 403 and code_of(r) == 4033, r.body[:300]
    assert post(dep, f"/api/v1/seals/{sid}/approve", {}, dep.operator).status == 403
    r = post(dep, f"/api/v1/seals/{sid}/approve", {}, dep.verifikator2)
    assert r.status == 201, r.body[:300]
    assert post(dep, f"/api/v1/seals/{sid}/approve", {}, dep.verifikator2).status == 409
    j = r.json()
    assert f"CN={SEAL_NAME}" in j["subject"] and f"O={ORG}" in j["subject"], j
    assert "serialNumber" not in j["subject"] and "title" not in j["subject"], j
    # Listing: verifikators and admin clients only.
    listed = http("GET", url(dep, "/api/v1/seals"), credential=dep.verifikator)
    assert listed.status == 200
    assert {"id_subscriber": j["id_subscriber"], "name": SEAL_NAME, "unit": UNIT,
            "status": "ISSUE", "certificate_serial": j["certificate_serial"],
            "not_after": j["not_after"]} in listed.json()
    assert http("GET", url(dep, "/api/v1/seals"), credential=dep.admin).status == 200
    assert http("GET", url(dep, "/api/v1/seals"), credential=dep.app).status == 403
    # The CLI acts as a named verifikator account too; an operator account may not.
    r = dep.run("seal", "issue", "--as", "verif-1", "--name", "Segel Dinas Kesehatan",
                "--unit", "Dinas Kesehatan", "--email", "kadinkes@contoh.go.id")
    assert r.returncode == 0, r.describe()
    cli_id = r.stdout.strip().splitlines()[-1]
    assert cli_id.startswith("seal-"), r.stdout
    r = dep.run("seal", "approve", "--as", "verif-1", cli_id)
    assert r.returncode != 0 and "verifikator lain" in r.stderr, r.describe()
    r = dep.run("seal", "approve", "--as", "verif-2", cli_id)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == cli_id, r.describe()
    r = dep.run("seal", "issue", "--as", "op-dpmptsp", "--name", "X", "--unit", UNIT,
                "--email", "x@contoh.go.id")
    assert r.returncode != 0 and "verifikator" in r.stderr, r.describe()
    r = dep.run("seal", "list")
    assert r.returncode == 0 and cli_id in r.stdout and j["id_subscriber"] in r.stdout, r.describe()
    assert "ISSUE" in r.stdout
    # The native API documents the seal endpoints.
    spec = http("GET", url(dep, "/api/v1/openapi.json")).json()
    assert "/api/v1/seals" in spec["paths"] and "/api/v1/seals/{id}/documents" in spec["paths"]


def test_activation_batch_code_and_three_licences(dep, files):
    sid = issue_seal(dep)
    activation = activation_code(dep, sid)
    # Refresh: still valid, answered with the code and its expiry (30 days), as ECS does.
    r = post(dep, "/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": activation})
    assert r.status == 200, r.body[:300]
    data = r.json()["data"]
    assert data["message"] == "TOTP Aktivasi masih berlaku" and data["result"] is True, data
    assert data["totp"] == activation
    expires = datetime.strptime(data["expires"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert timedelta(days=29) < expires - datetime.now(timezone.utc) <= timedelta(days=30), data

    batch = batch_code(dep, sid, activation, 3)
    originals = [files["izin-1"], files["izin-2"], files["izin-3"]]
    props = [{"tampilan": "VISIBLE", "page": "1", "originX": 300, "originY": 60, "width": 250,
              "height": 90, "reason": "Izin usaha", "location": "Kota Contoh"},
             {"tampilan": "INVISIBLE"}, {"tampilan": "INVISIBLE"}]
    outs = sealed_files(seal_pdf(dep, sid, batch, originals, props), originals)
    for i, pdf in enumerate(outs):
        path = outside_validators_accept(dep, pdf, f"izin-{i + 1}-sealed.pdf")
        assert_organisation_certificate(signer_certificate(pdf))
        if i == 0:
            text = page_text(path, 1)
            assert "Disegel secara elektronik oleh" in text and SEAL_NAME in text, text
            assert "Ditandatangani" not in text, text
    # A third party verifies; the signer DN is the organisation's.
    body, ctype = multipart({}, {"signed_file": ("izin.pdf", outs[1], "application/pdf")})
    j = http("POST", url(dep, "/api/sign/verify"), credential=dep.app, data=body,
             content_type=ctype).json()
    dn = j["details"][0]["info_signer"]["signer_dn"]
    assert f"CN={SEAL_NAME}" in dn and f"O={ORG}" in dn and "serialNumber" not in dn, j
    j = post(dep, "/api/v2/verify/pdf", {"file": b64(outs[2])}).json()
    assert j["conclusion"] == "VALID", j

    # The batch code covered three documents: not a fourth.
    r = seal_pdf(dep, sid, batch, [files["izin-1"]])
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]
    # A batch code is no activation code, and an activation code seals nothing directly.
    batch2 = batch_code(dep, sid, activation, 2)
    r = post(dep, "/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1, "totp": batch2})
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]
    r = seal_pdf(dep, sid, activation, [files["izin-1"]])
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]
    # One request may not take more than the batch holds; what it holds stays usable.
    r = seal_pdf(dep, sid, batch2, [files["izin-1"]] * 3)
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]
    sealed_files(seal_pdf(dep, sid, batch2, [files["izin-1"], files["izin-2"]]),
                 [files["izin-1"], files["izin-2"]])
    # Broken input is refused before the code is spent.
    batch3 = batch_code(dep, sid, activation, 1)
    r = post(dep, "/api/v2/seal/pdf", {"idSubscriber": sid, "totp": batch3,
                                       "file": [b64(b"%PDF-1.4 rusak")]})
    assert r.status == 400 and code_of(r) == 4031, r.body[:300]
    sealed_files(seal_pdf(dep, sid, batch3, [files["izin-3"]]), [files["izin-3"]])
    # Missing fields.
    r = post(dep, "/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1})
    assert r.status == 400 and code_of(r) == 4014
    r = post(dep, "/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 0, "totp": activation})
    assert r.status == 400 and code_of(r) == 4015
    r = post(dep, "/api/v2/seal/pdf", {"totp": batch3, "file": [b64(files["izin-1"])]})
    assert r.status == 400 and code_of(r) == 4014


def test_wrong_codes_lock_the_seal(dep, files):
    sid = issue_seal(dep, name="Segel Lockout")
    activation = activation_code(dep, sid)
    attempts = [
        ("/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": "AAAABBBBCCCC"}),
        ("/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1, "totp": "ZZZZZZZZZZZZ"}),
        ("/api/v2/seal/pdf", {"idSubscriber": sid, "totp": "12345678",
                              "file": [b64(files["izin-1"])]}),
        ("/api/v2/seal/revoke/activation", {"idSubscriber": sid, "totp": "23456789ABCD"}),
    ]
    # Two server processes on the same database take turns: the count is shared.
    second = dep.start_server()
    try:
        servers = [dep.servers[0].url, second.url]
        for i, (path, body) in enumerate(attempts):
            r = http("POST", servers[i % 2] + path, credential=dep.app, json_body=body)
            assert r.status == 400 and code_of(r) == 2033, (path, r.body[:300])
            assert f"{4 - i}" in r.json()["message"], r.json()
        # The fifth wrong code locks (max_failures = 5), across every endpoint and server
        # process: sent to the other process than the fourth.
        r = http("POST", servers[4 % 2] + "/api/v2/seal/get/totp", credential=dep.app,
                 json_body={"idSubscriber": sid, "data": 1, "totp": "QQQQQQQQQQQQ"})
        assert r.status == 400 and code_of(r) == 2032, r.body[:300]
        r = http("POST", servers[1] + "/api/v2/seal/get/totp", credential=dep.app,
                 json_body={"idSubscriber": sid, "data": 1, "totp": activation})
        assert r.status == 400 and code_of(r) == 2032, r.body[:300]
    finally:
        second.stop()
        dep.servers.remove(second)
    assert "terkunci" in r.json()["message"] and "WIB" in r.json()["message"], r.json()
    # Locked: even the right activation code does not help now.
    r = post(dep, "/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1, "totp": activation})
    assert r.status == 400 and code_of(r) == 2032, r.body[:300]
    # Another seal is not affected.
    other = issue_seal(dep, name="Segel Tetangga")
    batch_code(dep, other, activation_code(dep, other), 1)


def test_concurrent_wrong_seal_codes_never_exceed_the_limit(dep):
    """Security finding 3, for seal codes: the lock was checked, the code compared, and the
    failure counted afterwards, so concurrent guesses could exceed the limit. Each attempt is
    now reserved first: of 48 concurrent wrong codes at most 4 are answered "wrong" (2033)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    sid = issue_seal(dep, name="Segel Serentak")
    barrier = threading.Barrier(48)

    def guess(i):
        barrier.wait()
        return code_of(post(dep, "/api/v2/seal/get/totp",
                            {"idSubscriber": sid, "data": 1, "totp": f"TEBAK{i:07d}"}))

    with ThreadPoolExecutor(48) as pool:
        codes = list(pool.map(guess, range(48)))
    assert set(codes) <= {2032, 2033}, codes
    assert codes.count(2033) <= 4, f"{codes.count(2033)} wrong codes were checked: {codes}"


def test_revoking_the_activation_retires_every_code(dep, files):
    sid = issue_seal(dep, name="Segel Cabut Aktivasi")
    first = activation_code(dep, sid)
    pending = batch_code(dep, sid, first, 2)
    r = post(dep, "/api/v2/seal/revoke/activation", {"idSubscriber": sid, "totp": first})
    assert r.status == 200, r.body[:300]
    assert r.json() == {"success": True, "message": "TOTP Aktivasi berhasil dicabut", "data": None}
    for path, body in [
        ("/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": first}),
        ("/api/v2/seal/get/totp", {"idSubscriber": sid, "data": 1, "totp": first}),
        ("/api/v2/seal/pdf", {"idSubscriber": sid, "totp": pending, "file": [b64(files["izin-1"])]}),
    ]:
        r = post(dep, path, body)
        assert r.status == 400 and code_of(r) == 2033, (path, r.body[:300])
    # A new activation code works, and replaces the one before it.
    second = activation_code(dep, sid)
    assert second != first
    third = activation_code(dep, sid)
    r = post(dep, "/api/v2/seal/get/activation", {"idSubscriber": sid, "totp": second})
    assert r.status == 400 and code_of(r) == 2033
    batch = batch_code(dep, sid, third, 1)
    sealed_files(seal_pdf(dep, sid, batch, [files["izin-2"]]), [files["izin-2"]])


def test_a_revoked_or_suspended_seal_cannot_seal(dep, files):
    sid = issue_seal(dep, name="Segel Dicabut")
    activation = activation_code(dep, sid)
    batch = batch_code(dep, sid, activation, 2)
    sealed = sealed_files(seal_pdf(dep, sid, batch, [files["izin-1"]]), [files["izin-1"]])[0]
    serial = http("GET", url(dep, "/api/v1/seals"), credential=dep.verifikator).json()
    serial = next(s["certificate_serial"] for s in serial if s["id_subscriber"] == sid)
    time.sleep(1.2)  # revocation times are whole seconds
    r = dep.run("revoke", "--nik", sid, "--reason", "cessationOfOperation")
    assert r.returncode == 0, r.describe()
    r = seal_pdf(dep, sid, batch, [files["izin-1"]])
    assert r.status == 400 and code_of(r) == 2021 and "dicabut" in r.json()["message"], r.body[:300]
    r = post(dep, "/api/v2/seal/get/activation", {"idSubscriber": sid})
    assert r.status == 400 and code_of(r) == 2021
    # Revocation works unchanged: the CRL lists the seal's certificate, and the document sealed
    # before still verifies as made before the revocation.
    crl = dep.run("crl")
    text = run(["openssl", "crl", "-noout", "-text"], input=crl.stdout.encode()).stdout
    assert serial.upper().lstrip("0") in text.replace(":", "").upper(), text
    j = post(dep, "/api/v2/verify/pdf", {"file": b64(sealed)}).json()
    assert j["conclusion"] == "VALID", j
    listed = http("GET", url(dep, "/api/v1/seals"), credential=dep.verifikator).json()
    assert next(s["status"] for s in listed if s["id_subscriber"] == sid) == "REVOKE"

    # Suspension through the verifikator's lifecycle endpoint, then resumption.
    sid2 = issue_seal(dep, name="Segel Ditangguhkan")
    batch2 = batch_code(dep, sid2, activation_code(dep, sid2), 2)
    r = http("POST", url(dep, f"/api/v1/officials/{sid2}/suspend"), credential=dep.verifikator,
             json_body={"reason": "audit internal"})
    assert r.status == 200 and r.json()["status"] == "SUSPEND", r.body[:300]
    r = seal_pdf(dep, sid2, batch2, [files["izin-1"]])
    assert r.status == 400 and code_of(r) == 2021 and "ditangguhkan" in r.json()["message"]
    r = http("POST", url(dep, f"/api/v1/officials/{sid2}/resume"), credential=dep.verifikator)
    assert r.status == 200 and r.json()["status"] == "ISSUE"
    sealed_files(seal_pdf(dep, sid2, batch2, [files["izin-1"]]), [files["izin-1"]])


def test_native_endpoint_seals_one_document(dep, files):
    sid = issue_seal(dep, name="Segel Native")
    batch = batch_code(dep, sid, activation_code(dep, sid), 1)

    def native(seal_id, code, pdf, credential=None, **extra):
        request = {"totp": code, "placement": {"page": "last"}, "lang": "en", **extra}
        body, ctype = multipart({"request": json.dumps(request)},
                                {"file": ("izin.pdf", pdf, "application/pdf")})
        return http("POST", url(dep, f"/api/v1/seals/{seal_id}/documents"),
                    credential=credential or dep.app, data=body, content_type=ctype)

    r = native(sid, "00000000", files["izin-1"])
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]
    r = native("seal-tidakada", batch, files["izin-1"])
    assert r.status == 400 and code_of(r) == 2011, r.body[:300]
    r = native(sid, batch, files["izin-1"])
    assert r.status == 200, r.body[:400]
    info = r.json()
    assert set(info) == {"id", "sha256", "level", "field_name", "signed_at", "verification_url",
                         "download_url"}, info
    assert info["level"] == "B-LT"
    pdf = http("GET", info["download_url"], credential=dep.app)
    assert pdf.status == 200 and pdf.body.startswith(files["izin-1"])
    path = outside_validators_accept(dep, pdf.body, "native-sealed.pdf")
    text = page_text(path, 1)
    assert "Electronically sealed by" in text and "Segel Native" in text, text
    assert_organisation_certificate(signer_certificate(pdf.body), name="Segel Native")
    # Once only, and the batch of one is spent.
    assert http("GET", info["download_url"], credential=dep.app).status == 404
    r = native(sid, batch, files["izin-1"])
    assert r.status == 400 and code_of(r) == 2033
    page = http("GET", info["verification_url"])
    assert page.status == 200
    assert "Dokumen ini disegel secara elektronik" in page.body.decode() and "Segel Native" in page.body.decode()


def test_persons_are_not_seals(dep, files):
    person = dep.sahih.enroll(name="Rina Wulandari", passphrase="Kopi-Tubruk-Alun-Alun-2026")
    for path, body in [
        ("/api/v2/seal/get/activation", {"idSubscriber": person.nik}),
        ("/api/v2/seal/get/totp", {"idSubscriber": person.nik, "data": 1, "totp": "12345678"}),
        ("/api/v2/seal/pdf", {"idSubscriber": person.nik, "totp": "12345678",
                              "file": [b64(files["izin-1"])]}),
        ("/api/v2/seal/revoke/activation", {"idSubscriber": person.nik, "totp": "12345678"}),
    ]:
        r = post(dep, path, body)
        assert r.status == 400 and code_of(r) == 2011, (path, r.body[:300])
    # No activation code went to the person, and their lockout counter is untouched: they
    # still sign with their passphrase.
    assert not ACTIVATION_RE.findall(dep.run("outbox", person.email).stdout)
    r = post(dep, "/api/v2/sign/pdf", {"nik": person.nik, "passphrase": "Kopi-Tubruk-Alun-Alun-2026",
                                       "file": [b64(files["izin-1"])]})
    assert r.status == 200, r.body[:300]
    # A seal's batch code is no signing OTP for a person either.
    sid = issue_seal(dep, name="Segel Pembanding")
    batch = batch_code(dep, sid, activation_code(dep, sid), 1)
    r = post(dep, "/api/v2/sign/pdf", {"nik": person.nik, "passphrase": "Kopi-Tubruk-Alun-Alun-2026",
                                       "totp": batch, "file": [b64(files["izin-1"])]})
    assert r.status == 400 and code_of(r) == 2033, r.body[:300]


def test_person_endpoints_do_not_know_seals(dep, files):
    sid = issue_seal(dep, name="Segel Bukan Orang")
    st = post(dep, "/api/v2/user/check/status", {"nik": sid}).json()
    assert (st["status_code"], st["status"]) == (1110, "NOT_REGISTERED"), st
    r = post(dep, "/api/v2/sign/pdf", {"nik": sid, "passphrase": "apa saja passphrase-nya",
                                       "file": [b64(files["izin-1"])]})
    assert r.status == 400 and code_of(r) == 2011, r.body[:300]


def test_a_seal_does_not_shadow_a_person_by_email(dep, files):
    # The seal's responsible person is later enrolled as an official with the same e-mail.
    email = "kepala.dinkes@contoh.go.id"
    issue_seal(dep, name="Segel Dinas Kesehatan", unit="Dinas Kesehatan", email=email)
    passfile = dep.sahih.workdir / "pass-dinkes.txt"
    passfile.write_text("Es-Dawet-Ayu-Banjarnegara\n")
    r = dep.run("enroll", "--nik", "3171012501859001", "--nip", "198501252010011901",
                "--name", "dr. Ani Suryani", "--email", email, "--position",
                "Kepala Dinas Kesehatan", "--unit", "Dinas Kesehatan", "--passphrase-file", passfile)
    assert r.returncode == 0, r.describe()
    r = post(dep, "/api/v2/sign/pdf", {"email": email, "passphrase": "Es-Dawet-Ayu-Banjarnegara",
                                       "file": [b64(files["izin-1"])]})
    assert r.status == 200, r.body[:300]


def test_audit_chain_verifies_and_holds_no_code(dep):
    export = dep.run("audit", "export")
    assert export.returncode == 0, export.describe()
    entries = [json.loads(line) for line in export.stdout.splitlines()]
    actions = {e["action"] for e in entries}
    for a in ["seal.issue", "seal.activation", "seal.activation.revoke", "seal.totp", "seal.sign",
              "seal.code.wrong", "seal.lockout", "seal.refused", "sign"]:
        assert a in actions, a
    assert dep.codes, "the tests saw codes"
    for code in dep.codes:
        assert code not in export.stdout, "a code is in the audit log"
    # The issue entry names the verifikator account that acted.
    assert any(e["action"] == "seal.issue" and e["actor"] == "verif-1" for e in entries)
    assert dep.run("audit", "verify").returncode == 0
    # The database keeps only hashes of codes, bound to their purpose.
    rows = dep.sql("SELECT code_sha256, purpose FROM one_time_codes")
    for code in dep.codes:
        assert code not in rows
    purposes = {line.split("|")[1] for line in rows.splitlines()}
    assert {"seal-activation", "seal-batch"} <= purposes, purposes
    # And no seal key in the clear: master-key sealed.
    keys = dep.sql("SELECT c.sealed_key FROM certificates c JOIN officials o ON o.id = c.official_id "
                   "WHERE o.kind = 'seal'")
    assert keys and all(k.startswith("sahih-sealed-v1$master$") for k in keys.splitlines()), keys


# -- the seal's key in a PKCS#11 token -------------------------------------------------------

@pytest.fixture(scope="module")
def token_dep(sahih_bin, tmp_path_factory):
    for tool in ("softhsm2-util", "pkcs11-tool"):
        assert shutil.which(tool), f"{tool} not found: run scripts/install-test-deps.sh"
    assert Path(SOFTHSM_MODULE).exists(), f"{SOFTHSM_MODULE} missing: apt-get install softhsm2"
    base = tmp_path_factory.mktemp("seal-pkcs11")
    r = run([REPO / "scripts" / "softhsm-token.sh", base / "softhsm", TOKEN_LABEL, HSM_PIN,
             HSM_SO_PIN])
    assert r.returncode == 0, r.describe()
    conf = r.stdout.strip().splitlines()[-1].split("=", 1)[1]
    d = make_deployment(sahih_bin, base / "deployment", "sqlite",
                        config_edits={"backend": '"pkcs11"', "token_label": f'"{TOKEN_LABEL}"'},
                        extra_env={"SOFTHSM2_CONF": conf, "SAHIH_HSM_PIN": HSM_PIN})
    d.softhsm_conf = conf
    setup_clients(d)
    yield d
    d.close()


def test_seal_key_in_a_pkcs11_token(token_dep, files):
    dep = token_dep
    sid = issue_seal(dep)
    keys = dep.sql("SELECT c.sealed_key FROM certificates c JOIN officials o ON o.id = c.official_id "
                   f"WHERE o.nik = '{sid}'")
    assert re.fullmatch(r"pkcs11:id=[0-9a-f]+", keys), keys
    listed = run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", TOKEN_LABEL,
                  "--login", "--pin", HSM_PIN, "--list-objects", "--type", "privkey"],
                 env={"SOFTHSM2_CONF": dep.softhsm_conf})
    assert listed.returncode == 0 and f"sahih-official-{sid}" in listed.stdout, listed.describe()
    batch = batch_code(dep, sid, activation_code(dep, sid), 2)
    originals = [files["izin-1"], files["izin-2"]]
    for i, pdf in enumerate(sealed_files(seal_pdf(dep, sid, batch, originals), originals)):
        outside_validators_accept(dep, pdf, f"token-sealed-{i}.pdf")
        assert_organisation_certificate(signer_certificate(pdf))
    # A reference swapped in the database to another token key does not sign under the seal's
    # name: the key must match the seal's certificate.
    other = issue_seal(dep, name="Segel Lain")
    other_ref = dep.sql("SELECT c.sealed_key FROM certificates c JOIN officials o ON "
                        f"o.id = c.official_id WHERE o.nik = '{other}'")
    dep.sql(f"UPDATE certificates SET sealed_key = '{other_ref}' WHERE official_id = "
            f"(SELECT id FROM officials WHERE nik = '{sid}')")
    batch = batch_code(dep, sid, activation_code(dep, sid), 1)
    r = seal_pdf(dep, sid, batch, [files["izin-1"]])
    assert r.status == 500 and code_of(r) == 5000, r.body[:300]
    # Revoking a seal destroys its key in the token, as for officials.
    r = dep.run("revoke", "--nik", other, "--reason", "cessationOfOperation")
    assert r.returncode == 0, r.describe()
    listed = run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", TOKEN_LABEL,
                  "--login", "--pin", HSM_PIN, "--list-objects", "--type", "privkey"],
                 env={"SOFTHSM2_CONF": dep.softhsm_conf})
    assert listed.returncode == 0, listed.describe()
    assert f"sahih-official-{other}" not in listed.stdout and f"sahih-official-{sid}" in listed.stdout


def test_one_person_with_two_accounts_cannot_request_and_issue(dep):
    """Security finding 7: separation of duties held per account, so a person with a second
    verifikator account (same --person-nik) could request a seal and issue it."""
    twin = dep.add_client("verif-1-kedua", "--role", "verifikator", "--person-nik", VERIF_NIK)
    r = post(dep, "/api/v1/seals", {"name": "Segel Kembar Uji", "unit": UNIT,
                                    "email": "kembar@contoh.go.id"}, dep.verifikator)
    assert r.status == 202, r.body[:400]
    sid = r.json()["id_subscriber"]
    r = post(dep, f"/api/v1/seals/{sid}/approve", {}, twin)
    assert r.status == 403, r.body[:400]
    # Another person may.
    r = post(dep, f"/api/v1/seals/{sid}/approve", {}, dep.verifikator2)
    assert r.status == 201, r.body[:400]
