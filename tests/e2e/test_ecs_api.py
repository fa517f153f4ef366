"""Contract tests of the ECS-compatible API (issue 4) over real HTTP, on SQLite + local directory
and on PostgreSQL + S3 (moto): request and response shapes as in ../shared/reference/ecs-api.md,
multipart from real clients (curl and Python), every signed PDF checked by pdfsig and pyHanko,
the document-class policy, the audit chain and bad input.
"""
from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, assert_no_panic
from ecs_support import (BACKENDS, b64, ecs_error, http, make_deployment, multipart)
from validators import pdfsig, pyhanko_validate, qpdf_check, run

PYHANKO = REPO / ".venv" / "bin" / "pyhanko"
NIK = "3171012501850003"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    # A small body limit so the 413 test needs only a few MB.
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"ecs-{request.param}"), request.param,
                        config_edits={"max_body_mib": 4})
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003")
    d.credential = d.add_client("eoffice")
    nss = d.sahih.workdir / "nss"
    nss.mkdir()
    run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
    run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", d.sahih.root_pem])
    d.nss = nss
    yield d
    d.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "libreoffice.pdf").read_bytes()


def url(dep, path):
    return dep.servers[0].url + path


def assert_outside_validators_accept(dep, pdf: bytes, name: str, n_signatures: int = 1):
    path = dep.sahih.workdir / name
    path.write_bytes(pdf)
    q = qpdf_check(path)
    assert q.clean, q.run.describe()
    ps = pdfsig(path, dep.nss)
    assert len(ps.signatures) >= n_signatures, ps.run.describe()
    assert all(s.valid and s.trusted for s in ps.signatures[:n_signatures]), ps.run.describe()
    # B-LT (the ECS default level here): pyHanko's AdES validation from the embedded data only.
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", path])
    assert v.returncode == 0 and "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>" in v.stdout, v.describe()
    ph = pyhanko_validate(path, dep.sahih.root_pem)
    assert all(s.intact and s.valid and s.trusted for s in ph.signatures), ph.run.describe()
    return path


# -- v1 ----------------------------------------------------------------------------------------

def test_v1_sign_with_curl_multipart_then_download_once(dep, letter, tmp_path):
    src = tmp_path / "surat.pdf"
    src.write_bytes(letter)
    out = tmp_path / "signed.pdf"
    hdr = tmp_path / "headers.txt"
    r = run(["curl", "-sS", "-u", dep.credential, "-D", hdr, "-o", out,
             "-F", f"file=@{src};type=application/pdf", "-F", f"nik={NIK}",
             "-F", "passphrase=Rahasia-Negara-2026!", "-F", "tampilan=visible",
             "-F", "tag_koordinat=Kepala Dinas Komunikasi dan Informatika",
             "-F", "width=220", "-F", "height=80", "-F", "reason=Naskah dinas",
             "-F", "location=Kota Contoh", url(dep, "/api/sign/pdf")])
    assert r.returncode == 0, r.describe()
    headers = hdr.read_text()
    assert headers.startswith("HTTP/1.1 200"), headers
    assert "content-type: application/pdf" in headers.lower()
    m = re.search(r"(?im)^id_dokumen: (\S+)", headers)
    assert m, headers
    doc_id = m.group(1)
    signed = out.read_bytes()
    assert signed.startswith(letter), "incremental update: the original bytes come first"
    path = assert_outside_validators_accept(dep, signed, "v1-visible.pdf")
    ph = pyhanko_validate(path, dep.sahih.root_pem)
    assert ph.signatures[0].reason == "Naskah dinas"
    assert ph.signatures[0].widget_rect is not None

    # Another application can neither take nor burn it.
    other = dep.add_client("aplikasi-lain")
    assert http("GET", url(dep, f"/api/sign/download/{doc_id}"), credential=other).status == 404
    first = http("GET", url(dep, f"/api/sign/download/{doc_id}"), credential=dep.credential)
    assert first.status == 200 and first.body == signed
    second = http("GET", url(dep, f"/api/sign/download/{doc_id}"), credential=dep.credential)
    assert second.status == 404
    code, text = ecs_error(second)
    assert code == 4044 and "belum di download" in text


def test_v1_sign_coordinates_invisible_qr_link_and_base64(dep, letter):
    base = {"nik": NIK, "passphrase": "Rahasia-Negara-2026!"}
    cases = [
        {"tampilan": "VISIBLE", "page": "1", "xAxis": "300", "yAxis": "100", "width": "220",
         "height": "80", "linkQR": "https://eoffice.contoh.go.id/dokumen/123"},
        {"tampilan": "visible", "halaman": "TERAKHIR", "xAxis": "50", "yAxis": "50",
         "width": "230", "height": "80", "text": "No. 800/123/2026"},
        {"tampilan": "invisible"},
    ]
    for i, extra in enumerate(cases):
        body, ctype = multipart({**base, **extra, "jenis_response": "BASE64"},
                                {"file": ("surat.pdf", letter, "application/pdf")})
        r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body,
                 content_type=ctype)
        assert r.status == 200, r.body[:500]
        j = r.json()
        assert set(j) >= {"base64_signed_file", "id_dokumen"}, j
        import base64 as _b
        signed = _b.b64decode(j["base64_signed_file"])
        path = assert_outside_validators_accept(dep, signed, f"v1-case{i}.pdf")
        ph = pyhanko_validate(path, dep.sahih.root_pem)
        rect = ph.signatures[0].widget_rect
        if extra["tampilan"].lower() == "invisible":
            assert rect is None or rect[2] - rect[0] == 0, rect
        else:
            w = float(extra["width"])
            assert rect and abs((rect[2] - rect[0]) - w) < 0.5, rect
        if "text" in extra:
            from validators import page_count, page_text
            assert extra["text"] in page_text(path, page_count(path)), "v1 text is a line of the stamp"
        if "linkQR" in extra:
            from validators import decode_qr, render_page
            png = render_page(path, 1, 150, path.with_suffix(""))
            codes, _ = decode_qr(png)
            assert any(c.text == extra["linkQR"] for c in codes), codes


def test_v1_verify_response_shape(dep, letter, tmp_path):
    body, ctype = multipart({"nik": NIK, "passphrase": "Rahasia-Negara-2026!", "tampilan": "invisible"},
                            {"file": ("a.pdf", letter, "application/pdf")})
    signed = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body,
                  content_type=ctype).body
    for name, content, expect in [("ttd.pdf", signed, "VALID"), ("asli.pdf", letter, None)]:
        body, ctype = multipart({}, {"signed_file": (name, content, "application/pdf")})
        r = http("POST", url(dep, "/api/sign/verify"), credential=dep.credential, data=body,
                 content_type=ctype)
        assert r.status == 200, r.body
        j = r.json()
        assert j["nama_dokumen"] == name
        assert j["summary"] == expect, j
        if expect:
            assert j["jumlah_signature"] == 1 and j["notes"].startswith("Dokumen valid"), j
            d = j["details"][0]
            assert set(d) >= {"signature_field", "info_tsa", "info_signer", "signature_document"}
            assert d["info_signer"]["cert_user_certified"] is True
            assert d["signature_document"]["document_integrity"] is True
            assert d["signature_document"]["signed_using_tsa"] is True
            assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d$", d["signature_document"]["signed_in"])
        else:
            assert j["jumlah_signature"] == 0 and j["details"] == [], j
    # A changed byte inside the signed range: not valid, integrity false.
    tampered = bytearray(signed)
    i = tampered.index(b"/Type /Page") if b"/Type /Page" in tampered else 200
    tampered[i + 1] ^= 0x01
    body, ctype = multipart({}, {"signed_file": ("x.pdf", bytes(tampered), "application/pdf")})
    j = http("POST", url(dep, "/api/sign/verify"), credential=dep.credential, data=body,
             content_type=ctype).json()
    assert j["summary"] != "VALID", j


def test_user_status_v1_and_v2(dep):
    r = http("GET", url(dep, f"/api/user/status/{NIK}"), credential=dep.credential)
    assert r.status == 200
    assert r.json()["status_code"] == 1111 and r.json()["status"] == "ISSUE"
    assert "status ISSUE" in r.json()["message"]
    r = http("GET", url(dep, "/api/user/status/3171019999999999"), credential=dep.credential)
    assert r.json() == {**r.json(), "status_code": 1110, "status": "NOT_REGISTERED",
                        "message": "User belum terdaftar"}
    for body in ({"nik": NIK}, {"email": dep.official.email}):
        j = http("POST", url(dep, "/api/v2/user/check/status"), credential=dep.credential,
                 json_body=body).json()
        assert j["status"] == "ISSUE" and j["userStatus"] == "ISSUE" and j["data"]["status"] == "ISSUE", j


# -- v2 ----------------------------------------------------------------------------------------

def test_v2_bulk_sign_one_for_all_and_per_file(dep, letter, corpus):
    other = (corpus / "reportlab.pdf").read_bytes()
    files = [letter, other, letter]
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
        "nik": NIK, "passphrase": "Rahasia-Negara-2026!",
        "signatureProperties": [{"tampilan": "INVISIBLE", "reason": "Lampiran", "location": "Kota Contoh"}],
        "file": [b64(f) for f in files]})
    assert r.status == 200, r.body[:500]
    j = r.json()
    assert isinstance(j["time"], int) and len(j["file"]) == 3
    import base64 as _b
    for i, (orig, s) in enumerate(zip(files, j["file"])):
        signed = _b.b64decode(s)
        assert signed.startswith(orig), f"file {i}: response order must be request order"
        assert_outside_validators_accept(dep, signed, f"v2-bulk-{i}.pdf")

    # One entry per file, by e-mail, with the juknis' `tag` spelling and page-based placement.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
        "email": dep.official.email, "passphrase": "Rahasia-Negara-2026!",
        "signatureProperties": [
            {"tampilan": "VISIBLE", "tag": "Kepala Dinas Komunikasi dan Informatika", "width": 200, "height": 70},
            {"tampilan": "VISIBLE", "page": 1, "originX": 40, "originY": 40, "width": 180, "height": 60},
        ],
        "file": [b64(letter), b64(other)]})
    assert r.status == 200, r.body[:500]
    for i, s in enumerate(r.json()["file"]):
        path = assert_outside_validators_accept(dep, _b.b64decode(s), f"v2-per-file-{i}.pdf")
        rect = pyhanko_validate(path, dep.sahih.root_pem).signatures[0].widget_rect
        assert rect and abs((rect[2] - rect[0]) - (200 if i == 0 else 180)) < 0.5, rect

    # Mismatched properties count: a clear 400.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
        "nik": NIK, "passphrase": "x", "signatureProperties": [{}, {}], "file": [b64(letter)] * 3})
    assert r.status == 400 and ecs_error(r)[0] == 4015


def test_v2_verify_response_shape(dep, letter):
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
        "nik": NIK, "passphrase": "Rahasia-Negara-2026!", "file": [b64(letter)]})
    signed = r.json()["file"][0]
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.credential,
             json_body={"file": signed}).json()
    assert j["conclusion"] == "VALID" and j["signatureCount"] == 1, j
    info = j["signatureInformations"][0]
    for key in ("id", "signatureFormat", "signerName", "signatureDate", "fieldName", "reason",
                "location", "certLevelCode", "signatureAlgorithm", "digestAlgorithm",
                "timestampInfomation", "certificateDetails", "integrityValid",
                "certificateTrusted", "lastSignature"):
        assert key in info, key
    assert info["integrityValid"] and info["certificateTrusted"] and info["lastSignature"]
    assert info["timestampInfomation"]["timestampDate"].endswith("Z")
    cd = info["certificateDetails"][0]
    assert set(cd) >= {"commonName", "issuerName", "serialNumber", "notBeforeDate", "notAfterDate",
                       "signatureAlgoritm", "keyUsages"}
    assert "nonRepudiation" in cd["keyUsages"]
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.credential,
             json_body={"file": b64(letter)}).json()
    assert j["conclusion"] == "NO_SIGNATURE" and j["signatureCount"] == 0, j


# -- errors ------------------------------------------------------------------------------------

def test_errors_are_ecs_shaped_never_500(dep, letter):
    good = {"nik": NIK, "passphrase": "Rahasia-Negara-2026!", "tampilan": "invisible"}

    def v1(fields, files=None):
        files = files if files is not None else {"file": ("a.pdf", letter, "application/pdf")}
        body, ctype = multipart(fields, files)
        return http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body,
                    content_type=ctype)

    # Wrong credentials, unknown client, no header: 401 with a Basic challenge.
    user = dep.credential.split(":")[0]
    for cred in (f"{user}:wrong", "nobody:secret", None):
        r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=cred, json_body={})
        assert r.status == 401 and r.headers.get("www-authenticate", "").startswith("Basic"), r
        assert ecs_error(r)[0] == 4011
    # Unknown NIK: 2011 with the ECS text.
    r = v1({**good, "nik": "3171019999999999"})
    code, text = ecs_error(r)
    assert (r.status, code) == (400, 2011) and "Proses signing gagal : User tidak terdaftar 2011" == text
    # Missing fields: 4014 "... harus diisi".
    for missing in ("nik", "passphrase"):
        r = v1({k: v for k, v in good.items() if k != missing})
        assert r.status == 400 and ecs_error(r)[0] == 4014 and "harus diisi" in r.json()["error"]
    r = v1(good, files={})
    assert r.status == 400 and ecs_error(r)[0] == 4014
    # Not a PDF, truncated PDF: 4031, and no passphrase attempt spent. Sent six times each
    # with a WRONG passphrase: were any attempt counted, the key would lock (five allowed)
    # and the right passphrase below would get 2032, not a signature.
    wrong = dict(good, passphrase="Passphrase-Salah-Sekali")
    for bad in (b"GIF89a not a pdf", letter[: len(letter) // 3]):
        for _ in range(6):
            r = v1(wrong, files={"file": ("a.pdf", bad, "application/pdf")})
            assert r.status == 400 and ecs_error(r)[0] == 4031, r.body
    r = v1(good)
    assert r.status == 200 and r.body.startswith(b"%PDF"), r.body[:300]
    entries = [json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()]
    assert not [e for e in entries[-20:] if e["action"] in ("passphrase.wrong", "passphrase.lockout")
                and NIK in e["actor"]], entries[-20:]
    # Malformed base64 and malformed JSON in v2.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={"nik": NIK, "passphrase": "x", "file": ["%%%not base64%%%"]})
    assert r.status == 400 and ecs_error(r)[0] == 4015
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             data=b"{not json", content_type="application/json")
    assert r.status == 400 and ecs_error(r)[0] == 4015
    # Oversized body (limit 4 MiB in this deployment): 413, clear. The server answers before
    # reading the body and closes the connection; curl reads that answer while still sending
    # (Python's urllib would report the broken pipe instead).
    big = dep.sahih.workdir / "big.json"
    big.write_text(json.dumps({"nik": NIK, "passphrase": "x",
                               "file": [b64(b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024))]}))
    body, ctype = multipart(good, {"file": ("big.pdf", b"0" * (5 * 1024 * 1024), "application/pdf")})
    bigmp = dep.sahih.workdir / "big.multipart"
    bigmp.write_bytes(body)
    for path, data, content_type in (("/api/v2/sign/pdf", big, "application/json"),
                                     ("/api/sign/pdf", bigmp, ctype)):
        out = dep.sahih.workdir / "413.json"
        r = run(["curl", "-s", "-o", out, "-w", "%{http_code}", "-u", dep.credential,
                 "-H", f"Content-Type: {content_type}", "--data-binary", f"@{data}", url(dep, path)])
        assert r.stdout.strip() == "413", (path, r.describe())
        j = json.loads(out.read_text())
        assert j["status_code"] == 413 and j["error"].endswith("4131"), j
    # Unknown path: JSON 404, not a stack trace.
    r = http("GET", url(dep, "/api/nothing"), credential=dep.credential)
    assert r.status == 404 and r.json()["status_code"] == 404
    # TOTP without a passphrase: explained, not a crash.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={"nik": NIK, "totp": "123456", "file": [b64(letter)]})
    assert r.status == 400 and "passphrase" in r.json()["error"].lower()
    log = dep.servers[0].log.read_text(errors="replace")
    assert "panicked" not in log and '"status":500' not in log, log[-2000:]
    assert "Rahasia-Negara-2026!" not in log


def test_wrong_passphrase_is_2031_then_lockout(dep, letter):
    official = dep.sahih.enroll(passphrase="Passphrase-Lain-2026")
    body_of = lambda p: multipart({"nik": official.nik, "passphrase": p, "tampilan": "invisible"},
                                  {"file": ("a.pdf", letter, "application/pdf")})
    codes = []
    for _ in range(5):
        body, ctype = body_of("salah-salah-salah")
        r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
        codes.append(ecs_error(r)[0])
    assert codes[:4] == [2031] * 4 and codes[4] == 2032, codes
    # Locked: even the right passphrase is refused now.
    body, ctype = body_of("Passphrase-Lain-2026")
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert ecs_error(r)[0] == 2032 and "terkunci" in r.json()["error"]


def test_concurrent_wrong_passphrases_never_exceed_the_limit(dep, letter):
    """Security finding 3: the lock was checked, Argon2 ran, and the failure was counted
    afterwards, so bursts of 24/64/96 concurrent guesses had 16/52/72 checked in one lock window.
    Now each attempt is reserved before the check: of 96 concurrent wrong passphrases at most
    4 are answered "wrong" (2031) and the fifth locks; everything else is refused as locked."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    official = dep.sahih.enroll(passphrase="Passphrase-Benar-Serentak-2026")
    barrier = threading.Barrier(96)

    def guess(i):
        barrier.wait()
        r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
                 json_body={"nik": official.nik, "passphrase": f"tebakan-{i}", "file": [b64(letter)]})
        return ecs_error(r)[0]

    with ThreadPoolExecutor(96) as pool:
        codes = list(pool.map(guess, range(96)))
    assert set(codes) <= {2031, 2032}, codes
    assert codes.count(2031) <= 4, f"{codes.count(2031)} wrong passphrases were checked: {codes}"
    # Locked now: the right passphrase is refused too.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={"nik": official.nik, "passphrase": "Passphrase-Benar-Serentak-2026",
                        "file": [b64(letter)]})
    assert ecs_error(r)[0] == 2032, r.body[:300]


def test_concurrent_right_passphrases_all_sign(dep, letter):
    """The reservation above counts attempts in flight; an app that signs many documents for
    one official at once must still get every one signed (it used to get some refused as
    locked, 2032, whenever more than five were in flight)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    official = dep.sahih.enroll(passphrase="Passphrase-Benar-Bersamaan-2026")
    barrier = threading.Barrier(16)

    def sign(i):
        barrier.wait()
        return http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
                    json_body={"nik": official.nik, "passphrase": "Passphrase-Benar-Bersamaan-2026",
                               "file": [b64(letter)]}).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(sign, range(16)))
    assert statuses == [200] * 16, statuses


# -- policy ------------------------------------------------------------------------------------

def test_policy_forbidden_class_refused_with_rule_allowed_class_signed(dep, letter):
    r = dep.run("policy", "load", REPO / "policies" / "kota-larangan-keuangan.toml")
    assert r.returncode == 0, r.describe()
    finance = dep.add_client("keuangan-app", "--class", "dokumen-pencairan")
    letters = dep.add_client("surat-app", "--class", "surat-dinas")
    req = {"nik": NIK, "passphrase": "Rahasia-Negara-2026!", "file": [b64(letter)]}
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=finance, json_body=req)
    assert r.status == 403, r.body
    code, text = ecs_error(r)
    assert code == 2041 and "Dokumen Pencairan Dana" in text and "Pasal 9" in text, text
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=letters, json_body=req)
    assert r.status == 200, r.body[:300]
    # The class can also be named per request (Sahih extension field).
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=letters,
             json_body={**req, "kelasDokumen": "dokumen-anggaran"})
    assert r.status == 403 and "Dokumen Anggaran" in r.json()["error"]
    exported = dep.run("audit", "export")
    entries = [json.loads(l) for l in exported.stdout.splitlines()]
    refused = [e for e in entries if e["action"] == "sign.refused"]
    assert any(e["client"] == "keuangan-app" and "dokumen-pencairan" in e["detail"] for e in refused)
    # Back to the permissive-for-letters state for the other tests in this module.
    assert dep.run("policy", "load", REPO / "policies" / "kabupaten-wajib-keuangan-kepegawaian.toml").returncode == 0


# -- audit -------------------------------------------------------------------------------------

def test_audit_chain_records_and_detects_tampering(dep):
    r = dep.run("audit", "anchor")
    assert r.returncode == 0, r.describe()
    r = dep.run("audit", "verify")
    assert r.returncode == 0 and ("utuh" in r.stdout), r.describe()
    entries = [json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()]
    actions = {e["action"] for e in entries}
    assert {"enroll", "client.add", "sign", "verify", "passphrase.wrong", "passphrase.lockout",
            "policy.replace", "sign.refused"} <= actions, actions
    blob = json.dumps(entries)
    assert "Rahasia-Negara-2026!" not in blob and "Passphrase-Lain-2026" not in blob
    n = len(entries)
    assert n >= 10
    mid = n // 2

    def expect_broken(seq):
        r = dep.run("audit", "verify")
        assert r.returncode == 1, r.describe()
        assert f"#{seq}" in r.stderr, r.describe()

    # Edit one field of one entry.
    original = dep.sql(f"SELECT result FROM audit_log WHERE seq = {mid}")
    dep.sql(f"UPDATE audit_log SET result = 'tampered' WHERE seq = {mid}")
    expect_broken(mid)
    dep.sql(f"UPDATE audit_log SET result = '{original}' WHERE seq = {mid}")
    assert dep.run("audit", "verify").returncode == 0
    # Reorder: swap the contents of two neighbours.
    dep.sql(f"UPDATE audit_log SET seq = -1 WHERE seq = {mid}")
    dep.sql(f"UPDATE audit_log SET seq = {mid} WHERE seq = {mid + 1}")
    dep.sql(f"UPDATE audit_log SET seq = {mid + 1} WHERE seq = -1")
    expect_broken(mid)
    dep.sql(f"UPDATE audit_log SET seq = -1 WHERE seq = {mid}")
    dep.sql(f"UPDATE audit_log SET seq = {mid} WHERE seq = {mid + 1}")
    dep.sql(f"UPDATE audit_log SET seq = {mid + 1} WHERE seq = -1")
    assert dep.run("audit", "verify").returncode == 0
    # Delete one entry.
    dep.sql(f"DELETE FROM audit_log WHERE seq = {mid}")
    expect_broken(mid)


def test_v2_totp_is_a_second_factor_delivered_through_the_outbox(dep, letter):
    official = dep.sahih.enroll(passphrase="Passphrase-Totp-2026")
    r = http("POST", url(dep, "/api/v2/sign/get/totp"), credential=dep.credential,
             json_body={"email": official.email, "data": 2})
    assert r.status == 200 and r.json()["success"] is True, r.body
    out = dep.run("outbox", official.email)
    assert out.returncode == 0, out.describe()
    m = re.search(r"Kode OTP Anda: (\d{6})", out.stdout)
    assert m, out.stdout
    code = m.group(1)
    req = {"nik": official.nik, "passphrase": "Passphrase-Totp-2026", "file": [b64(letter)] * 2}
    # The code alone does not sign: the passphrase unlocks the key, and the answer says so
    # (without spending the code).
    alone = {k: v for k, v in req.items() if k != "passphrase"}
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={**alone, "totp": code})
    assert r.status == 400 and ecs_error(r)[0] == 4015, r.body
    assert "passphrase untuk membuka kunci" in r.json()["message"] and "TOTP saja tidak cukup" in r.json()["message"]
    # A wrong code is refused (and counts towards the lockout); the right one signs 2 files once.
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
             json_body={**req, "totp": "000000" if code != "000000" else "111111"})
    assert r.status == 400 and ecs_error(r)[0] == 2033, r.body
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={**req, "totp": code})
    assert r.status == 200 and len(r.json()["file"]) == 2, r.body[:300]
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={**req, "otp": code})
    assert r.status == 400 and ecs_error(r)[0] == 2033, "a spent code must not sign again"
    # The code must not be logged. Hashes and ids are long hex/base32 runs that can contain any six
    # digits by chance, so look for the code as a token of its own, not as a substring.
    exported = json.dumps([json.loads(l) for l in dep.run("audit", "export").stdout.splitlines()])
    assert not re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", exported), exported


def _pixel_at(pdf_path, x_pt, y_pt, dpi=72):
    """RGB of the rendered page 1 at a point given in PDF points from the lower left."""
    from PIL import Image
    from validators import render_page
    png = render_page(pdf_path, 1, dpi, pdf_path.with_suffix(""))
    im = Image.open(png).convert("RGB")
    scale = dpi / 72
    return im.getpixel((int(x_pt * scale), int(im.height - y_pt * scale)))


def test_specimen_images_png_v1_and_jpeg_v2(dep, letter, tmp_path):
    import io
    from PIL import Image
    # A red specimen with a transparent margin (PNG, RGBA) and a blue one (JPEG).
    im = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    im.paste((220, 20, 20, 255), (20, 10, 180, 70))
    png = io.BytesIO()
    im.save(png, "PNG")
    jpg = io.BytesIO()
    Image.new("RGB", (100, 40), (20, 20, 220)).save(jpg, "JPEG", quality=95)

    body, ctype = multipart({"nik": NIK, "passphrase": "Rahasia-Negara-2026!", "tampilan": "visible",
                             "image": "true", "page": "1", "xAxis": "300", "yAxis": "100",
                             "width": "200", "height": "80"},
                            {"file": ("a.pdf", letter, "application/pdf"),
                             "imageTTD": ("ttd.png", png.getvalue(), "image/png")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 200, r.body[:300]
    path = assert_outside_validators_accept(dep, r.body, "specimen-png.pdf")
    assert _pixel_at(path, 400, 140)[0] > 180 and _pixel_at(path, 400, 140)[2] < 80  # red centre
    assert min(_pixel_at(path, 305, 105)) > 200  # transparent margin: white background

    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body={
        "nik": NIK, "passphrase": "Rahasia-Negara-2026!",
        "signatureProperties": [{"tampilan": "VISIBLE", "imageBase64": b64(jpg.getvalue()), "page": 1,
                                 "originX": 100, "originY": 100, "width": 100, "height": 40}],
        "file": [b64(letter)]})
    assert r.status == 200, r.body[:300]
    import base64 as _b
    path = assert_outside_validators_accept(dep, _b.b64decode(r.json()["file"][0]), "specimen-jpg.pdf")
    px = _pixel_at(path, 150, 120)
    assert px[2] > 180 and px[0] < 80, px
    # Not an image, or image=true without one: clear 4015 / 4014.
    body, ctype = multipart({"nik": NIK, "passphrase": "x", "tampilan": "visible", "image": "true"},
                            {"file": ("a.pdf", letter, "application/pdf"),
                             "imageTTD": ("x.png", b"not an image", "image/png")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 400 and ecs_error(r)[0] == 4015, r.body
    body, ctype = multipart({"nik": NIK, "passphrase": "x", "tampilan": "visible", "image": "true"},
                            {"file": ("a.pdf", letter, "application/pdf")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 400 and ecs_error(r)[0] == 4014, r.body


def test_suspend_and_resume(dep, letter):
    official = dep.sahih.enroll(passphrase="Passphrase-Jeda-2026")
    req = {"nik": official.nik, "passphrase": "Passphrase-Jeda-2026", "file": [b64(letter)]}
    first = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    assert first.status == 200
    import time as _t
    _t.sleep(1.1)  # revocation times are whole seconds: suspend in a later one, as in life
    r = dep.run("suspend", "--nik", official.nik, "--reason", "pemeriksaan inspektorat")
    assert r.returncode == 0, r.describe()
    st = http("GET", url(dep, f"/api/user/status/{official.nik}"), credential=dep.credential).json()
    assert (st["status_code"], st["status"]) == (1115, "SUSPEND"), st
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    code, text = ecs_error(r)
    assert code == 2021 and "ditangguhkan" in text, text
    # Certificate status services: OCSP says revoked (certificateHold), the CRL lists it.
    deadline = _t.time() + 10
    while True:
        o = dep.run("ocsp", "check", "--nik", official.nik, "--url", url(dep, "/ocsp"))
        if "certificateHold" in o.stdout or _t.time() > deadline:
            break
        _t.sleep(0.5)
    assert "revoked" in o.stdout and "certificateHold" in o.stdout, o.describe()
    crl = dep.run("crl")
    text = run(["openssl", "crl", "-noout", "-text"], input=crl.stdout.encode()).stdout
    assert "Certificate Hold" in text, text
    # During the hold, the signature made before it still verifies (its timestamp predates the
    # hold), while the hold itself is reported.
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.credential,
             json_body={"file": first.json()["file"][0]}).json()
    assert j["conclusion"] == "VALID", j
    # Resumed: signs again, OCSP good, and the signature made before the hold verifies.
    assert dep.run("resume", "--nik", official.nik).returncode == 0
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    assert r.status == 200, r.body[:300]
    deadline = _t.time() + 10
    while True:
        o = dep.run("ocsp", "check", "--nik", official.nik, "--url", url(dep, "/ocsp"))
        if o.stdout.startswith("good") or _t.time() > deadline:
            break
        _t.sleep(0.5)
    assert o.stdout.startswith("good"), o.describe()
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.credential,
             json_body={"file": first.json()["file"][0]}).json()
    assert j["conclusion"] == "VALID", j
    actions = [json.loads(l)["action"] for l in dep.run("audit", "export").stdout.splitlines()]
    assert "suspend" in actions and "resume" in actions


def test_reissue_on_change_of_position_keeps_old_signatures_valid(dep, letter):
    official = dep.sahih.enroll(position="Kepala Bidang Persandian", passphrase="Passphrase-Mutasi-2026")
    req = {"nik": official.nik, "passphrase": "Passphrase-Mutasi-2026", "file": [b64(letter)]}
    before = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    assert before.status == 200
    # Revocation times have whole-second precision (CRL/OCSP GeneralizedTime): a revocation in
    # the same second as the signature cannot be ordered after it.
    import time as _t
    _t.sleep(1.2)
    wrong = dep.sahih.workdir / "wrong-pass.txt"
    wrong.write_text("bukan-passphrase-nya\n")
    r = dep.run("reissue", "--nik", official.nik, "--position", "Kepala Dinas", "--passphrase-file", wrong)
    assert r.returncode != 0 and "salah" in r.stderr.lower(), r.describe()
    r = dep.run("reissue", "--nik", official.nik, "--position", "Kepala Dinas Komunikasi dan Informatika",
                "--reason", "affiliationChanged", "--passphrase-file", official.passfile)
    assert r.returncode == 0, r.describe()
    after = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    assert after.status == 200, after.body[:300]
    import base64 as _b
    new_path = dep.sahih.workdir / "after-reissue.pdf"
    new_path.write_bytes(_b.b64decode(after.json()["file"][0]))
    body, ctype = multipart({}, {"signed_file": ("baru.pdf", new_path.read_bytes(), "application/pdf")})
    j = http("POST", url(dep, "/api/sign/verify"), credential=dep.credential, data=body, content_type=ctype).json()
    assert "title=Kepala Dinas Komunikasi dan Informatika" in j["details"][0]["info_signer"]["signer_dn"], j
    # The signature made before the re-issue still verifies: it was made (and timestamped)
    # before the old certificate was revoked, and it carries its own validation data.
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.credential,
             json_body={"file": before.json()["file"][0]}).json()
    assert j["conclusion"] == "VALID", j
    old_path = dep.sahih.workdir / "before-reissue.pdf"
    old_path.write_bytes(_b.b64decode(before.json()["file"][0]))
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", old_path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()
    st = http("GET", url(dep, f"/api/user/status/{official.nik}"), credential=dep.credential).json()
    assert st["status"] == "ISSUE"


def test_image_flag_as_php_clients_send_it(dep, letter):
    """Issue 14: a PHP client (Guzzle) sends PHP `true` as `image=1`; Sahih used to read only the
    literal `true`, answer 200 and stamp its own QR code instead of the official's specimen.
    Now `1`, `TRUE` and `on` draw the specimen, and an unreadable flag is a clear 400."""
    import io
    from PIL import Image
    png = io.BytesIO()
    Image.new("RGB", (200, 80), (220, 20, 20)).save(png, "PNG")
    for flag in ("1", "TRUE", "on"):
        body, ctype = multipart({"nik": NIK, "passphrase": "Rahasia-Negara-2026!", "tampilan": "visible",
                                 "image": flag, "page": "1", "xAxis": "300", "yAxis": "100",
                                 "width": "200", "height": "80"},
                                {"file": ("a.pdf", letter, "application/pdf"),
                                 "imageTTD": ("ttd.png", png.getvalue(), "image/png")})
        r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body,
                 content_type=ctype)
        assert r.status == 200, (flag, r.body[:300])
        path = dep.sahih.workdir / f"specimen-flag-{flag}.pdf"
        path.write_bytes(r.body)
        px = _pixel_at(path, 400, 140)
        assert px[0] > 180 and px[2] < 80, (flag, px, "the specimen, not a QR code")
    # `image=1` without the image is refused as `image=true` is.
    body, ctype = multipart({"nik": NIK, "passphrase": "x", "tampilan": "visible", "image": "1"},
                            {"file": ("a.pdf", letter, "application/pdf")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 400 and ecs_error(r)[0] == 4014, r.body
    body, ctype = multipart({"nik": NIK, "passphrase": "x", "tampilan": "visible", "image": "mungkin"},
                            {"file": ("a.pdf", letter, "application/pdf")})
    r = http("POST", url(dep, "/api/sign/pdf"), credential=dep.credential, data=body, content_type=ctype)
    assert r.status == 400 and ecs_error(r)[0] == 4015 and "image" in ecs_error(r)[1], r.body


def test_totp_expiry_uses_the_manuals_format(dep):
    """Issue 14: `expires` of /api/v2/sign/get/totp carried nanoseconds while the seal endpoints
    used the manual's `2023-08-07T04:24:40.927+0000`; now both use the manual's."""
    from datetime import datetime, timedelta, timezone
    official = dep.sahih.enroll(passphrase="Passphrase-Expiry-2026")
    r = http("POST", url(dep, "/api/v2/sign/get/totp"), credential=dep.credential,
             json_body={"email": official.email, "data": 1})
    assert r.status == 200, r.body
    expires = r.json()["data"]["expires"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", expires), expires
    when = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert timedelta(minutes=4) < when - datetime.now(timezone.utc) <= timedelta(minutes=5, seconds=5)


def test_a_client_can_read_the_bsre_code_from_status_code(dep, letter):
    """Issue 14: at least one ECS client library reads the BSrE code (2031 for a wrong
    passphrase) from `status_code`. `sahih client error-shape NAME bsre` gives that client this
    shape; the HTTP status and the other fields stay; other clients keep the default."""
    legacy = dep.add_client("aplikasi-lama")
    r = dep.run("client", "error-shape", "aplikasi-lama", "bsre")
    assert r.returncode == 0, r.describe()
    req = {"nik": NIK, "passphrase": "salah-sekali", "file": [b64(letter)]}
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=legacy, json_body=req)
    body = r.json()
    assert r.status == 400 and body["status_code"] == 2031 and body["error_code"] == 2031, body
    assert body["error"].endswith("2031"), body
    r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential, json_body=req)
    assert r.status == 400 and r.json()["status_code"] == 400, r.body
    assert '"client.error_shape"' in dep.run("audit", "export").stdout
    # Put the passphrase attempts back: two wrong ones count towards the official's lockout.
    ok = http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.credential,
              json_body={**req, "passphrase": "Rahasia-Negara-2026!"})
    assert ok.status == 200, ok.body[:300]
