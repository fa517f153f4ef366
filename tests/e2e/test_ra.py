"""The registration authority end to end over HTTP (issue 5), on SQLite + local directory and on
PostgreSQL + S3 (moto): an OPD operator submits with evidence, a Diskominfo verifikator approves,
the official activates with a passphrase only they choose, signs, a third party verifies; then a
change of position (mutasi) revokes and re-issues, and the old signature still verifies as made
before the revocation. Also: separation of duties, the state machine, evidence sniffing,
expired and reused activation links, collective requests, the ECS registration endpoint, a
passphrase reset, and suspension.
"""
from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import urllib.parse

import pytest
from PIL import Image

from conftest import REPO
from browser import browser, check_page, set_viewport, submit_and_wait, totp_code  # noqa: F401
from ecs_support import BACKENDS, b64, ecs_error, http, make_deployment, multipart
from validators import pdfsig, qpdf_check, run

PYHANKO = REPO / ".venv" / "bin" / "pyhanko"
UNIT = "Dinas Komunikasi dan Informatika"
VERIF_NIK = "3573014404800009"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    # A small evidence limit so the size test stays small.
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"ra-{request.param}"), request.param,
                        config_edits={"max_evidence_mib": 1})
    d.app = d.add_client("eoffice")
    d.operator = d.add_client("op-kominfo", "--role", "operator", "--unit", UNIT)
    d.other_operator = d.add_client("op-dinkes", "--role", "operator", "--unit", "Dinas Kesehatan")
    d.verifikator = d.add_client("verif-1", "--role", "verifikator", "--person-nik", VERIF_NIK)
    d.verifikator2 = d.add_client("verif-2", "--role", "verifikator", "--person-nik", "3573019902800002")
    nss = d.sahih.workdir / "nss"
    nss.mkdir()
    run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
    run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", d.sahih.root_pem])
    d.nss = nss
    yield d
    d.close()


@pytest.fixture(scope="module")
def files(corpus):
    jpg, png = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (320, 200), (200, 180, 150)).save(jpg, "JPEG", quality=90)
    Image.new("RGB", (320, 200), (150, 180, 200)).save(png, "PNG")
    return {
        "letter": (corpus / "reportlab.pdf").read_bytes(),
        "sk": (corpus / "libreoffice.pdf").read_bytes(),
        "ktp_jpg": jpg.getvalue(),
        "ktp_png": png.getvalue(),
        "doc": (corpus / "libreoffice.pdf").read_bytes(),
    }


def url(dep, path):
    return dep.servers[0].url + path


def official(nik, name, position="Kepala Seksi Persandian", unit=UNIT):
    local = re.sub(r"[^a-z]", ".", name.lower())
    return {"nik": nik, "nip": "19800101" + "200501" + "1" + nik[-3:], "name": name,
            "email": f"{local}@contoh.go.id", "position": position, "unit": unit}


def submit(dep, credential, kind, officials, evidence):
    """evidence: part name -> (file name, bytes, content type)."""
    body, ctype = multipart({"request": json.dumps({"kind": kind, "officials": officials})}, evidence)
    return http("POST", url(dep, "/api/v1/ra/submissions"), credential=credential, data=body,
                content_type=ctype)


def enroll_evidence(files, suffix=""):
    return {
        "surat_permohonan": ("surat.pdf", files["letter"], "application/pdf"),
        f"ktp{suffix}": ("ktp.jpg", files["ktp_jpg"], "image/jpeg"),
        f"sk_jabatan{suffix}": ("sk.pdf", files["sk"], "application/pdf"),
    }


def decide(dep, credential, request_id, verdict, **body):
    return http("POST", url(dep, f"/api/v1/ra/requests/{request_id}/{verdict}"),
                credential=credential, json_body=body or None)


def activation_token(dep, email) -> str:
    out = dep.run("outbox", email).stdout
    links = re.findall(r"/aktivasi/([A-Za-z0-9_-]{20,})", out)
    assert links, out
    # Security finding 1: whoever reads the database (or a backup of it) finds no link to take
    # over: the outbox body is sealed under the master key, which `sahih outbox` holds.
    stored = dep.sql("SELECT body FROM outbox")
    assert links[-1] not in stored and "/aktivasi/" not in stored, stored[-400:]
    return links[-1]


def status(dep, nik):
    return http("POST", url(dep, "/api/v2/user/check/status"), credential=dep.app,
                json_body={"nik": nik}).json()


def sign(dep, nik, passphrase, pdf):
    return http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.app,
                json_body={"nik": nik, "passphrase": passphrase, "file": [b64(pdf)]})


def activate_form(dep, token, p1, p2=None, login_password="Pecel-Lele-Lamongan-2026"):
    """The activation page's form: the passphrase twice and, for an official's first
    activation, the login password twice."""
    data = urllib.parse.urlencode({"passphrase": p1, "passphrase2": p2 or p1,
                                   "login_password": login_password,
                                   "login_password2": login_password}).encode()
    return http("POST", url(dep, f"/aktivasi/{token}"), data=data,
                content_type="application/x-www-form-urlencoded")


def outside_validators_accept(dep, pdf: bytes, name: str):
    path = dep.sahih.workdir / name
    path.write_bytes(pdf)
    assert qpdf_check(path).clean
    ps = pdfsig(path, dep.nss)
    assert ps.signatures and all(s.valid and s.trusted for s in ps.signatures), ps.run.describe()
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()


def test_the_seeds_path_enroll_verify_activate_sign_verify_then_mutasi(dep, files):
    nik = "3573010202800001"
    o = official(nik, "Rina Wulandari")
    r = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 201, r.body[:400]
    req = r.json()["requests"][0]
    assert req["state"] == "WAITING_FOR_VERIFICATION" and req["official_status"] == "WAITING_FOR_VERIFICATION"
    assert {e["kind"]: e["media_type"] for e in req["evidence"]} == {
        "surat_permohonan": "application/pdf", "ktp": "image/jpeg", "sk_jabatan": "application/pdf"}
    st = status(dep, nik)
    assert (st["status_code"], st["status"]) == (1117, "WAITING_FOR_VERIFICATION"), st
    # Not signing before activation.
    code, _ = ecs_error(sign(dep, nik, "apa saja passphrase-nya", files["doc"]))
    assert code == 2021

    # The verifikator reviews: the queue and the evidence (checked against its hash).
    queue = http("GET", url(dep, "/api/v1/ra/requests?state=WAITING_FOR_VERIFICATION"),
                 credential=dep.verifikator).json()
    assert req["id"] in [q["id"] for q in queue]
    ktp = http("GET", url(dep, f"/api/v1/ra/requests/{req['id']}/evidence/ktp"), credential=dep.verifikator)
    assert ktp.status == 200 and ktp.body == files["ktp_jpg"]
    assert ktp.headers["content-type"] == "image/jpeg" and ktp.headers["x-content-type-options"] == "nosniff"

    r = decide(dep, dep.verifikator, req["id"], "approve")
    assert r.status == 200, r.body[:300]
    assert r.json()["state"] == "APPROVED" and r.json()["official_status"] == "NO_CERTIFICATE"
    assert status(dep, nik)["status_code"] == 1112

    # The official opens the link from the e-mail and chooses a passphrase.
    token = activation_token(dep, o["email"])
    page = http("GET", url(dep, f"/aktivasi/{token}"))
    assert page.status == 200 and b"Rina Wulandari" in page.body and b"type=\"password\"" in page.body
    assert "form-action 'self'" in page.headers["content-security-policy"]
    r = activate_form(dep, token, "Kopi-Tubruk-Alun-Alun-2026", "Kopi-Tubruk-Alun-Alun-2027")
    assert r.status == 400 and "tidak sama".encode() in r.body
    r = activate_form(dep, token, "Bismillah2024!")
    assert r.status == 400 and b"umum" in r.body
    r = activate_form(dep, token, "rina wulandari 88")
    assert r.status == 400 and b"nama" in r.body
    passphrase = "Kopi-Tubruk-Alun-Alun-2026"
    r = activate_form(dep, token, passphrase)
    assert r.status == 200 and "Sertifikat Anda aktif".encode() in r.body, r.body[:400]
    # Single use.
    assert http("GET", url(dep, f"/aktivasi/{token}")).status == 410
    again = http("POST", url(dep, f"/api/v1/activation/{token}"), json_body={"passphrase": passphrase})
    assert again.status == 410 and ecs_error(again)[0] == 4045
    assert status(dep, nik)["status"] == "ISSUE"

    # Signs; outside validators accept; a third party verifies.
    signed = sign(dep, nik, passphrase, files["doc"])
    assert signed.status == 200, signed.body[:300]
    before = base64.b64decode(signed.json()["file"][0])
    outside_validators_accept(dep, before, "ra-activated.pdf")
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.app,
             json_body={"file": b64(before)}).json()
    assert j["conclusion"] == "VALID", j

    # Mutasi: the operator submits the new position with the new SK; on approval the old
    # certificate is revoked (affiliationChanged) and the official activates again.
    time.sleep(1.2)  # revocation times are whole seconds
    moved = dict(o, position="Kepala Bidang Statistik")
    r = submit(dep, dep.operator, "mutasi", [moved], {
        "surat_permohonan": ("surat-mutasi.pdf", files["letter"], "application/pdf"),
        "sk_jabatan": ("sk-mutasi.pdf", files["sk"], "application/pdf")})
    assert r.status == 201, r.body[:300]
    mreq = r.json()["requests"][0]
    assert mreq["official_status"] == "RENEW" and mreq["state"] == "WAITING_FOR_VERIFICATION"
    # Still signs with the current certificate while the request waits.
    assert sign(dep, nik, passphrase, files["doc"]).status == 200
    time.sleep(1.2)
    assert decide(dep, dep.verifikator2, mreq["id"], "approve").status == 200
    code, text = ecs_error(sign(dep, nik, passphrase, files["doc"]))
    assert code == 2021 and "dicabut" in text, text
    token2 = activation_token(dep, o["email"])
    assert token2 != token
    r = http("POST", url(dep, f"/api/v1/activation/{token2}"),
             json_body={"passphrase": "Nasi-Rawon-Setan-Malam-Hari"})
    assert r.status == 200, r.body[:300]
    after = sign(dep, nik, "Nasi-Rawon-Setan-Malam-Hari", files["doc"])
    assert after.status == 200
    body, ctype = multipart({}, {"signed_file": ("baru.pdf", base64.b64decode(after.json()["file"][0]),
                                                 "application/pdf")})
    j = http("POST", url(dep, "/api/sign/verify"), credential=dep.app, data=body, content_type=ctype).json()
    assert "title=Kepala Bidang Statistik" in j["details"][0]["info_signer"]["signer_dn"], j
    # The signature made before the mutasi still verifies: made before the revocation.
    j = http("POST", url(dep, "/api/v2/verify/pdf"), credential=dep.app,
             json_body={"file": b64(before)}).json()
    assert j["conclusion"] == "VALID", j
    # pdfsig checks today's status (revoked) without a point in time; pyHanko's AdES validation
    # uses the timestamp and the embedded revocation data, as a court would.
    old_path = dep.sahih.workdir / "ra-before-mutasi.pdf"
    old_path.write_bytes(before)
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", old_path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()

    # Every transition is in the audit chain, which verifies; no passphrase or token in it.
    export = dep.run("audit", "export").stdout
    actions = [json.loads(line)["action"] for line in export.splitlines()]
    for a in ["ra.register", "ra.submit", "ra.approve", "ra.activation-link", "ra.activate",
              "ra.request-renewal", "revoke"]:
        assert a in actions, a
    assert passphrase not in export and token not in export and token2 not in export
    assert dep.run("audit", "verify").returncode == 0


def test_separation_of_duties_and_unit_scope(dep, files):
    nik = "3573010303800002"
    o = official(nik, "Agus Salim")
    # Only operators submit, only for their unit.
    r = submit(dep, dep.verifikator, "enroll", [o], enroll_evidence(files))
    assert r.status == 403 and ecs_error(r)[0] == 4033
    r = submit(dep, dep.other_operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 403 and "unit" in r.json()["message"]
    r = submit(dep, dep.app, "enroll", [o], enroll_evidence(files))
    assert r.status == 403
    r = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 201
    rid = r.json()["requests"][0]["id"]
    # Another unit's operator does not see it.
    assert http("GET", url(dep, f"/api/v1/ra/requests/{rid}"), credential=dep.other_operator).status == 404
    listed = http("GET", url(dep, "/api/v1/ra/requests"), credential=dep.other_operator).json()
    assert rid not in [x["id"] for x in listed]
    # Operators cannot decide.
    assert decide(dep, dep.operator, rid, "approve").status == 403
    # A verifikator cannot decide a request about themselves.
    me = official(VERIF_NIK, "Dewi Verifikator")
    r = submit(dep, dep.operator, "enroll", [me], enroll_evidence(files))
    assert r.status == 201
    own = r.json()["requests"][0]["id"]
    r = decide(dep, dep.verifikator, own, "approve")
    assert r.status == 403 and "dirinya sendiri" in r.json()["message"], r.body
    assert decide(dep, dep.verifikator2, own, "approve").status == 200
    refusals = [json.loads(line) for line in dep.run("audit", "export").stdout.splitlines()]
    assert any(e["action"] == "ra.approve" and e["result"] == "refused" and e["actor"] == "verif-1"
               for e in refusals)
    # A verifikator cannot suspend or revoke their own certificate either.
    r = http("POST", url(dep, f"/api/v1/officials/{VERIF_NIK}/suspend"), credential=dep.verifikator,
             json_body={"reason": "x"})
    assert r.status == 403


def test_state_machine_rejection_and_resubmission(dep, files):
    nik = "3573010404800003"
    o = official(nik, "Budi Hartono")
    rid = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files)).json()["requests"][0]["id"]
    # No skipping: a waiting official cannot be suspended, resumed or revoked.
    for action in ["suspend", "resume", "revoke"]:
        r = http("POST", url(dep, f"/api/v1/officials/{nik}/{action}"), credential=dep.verifikator)
        assert r.status == 409 and ecs_error(r)[0] == 4091, (action, r.body)
    # A second enrollment while one waits is a state-machine violation.
    r = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 409 and ecs_error(r)[0] == 4091
    # A rejection needs a reason; then the official is told, and is back at NEW.
    assert decide(dep, dep.verifikator, rid, "reject").status == 400
    r = decide(dep, dep.verifikator, rid, "reject", reason="Scan e-KTP tidak terbaca")
    assert r.status == 200 and r.json()["state"] == "REJECTED" and r.json()["official_status"] == "NEW"
    assert "Scan e-KTP tidak terbaca" in dep.run("outbox", o["email"]).stdout
    # Deciding again is a state-machine violation.
    r = decide(dep, dep.verifikator2, rid, "approve")
    assert r.status == 409 and ecs_error(r)[0] == 4091
    assert status(dep, nik)["status"] == "NEW"
    # The operator resubmits with a better scan; it goes to verification again.
    ev = enroll_evidence(files)
    ev["ktp"] = ("ktp.png", files["ktp_png"], "image/png")
    r = submit(dep, dep.operator, "enroll", [o], ev)
    assert r.status == 201 and r.json()["requests"][0]["state"] == "WAITING_FOR_VERIFICATION"
    # Two verifikators approving at once: exactly one decision.
    rid2 = r.json()["requests"][0]["id"]
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(decide(dep, c, rid2, "approve").status))
               for c in (dep.verifikator, dep.verifikator2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [200, 409], results
    # Two clicks on the same link at once: exactly one activation.
    token = activation_token(dep, o["email"])
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        http("POST", url(dep, f"/api/v1/activation/{token}"),
             json_body={"passphrase": "Gado-Gado-Bon-Bin-Pojok"}).status)) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [200, 410, 410, 410], results
    # An expired link is refused.
    nik3 = "3573010505800004"
    o3 = official(nik3, "Citra Lestari")
    rid3 = submit(dep, dep.operator, "enroll", [o3], enroll_evidence(files)).json()["requests"][0]["id"]
    assert decide(dep, dep.verifikator, rid3, "approve").status == 200
    token3 = activation_token(dep, o3["email"])
    dep.sql(f"UPDATE activation_links SET expires_at = expires_at - 86401 WHERE request_id = '{rid3}'")
    r = http("POST", url(dep, f"/api/v1/activation/{token3}"), json_body={"passphrase": "Es-Dawet-Ayu-Banjarnegara"})
    assert r.status == 410
    assert http("GET", url(dep, f"/aktivasi/{token3}")).status == 410
    assert http("GET", url(dep, "/aktivasi/bukan-token-yang-benar-sama-sekali")).status == 410


def test_evidence_of_the_wrong_type_size_or_incomplete(dep, files, tmp_path):
    o = official("3573010606800005", "Dian Sastro")
    cases = {
        "html renamed to pdf": ("surat_permohonan", ("surat.pdf", b"<html><body>%PDF-1.7 bukan</body></html>" * 3, "application/pdf")),
        "executable": ("ktp", ("ktp.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg")),
        "truncated pdf": ("sk_jabatan", ("sk.pdf", files["sk"][: len(files["sk"]) // 2], "application/pdf")),
        "svg": ("ktp", ("ktp.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>" * 3, "image/png")),
    }
    for label, (part, content) in cases.items():
        ev = enroll_evidence(files)
        ev[part] = content
        r = submit(dep, dep.operator, "enroll", [o], ev)
        assert r.status == 400 and ecs_error(r)[0] == 4016, (label, r.body)
    big = enroll_evidence(files)
    big["sk_jabatan"] = ("sk.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10) + b"\n%%EOF\n", "application/pdf")
    r = submit(dep, dep.operator, "enroll", [o], big)
    assert r.status == 400 and "MiB" in r.json()["message"]
    missing = enroll_evidence(files)
    del missing["sk_jabatan"]
    r = submit(dep, dep.operator, "enroll", [o], missing)
    assert r.status == 400 and "sk_jabatan" in r.json()["message"]
    # Nothing was registered by the refused attempts.
    assert status(dep, o["nik"])["status"] == "NOT_REGISTERED"


def test_collective_request_one_letter_several_officials(dep, files):
    a = official("3573010707800006", "Eka Putri")
    b = official("3573010808800007", "Fajar Nugroho", position="Sekretaris Dinas")
    ev = {"surat_permohonan": ("surat-kolektif.pdf", files["letter"], "application/pdf")}
    for o in (a, b):
        ev[f"ktp_{o['nik']}"] = ("ktp.jpg", files["ktp_jpg"], "image/jpeg")
        ev[f"sk_jabatan_{o['nik']}"] = ("sk.pdf", files["sk"], "application/pdf")
    r = submit(dep, dep.operator, "enroll", [a, b], ev)
    assert r.status == 201, r.body[:300]
    reqs = r.json()["requests"]
    assert len(reqs) == 2 and len({x["submission_id"] for x in reqs}) == 1
    for x in reqs:
        kinds = sorted(e["kind"] for e in x["evidence"])
        assert kinds == ["ktp", "sk_jabatan", "surat_permohonan"], x
        assert decide(dep, dep.verifikator, x["id"], "approve").status == 200
    for o in (a, b):
        assert activation_token(dep, o["email"])
    # The CLI sees the same queue.
    out = dep.run("ra", "list", "--as", "verif-1", "--state", "APPROVED").stdout
    assert a["nik"] in out and b["nik"] in out


def test_ecs_registration_endpoint_then_evidence_then_verification(dep, files):
    nik = "3573010909800008"
    body = {"nik": nik, "nip": "198009092005012008", "nama": "Gita Permata",
            "email": "gita.permata@contoh.go.id", "jabatan": "Analis Kebijakan", "unit_kerja": UNIT}
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=dep.operator, json_body=body)
    assert r.status == 200, r.body[:300]
    data = r.json()["data"]
    assert data["status"] == "NEW" and data["status_code"] == 1116
    assert status(dep, nik)["status"] == "NEW"
    # The client library's path works too, and duplicates are refused as ECS does (4024).
    r = http("POST", url(dep, "/api/v2/user/register"), credential=dep.operator, json_body=body)
    assert r.status == 409 and ecs_error(r)[0] == 4024
    # The juknis requires `nama` and `email`; without one of them nothing is recorded.
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=dep.operator,
             json_body={"nama": "Tanpa Surel"})
    assert ecs_error(r)[0] == 4014
    # Evidence completes the request; it goes to verification.
    fields, ctype = multipart({}, enroll_evidence(files))
    r = http("POST", url(dep, f"/api/v1/ra/requests/{data['id']}/evidence"), credential=dep.operator,
             data=fields, content_type=ctype)
    assert r.status == 200 and r.json()["state"] == "WAITING_FOR_VERIFICATION", r.body[:300]
    assert status(dep, nik)["status_code"] == 1117
    # A registration whose evidence never comes can be closed by a verifikator; the NIK is free
    # for a new attempt afterwards.
    body2 = dict(body, nik="3573010912800016", nip="198012092005012016", email="tanpa.berkas@contoh.go.id")
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=dep.operator, json_body=body2)
    stale = r.json()["data"]["id"]
    assert decide(dep, dep.verifikator, stale, "reject").status == 400  # a reason is required
    r = decide(dep, dep.verifikator, stale, "reject", reason="Berkas tidak dilengkapi dalam 30 hari")
    assert r.status == 200 and r.json()["state"] == "REJECTED" and r.json()["official_status"] == "NEW", r.body[:300]
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=dep.operator, json_body=body2)
    assert r.status == 200, r.body[:300]


@pytest.mark.parametrize("path", ["/api/v2/user/registration", "/api/v2/user/register"])
def test_a_juknis_registration_with_only_nama_and_email_is_completed_then_decided(dep, files, path):
    """Issue 14: real ECS clients register with the juknis body `{nama, email}` and the
    application's own credential, often one without a unit. Sahih records a NEW request
    attributed to that client; a verifikator hands it to a unit, the unit's operator fills in
    the identity and the evidence, and only then can a verifikator (another person) approve."""
    n = 1 if path.endswith("registration") else 2
    nik = f"357301200580001{n}"
    juknis = {"nama": f"Sri Rahayu {n}", "email": f"sri.rahayu{n}@contoh.go.id"}
    r = http("POST", url(dep, path), credential=dep.app, json_body=juknis)
    assert r.status == 200, r.body[:300]
    answer = r.json()
    assert answer["success"] is True and answer["status_code"] == 200, answer
    data = answer["data"]
    assert data["status"] == "NEW" and data["status_code"] == 1116, data
    assert data["nama"] == juknis["nama"] and data["email"] == juknis["email"], data
    assert {"nik", "nip", "jabatan", "unit_kerja", "ktp", "sk_jabatan"} <= set(data["missing"]), data
    one = f"/api/v1/ra/requests/{data['id']}"
    # Filed for no unit: verifikators see it, no operator does, the filing app reads nothing.
    assert http("GET", url(dep, one), credential=dep.operator).status == 404
    assert http("GET", url(dep, one), credential=dep.other_operator).status == 404
    assert http("GET", url(dep, one), credential=dep.app).status == 403
    seen = http("GET", url(dep, one), credential=dep.verifikator).json()
    assert seen["submitted_by"] == "eoffice" and seen["submitted_unit"] is None, seen
    # Nothing is approved while the identity or evidence is missing.
    r = decide(dep, dep.verifikator, data["id"], "approve")
    assert r.status == 409, r.body[:300]
    # A verifikator hands it to a unit, and enters nothing else.
    r = http("POST", url(dep, f"{one}/identity"), credential=dep.verifikator,
             json_body={"unit_kerja": UNIT, "nik": nik})
    assert r.status == 400, r.body[:300]
    r = http("POST", url(dep, f"{one}/identity"), credential=dep.verifikator, json_body={"unit_kerja": UNIT})
    assert r.status == 200 and r.json()["submitted_unit"] == UNIT, r.body[:300]
    assert http("GET", url(dep, one), credential=dep.operator).status == 200
    assert http("GET", url(dep, one), credential=dep.other_operator).status == 404
    # The unit's operator completes the identity (a wrong NIK is refused with its reason) ...
    r = http("POST", url(dep, f"{one}/identity"), credential=dep.operator, json_body={"nik": "123"})
    assert r.status == 400 and "NIK" in r.json()["message"], r.body[:300]
    r = http("POST", url(dep, f"{one}/identity"), credential=dep.operator,
             json_body={"nik": nik, "nip": f"19800520200501200{n}", "jabatan": "Analis Kepegawaian"})
    assert r.status == 200, r.body[:300]
    done = r.json()
    assert done["state"] == "NEW" and done["official_status"] == "NEW", done
    assert sorted(done["missing"]) == ["ktp", "sk_jabatan", "surat_permohonan"], done
    assert status(dep, nik)["status"] == "NEW"
    assert decide(dep, dep.verifikator, data["id"], "approve").status == 409
    # ... and the evidence, which sends it to verification.
    fields, ctype = multipart({}, enroll_evidence(files))
    r = http("POST", url(dep, f"{one}/evidence"), credential=dep.operator, data=fields, content_type=ctype)
    assert r.status == 200 and r.json()["state"] == "WAITING_FOR_VERIFICATION", r.body[:300]
    assert r.json()["missing"] == []
    # Filing is not deciding: the app cannot approve; a verifikator does.
    assert decide(dep, dep.app, data["id"], "approve").status == 403
    r = decide(dep, dep.verifikator, data["id"], "approve")
    assert r.status == 200 and r.json()["state"] == "APPROVED", r.body[:300]
    assert activation_token(dep, juknis["email"])
    # The same NIK cannot be registered twice.
    r = http("POST", url(dep, path), credential=dep.app, json_body=dict(juknis, nik=nik))
    assert r.status == 409 and ecs_error(r)[0] == 4024, r.body[:300]


def test_reset_and_suspension(dep, files):
    nik = "3573011010800009"
    o = official(nik, "Hendra Gunawan")
    rid = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files)).json()["requests"][0]["id"]
    assert decide(dep, dep.verifikator, rid, "approve").status == 200
    old = "Sate-Klopo-Ondomohen-Pagi"
    assert http("POST", url(dep, f"/api/v1/activation/{activation_token(dep, o['email'])}"),
                json_body={"passphrase": old}).status == 200
    assert sign(dep, nik, old, files["doc"]).status == 200
    # Suspended officials cannot sign (ECS 2021, "ditangguhkan"); resumed, they can.
    r = http("POST", url(dep, f"/api/v1/officials/{nik}/suspend"), credential=dep.verifikator,
             json_body={"reason": "pemeriksaan inspektorat"})
    assert r.status == 200 and r.json()["status"] == "SUSPEND"
    code, text = ecs_error(sign(dep, nik, old, files["doc"]))
    assert code == 2021 and "ditangguhkan" in text
    r = http("POST", url(dep, f"/api/v1/officials/{nik}/resume"), credential=dep.verifikator)
    assert r.status == 200 and r.json()["status"] == "ISSUE"
    # Forgotten passphrase: a verified reset issues a new key; the old one is revoked (superseded).
    r = submit(dep, dep.operator, "reset", [o], {
        "surat_permohonan": ("surat-reset.pdf", files["letter"], "application/pdf"),
        "ktp": ("ktp.jpg", files["ktp_jpg"], "image/jpeg")})
    assert r.status == 201, r.body[:300]
    assert decide(dep, dep.verifikator, r.json()["requests"][0]["id"], "approve").status == 200
    new = "Rujak-Cingur-Pasar-Genteng"
    assert http("POST", url(dep, f"/api/v1/activation/{activation_token(dep, o['email'])}"),
                json_body={"passphrase": new}).status == 200
    code, _ = ecs_error(sign(dep, nik, old, files["doc"]))
    assert code == 2031
    assert sign(dep, nik, new, files["doc"]).status == 200
    crl = dep.run("crl")
    text = run(["openssl", "crl", "-noout", "-text"], input=crl.stdout.encode()).stdout
    assert "Superseded" in text, text


def test_activation_page_in_a_real_browser(dep, files, browser):
    """The official's side in headless Chromium, on a phone-sized screen: the link from the
    e-mail, the form (a refused passphrase shown with its reason), the certificate, then the
    account: login password chosen in the same form, the authenticator app set up from the QR
    page, logout and a login with NIP, password and code. The strict CSP lets every form post;
    every page passes axe-core and is saved as screenshots."""
    from selenium.webdriver.common.by import By

    nik = "3573011111800012"
    nip = "198001012005011012"
    o = official(nik, "Joko Widodo Santoso")
    o["nip"] = nip
    rid = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files)).json()["requests"][0]["id"]
    assert decide(dep, dep.verifikator, rid, "approve").status == 200
    token = activation_token(dep, o["email"])
    driver = browser()
    set_viewport(driver, "360x740")
    driver.get(url(dep, f"/aktivasi/{token}"))
    assert "Aktivasi sertifikat elektronik" in driver.page_source
    assert "Joko Widodo Santoso" in driver.page_source
    check_page(driver, dep.backend, "activation")

    def fill(p1, p2, l1="Soto-Lamongan-Koya-2026", l2="Soto-Lamongan-Koya-2026"):
        for field, value in (("p1", p1), ("p2", p2), ("l1", l1), ("l2", l2)):
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
        submit_and_wait(driver)

    fill("qwerty123456", "qwerty123456")
    assert "terlalu umum" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check_page(driver, dep.backend, "activation-refused")
    # The login password must differ from the passphrase; nothing is activated meanwhile.
    fill("Tahu-Campur-Lontong-Kupang", "Tahu-Campur-Lontong-Kupang",
         "Tahu-Campur-Lontong-Kupang", "Tahu-Campur-Lontong-Kupang")
    assert "harus berbeda" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    fill("Tahu-Campur-Lontong-Kupang", "Tahu-Campur-Lontong-Kupang")
    assert "Sertifikat Anda aktif" in driver.page_source, driver.page_source[:800]
    check_page(driver, dep.backend, "activation-done")

    # Second factor, from the link on the success page.
    driver.find_element(By.PARTIAL_LINK_TEXT, "Pasang aplikasi autentikator").click()
    secret = driver.find_element(By.CSS_SELECTOR, ".secret").text
    # The QR code, as a phone camera sees it, carries the same secret.
    import zxingcpp
    png = driver.find_element(By.CSS_SELECTOR, "svg.qr").screenshot_as_png
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert codes and codes[0].text.startswith("otpauth://totp/"), [c.text for c in codes]
    assert f"secret={secret.replace(' ', '')}" in codes[0].text, codes[0].text
    check_page(driver, dep.backend, "totp-setup")
    driver.find_element(By.ID, "code").send_keys(totp_code(secret))
    submit_and_wait(driver)
    assert "Akun Anda siap dipakai" in driver.page_source, driver.page_source[:800]
    assert "Kepala Dinas" in driver.page_source or "Joko Widodo Santoso" in driver.page_source
    check_page(driver, dep.backend, "home")

    # Logout, then login with NIP + password + the next code.
    submit_and_wait(driver, "nav.person button[type=submit]")
    assert "Anda telah keluar" in driver.page_source
    check_page(driver, dep.backend, "login")
    driver.find_element(By.ID, "login").send_keys(nip)
    driver.find_element(By.ID, "password").send_keys("Soto-Lamongan-Koya-2026")
    driver.find_element(By.ID, "code").send_keys(totp_code(secret, 1))
    submit_and_wait(driver)
    assert "Beranda" in driver.title, driver.page_source[:800]

    driver.get(url(dep, f"/aktivasi/{token}"))
    assert "Tautan tidak berlaku" in driver.page_source
    assert sign(dep, nik, "Tahu-Campur-Lontong-Kupang", files["doc"]).status == 200


def enrolled_through_ra(dep, files, nik, name, passphrase, unit=UNIT, operator=None):
    o = official(nik, name, unit=unit)
    r = submit(dep, operator or dep.operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 201, r.body[:300]
    assert decide(dep, dep.verifikator, r.json()["requests"][0]["id"], "approve").status == 200
    token = activation_token(dep, o["email"])
    r = http("POST", url(dep, f"/api/v1/activation/{token}"), json_body={"passphrase": passphrase})
    assert r.status == 200, r.body[:300]
    return o


def test_operators_cannot_reach_officials_of_other_units(dep, files):
    o = enrolled_through_ra(dep, files, "3573011404800013", "Kartika Dewi", "Nasi-Krawu-Gresik-Pedas",
                            unit="Dinas Kesehatan", operator=dep.other_operator)
    # Kominfo's operator files a mutasi for Dinkes' official, naming their own unit and e-mail.
    hijack = dict(o, unit=UNIT, email="operator.kominfo@contoh.go.id", position="Staf")
    r = submit(dep, dep.operator, "mutasi", [hijack], {
        "surat_permohonan": ("surat.pdf", files["letter"], "application/pdf"),
        "sk_jabatan": ("sk.pdf", files["sk"], "application/pdf")})
    assert r.status == 403 and "Dinas Kesehatan" in r.json()["message"], r.body[:300]
    for kind in ("renew", "reset"):
        r = submit(dep, dep.operator, kind, [o], {
            "surat_permohonan": ("surat.pdf", files["letter"], "application/pdf"),
            "ktp": ("ktp.jpg", files["ktp_jpg"], "image/jpeg")})
        assert r.status == 403, (kind, r.body[:300])
    # Their own operator's mutasi cannot redirect the activation link to another address.
    r = submit(dep, dep.other_operator, "mutasi", [dict(o, email="lain@contoh.go.id",
                                                      position="Kepala Seksi Farmasi")], {
        "surat_permohonan": ("surat.pdf", files["letter"], "application/pdf"),
        "sk_jabatan": ("sk.pdf", files["sk"], "application/pdf")})
    assert r.status == 201, r.body[:300]
    req = r.json()["requests"][0]
    assert req["official"]["email"] == o["email"] and req["official"]["position"] == "Kepala Seksi Farmasi"
    # Admin clients have no part in the RA (they read the audit log).
    admin = dep.add_client("auditor", "--role", "admin")
    assert http("GET", url(dep, "/api/v1/ra/requests"), credential=admin).status == 403
    # A verifikator account must name its person.
    r = dep.run("client", "add", "verif-tanpa-nik", "--role", "verifikator")
    assert r.returncode != 0 and "--person-nik" in r.stderr, r.describe()


def test_renewal_cannot_outlive_a_revocation_and_links_can_be_resent(dep, files):
    passphrase = "Tahu-Tek-Telur-Pedas-Manis"
    o = enrolled_through_ra(dep, files, "3573011504800014", "Lukman Hakim", passphrase)
    renew = {"surat_permohonan": ("surat.pdf", files["letter"], "application/pdf")}
    rid = submit(dep, dep.operator, "renew", [o], renew).json()["requests"][0]["id"]
    assert decide(dep, dep.verifikator, rid, "approve").status == 200
    token = activation_token(dep, o["email"])
    # The link expires unused; the verifikator sends a new one; the old one stays dead.
    dep.sql(f"UPDATE activation_links SET expires_at = expires_at - 86401 WHERE request_id = '{rid}'")
    assert http("GET", url(dep, f"/aktivasi/{token}")).status == 410
    assert http("POST", url(dep, f"/api/v1/ra/requests/{rid}/resend-link"), credential=dep.operator).status == 403
    r = http("POST", url(dep, f"/api/v1/ra/requests/{rid}/resend-link"), credential=dep.verifikator2)
    assert r.status == 200, r.body[:300]
    token2 = activation_token(dep, o["email"])
    assert token2 != token and http("GET", url(dep, f"/aktivasi/{token2}")).status == 200
    # Key compromise during the renewal: revocation closes it, so the link cannot hand out a
    # fresh certificate afterwards.
    r = http("POST", url(dep, f"/api/v1/officials/{o['nik']}/revoke"), credential=dep.verifikator,
             json_body={"reason": "keyCompromise"})
    assert r.status == 200 and r.json()["status"] == "REVOKE", r.body[:300]
    r = http("POST", url(dep, f"/api/v1/activation/{token2}"), json_body={"passphrase": "Rawon-Nguling-Probolinggo"})
    assert r.status == 410, r.body[:300]
    assert status(dep, o["nik"])["status"] == "REVOKE"
    got = http("GET", url(dep, f"/api/v1/ra/requests/{rid}"), credential=dep.verifikator).json()
    assert got["state"] == "REJECTED" and "revoked" in got["reason"], got
    # Suspension likewise ends a renewal in progress.
    o2 = enrolled_through_ra(dep, files, "3573011604800015", "Maya Sari", passphrase)
    rid2 = submit(dep, dep.operator, "renew", [o2], renew).json()["requests"][0]["id"]
    assert decide(dep, dep.verifikator, rid2, "approve").status == 200
    r = http("POST", url(dep, f"/api/v1/officials/{o2['nik']}/suspend"), credential=dep.verifikator,
             json_body={"reason": "pemeriksaan"})
    assert r.status == 200 and r.json()["status"] == "SUSPEND", r.body[:300]
    r = http("POST", url(dep, f"/api/v1/activation/{activation_token(dep, o2['email'])}"),
             json_body={"passphrase": "Rawon-Nguling-Probolinggo"})
    assert r.status == 410
    assert status(dep, o2["nik"])["status"] == "SUSPEND"


def test_cross_site_requests_cannot_change_certificate_state(dep, files):
    """Security finding 2: a page on another site, with the verifikator's browser replaying
    their Basic credentials, posted `{"status":"REVOKE"}` as text/plain and revoked a
    certificate. Now: cross-site browser requests are refused before authentication, staff JSON
    routes refuse non-JSON bodies, and browsers are never invited to cache Basic credentials."""
    o = enrolled_through_ra(dep, files, "3573011010800019", "Rina Lintas Situs",
                            "Rawon-Setan-Embong-Malang")
    nik = o["nik"]
    revoke = url(dep, f"/api/v1/officials/{nik}/revoke")
    body = json.dumps({"status": "REVOKE", "reason": "keyCompromise"}).encode()
    browser = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
               "Sec-Fetch-Mode": "no-cors", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
    # The reproduction: a cross-site form post as text/plain, credentials replayed.
    r = http("POST", revoke, credential=dep.verifikator, data=body, content_type="text/plain",
             headers=browser)
    assert r.status == 403, r.body[:300]
    # The same from a page that sends only Origin (older browsers), and as JSON.
    r = http("POST", url(dep, f"/api/v1/officials/{nik}/suspend"), credential=dep.verifikator,
             json_body={"reason": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status == 403, r.body[:300]
    # Without browser headers, a body that is not JSON is refused all the same.
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = http("POST", revoke, credential=dep.verifikator, data=body, content_type=ctype)
        assert r.status == 415, (ctype, r.body[:300])
    assert status(dep, nik)["status"] == "ISSUE", "a refused request changed the certificate"
    # A machine client with JSON still works, and so does this server's own origin.
    r = http("POST", url(dep, f"/api/v1/officials/{nik}/suspend"), credential=dep.verifikator,
             json_body={"reason": "pemeriksaan"}, headers={"Origin": dep.servers[0].url})
    assert r.status == 200 and r.json()["status"] == "SUSPEND", r.body[:300]
    r = http("POST", url(dep, f"/api/v1/officials/{nik}/resume"), credential=dep.verifikator)
    assert r.status == 200 and r.json()["status"] == "ISSUE", r.body[:300]
    # 401: a Basic challenge for HTTP client libraries, none for browsers.
    r = http("GET", url(dep, "/api/v1/ra/requests"))
    assert r.status == 401 and r.headers.get("www-authenticate", "").startswith("Basic")
    r = http("GET", url(dep, "/api/v1/ra/requests"), headers={"Sec-Fetch-Mode": "navigate"})
    assert r.status == 401 and "www-authenticate" not in r.headers


def test_bidirectional_names_and_huge_reasons_are_refused(dep, files):
    """Security findings 13 and 14: a name with U+202E (shown reversed on the stamp, the
    certificate and the QR page) was accepted, and a 5 MiB rejection reason was stored."""
    o = official("3573011010800039", "Budi \u202eOTNAS")
    r = submit(dep, dep.operator, "enroll", [o], enroll_evidence(files))
    assert r.status == 400, r.body[:300]
    good = official("3573011010800049", "Dewi Alasan Panjang")
    r = submit(dep, dep.operator, "enroll", [good], enroll_evidence(files))
    assert r.status == 201, r.body[:300]
    rid = r.json()["requests"][0]["id"]
    r = decide(dep, dep.verifikator, rid, "reject", reason="x" * (5 * 1024 * 1024))
    assert r.status in (400, 413), r.body[:300]
    r = decide(dep, dep.verifikator, rid, "reject", reason="Berkas \u202ekabur")
    assert r.status == 400, r.body[:300]
    r = decide(dep, dep.verifikator, rid, "reject", reason="SK jabatan belum dilampirkan")
    assert r.status == 200, r.body[:300]


def test_responses_carry_security_headers(dep):
    """Security finding 11: pages that show names and tokens lacked nosniff, no-store and a
    referrer policy, and Swagger UI had no CSP or framing protection."""
    for path in ("/aktivasi/bukan-token-yang-sah", "/v/bukan-dokumen-yang-ada", "/api/v1/ra/requests",
                 "/api/v1/docs/"):
        r = http("GET", url(dep, path))
        h = r.headers
        assert h.get("x-content-type-options") == "nosniff", (path, h)
        assert h.get("referrer-policy") == "no-referrer", (path, h)
        assert h.get("cache-control") == "no-store", (path, h)
        assert h.get("x-frame-options") == "DENY", (path, h)
        if h.get("content-type", "").startswith("text/html"):
            assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), (path, h)
    # Public trust-service data stays cacheable.
    r = http("GET", url(dep, "/ca/root.crt"))
    assert "no-store" not in r.headers.get("cache-control", ""), r.headers


def _route(path: str) -> str:
    """A concrete URL for a route pattern, naming things that do not exist."""
    return (path.replace("{id}", "TIDAK-ADA").replace("{nik}", "3573010000000099")
            .replace("{action}", "suspend").replace("{kind}", "ktp"))


def test_every_api_route_answers_only_the_roles_its_capability_names(dep, files):
    """Security finding 4: admin, operator and verifikator credentials could call every signing
    and sealing route (one more channel each for guessing a passphrase). Now one table in the
    code maps each route to a capability and each capability to roles; a route missing from it
    is refused to everyone. The table is read from `sahih client permissions`, so this test
    follows it and any route the server has but the table lacks answers 403 to all."""
    table = [json.loads(line) for line in dep.run("client", "permissions").stdout.splitlines()]
    assert len(table) >= 35, table
    # name -> (credential, role, bound to a unit); "role+unit" in the table needs the unit.
    accounts = {
        "app": (dep.app, "app", False),
        "app+unit": (dep.add_client("simpeg-matriks", "--unit", UNIT), "app", True),
        "admin": (dep.add_client("auditor-matriks", "--role", "admin"), "admin", False),
        "operator": (dep.operator, "operator", True),
        "verifikator": (dep.verifikator, "verifikator", False),
    }
    for entry in table:
        target = url(dep, _route(entry["path"]))
        body = {} if entry["method"] == "POST" else None
        # Every entry is a real route behind authentication.
        assert http(entry["method"], target, json_body=body).status == 401, entry
        for who, (credential, role, unit) in accounts.items():
            allowed = role in entry["roles"] or (unit and f"{role}+unit" in entry["roles"])
            r = http(entry["method"], target, credential=credential, json_body=body)
            if allowed:
                assert r.status != 403, (who, entry, r.body[:200])
            else:
                assert r.status == 403, (who, entry, r.status, r.body[:200])
    staff_roles = {"admin", "operator", "verifikator"}
    for entry in table:
        if entry["capability"] in ("sign", "seal"):
            assert not staff_roles & {r.removesuffix("+unit") for r in entry["roles"]}, entry

    # The reproduction, with a real official and their right passphrase: a verifikator's
    # credential neither triggers a one-time code nor signs.
    passphrase = "Rawon-Nguling-Probolinggo"
    o = enrolled_through_ra(dep, files, "3573011604800016", "Nur Aini", passphrase)
    outbox_before = dep.run("outbox", o["email"]).stdout
    r = http("POST", url(dep, "/api/v2/sign/get/totp"), credential=dep.verifikator,
             json_body={"nik": o["nik"]})
    assert r.status == 403, r.body[:200]
    assert dep.run("outbox", o["email"]).stdout == outbox_before
    for credential in (dep.verifikator, dep.operator, accounts["admin"][0]):
        r = http("POST", url(dep, "/api/v2/sign/pdf"), credential=credential,
                 json_body={"nik": o["nik"], "passphrase": passphrase, "file": [b64(files["doc"])]})
        assert r.status == 403 and "petugas" in r.json()["message"], r.body[:200]
    # The official's own app signs.
    r = sign(dep, o["nik"], passphrase, files["doc"])
    assert r.status == 200, r.body[:300]


def test_an_app_bound_to_a_unit_registers_its_officials_like_at_bsre(dep):
    """Existing Pemda apps register officials through ECS v2 with the credential they sign
    with. An app client bound to a unit may do that (the request still needs a verifikator),
    but not for another unit; an app without a unit files for no unit, and no operator sees
    that request until a verifikator hands it to a unit."""
    app = dep.add_client("simpeg-kominfo", "--unit", UNIT)
    o = official("3573011704800017", "Yusuf Maulana")
    body = {"nik": o["nik"], "nama": o["name"], "email": o["email"], "nip": o["nip"],
            "jabatan": o["position"]}
    unitless = dict(body, nik="3573011704800025", email="yusuf.lain@contoh.go.id")
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=dep.app, json_body=unitless)
    assert r.status == 200, r.body[:200]
    stray = f"/api/v1/ra/requests/{r.json()['data']['id']}"
    assert http("GET", url(dep, stray), credential=dep.operator).status == 404
    assert http("GET", url(dep, stray), credential=dep.verifikator).status == 200
    assert status(dep, unitless["nik"])["status"] == "NOT_REGISTERED"  # no official until confirmed
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=app,
             json_body=dict(body, unit_kerja="Dinas Kesehatan"))
    assert r.status == 403, r.body[:200]
    r = http("POST", url(dep, "/api/v2/user/registration"), credential=app, json_body=body)
    assert r.status == 200, r.body[:300]
    request_id = r.json()["data"]["id"]
    # Filing is not deciding.
    assert decide(dep, app, request_id, "approve").status == 403


def test_a_mutasi_to_another_unit_stays_with_the_unit_that_filed_it(dep, files):
    """Security finding 15: after an operator filed a transfer of their official to another
    unit, they could no longer see the request, while the receiving unit's operator read its
    evidence (the SK, the letter). The unit on file, which filed it, keeps it."""
    o = enrolled_through_ra(dep, files, "3573011804800018", "Wahyu Pratama", "Lontong-Balap-Wonokromo",
                            unit="Dinas Kesehatan", operator=dep.other_operator)
    moved = dict(o, unit=UNIT, position="Pranata Komputer")
    r = submit(dep, dep.other_operator, "mutasi", [moved], {
        "surat_permohonan": ("surat.pdf", files["letter"], "application/pdf"),
        "sk_jabatan": ("sk.pdf", files["sk"], "application/pdf")})
    assert r.status == 201, r.body[:300]
    request_id = r.json()["requests"][0]["id"]
    assert r.json()["requests"][0]["official"]["unit"] == UNIT
    one = f"/api/v1/ra/requests/{request_id}"
    evidence = f"{one}/evidence/sk_jabatan"
    # The filing unit's operator follows it, evidence included.
    assert http("GET", url(dep, one), credential=dep.other_operator).status == 200
    r = http("GET", url(dep, evidence), credential=dep.other_operator)
    assert r.status == 200 and r.body == files["sk"], r.status
    listed = http("GET", url(dep, "/api/v1/ra/requests"), credential=dep.other_operator).json()
    assert request_id in json.dumps(listed)
    # The receiving unit's operator sees nothing of it.
    assert http("GET", url(dep, one), credential=dep.operator).status == 404
    assert http("GET", url(dep, evidence), credential=dep.operator).status == 404
    listed = http("GET", url(dep, "/api/v1/ra/requests"), credential=dep.operator).json()
    assert request_id not in json.dumps(listed)
    # The verifikator sees every request.
    assert http("GET", url(dep, one), credential=dep.verifikator).status == 200
