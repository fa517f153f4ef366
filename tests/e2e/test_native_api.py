"""The native API under /api/v1 (issue 4): its OpenAPI document, Swagger UI rendered by a real
browser (headless Chromium, offline), and every endpoint over real HTTP on both backends.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REPO
from ecs_support import BACKENDS, ecs_error, http, make_deployment, multipart
from validators import page_count, page_text, pyhanko_validate

NIK = "3171012501850003"
PASS = "Rahasia-Negara-2026!"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"native-{request.param}"), request.param)
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003")
    d.app = d.add_client("portal")
    d.admin = d.add_client("ops", "--admin")
    yield d
    d.close()


def url(dep, path):
    return dep.servers[0].url + path


def sign(dep, pdf: bytes, request: dict, credential=None):
    body, ctype = multipart({"request": json.dumps(request)}, {"file": ("surat.pdf", pdf, "application/pdf")})
    return http("POST", url(dep, "/api/v1/documents"), credential=credential or dep.app, data=body,
                content_type=ctype)


def test_openapi_document_lists_every_endpoint(dep):
    r = http("GET", url(dep, "/api/v1/openapi.json"))
    assert r.status == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    assert {"/api/v1/documents", "/api/v1/documents/{id}", "/api/v1/documents/{id}/file",
            "/api/v1/verify", "/api/v1/officials/{nik}", "/api/v1/policy", "/api/v1/clients",
            "/api/v1/audit", "/api/v1/audit/verify"} <= paths, paths
    assert doc["components"]["securitySchemes"]["basic"]["scheme"] == "basic"
    assert "SignRequest" in doc["components"]["schemas"]


def test_swagger_ui_renders_offline_in_chromium(dep, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is installed by scripts/install-test-deps.sh"
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
                        "--dump-dom", url(dep, "/api/v1/docs/")],
                       capture_output=True, text=True, timeout=120)
    dom = p.stdout
    # The title and an operation come from openapi.json, fetched and rendered by Swagger UI's
    # JavaScript, which the binary serves itself (nothing from the internet).
    assert "Sahih native API" in dom, dom[:2000] + p.stderr[-2000:]
    assert "/api/v1/documents" in dom


def test_sign_status_download_verify(dep, corpus):
    pdf = (corpus / "pdftex.pdf").read_bytes()
    r = sign(dep, pdf, {"nik": NIK, "passphrase": PASS, "level": "B-T", "reason": "Persetujuan",
                        "placement": {"anchor": "Kepala Dinas Komunikasi dan Informatika"}})
    assert r.status == 200, r.body
    info = r.json()
    assert info["level"] == "B-T" and len(info["sha256"]) == 64
    assert info["verification_url"].endswith("/v/" + info["id"])
    st = http("GET", url(dep, f"/api/v1/documents/{info['id']}"), credential=dep.app).json()
    assert st["sha256"] == info["sha256"] and st["level"] == "B-T"
    f = http("GET", url(dep, f"/api/v1/documents/{info['id']}/file"), credential=dep.app)
    assert f.status == 200 and f.body.startswith(pdf)
    assert http("GET", url(dep, f"/api/v1/documents/{info['id']}/file"), credential=dep.app).status == 404
    path = dep.sahih.workdir / "native.pdf"
    path.write_bytes(f.body)
    ph = pyhanko_validate(path, dep.sahih.root_pem)
    assert ph.signatures[0].intact and ph.signatures[0].trusted and ph.signatures[0].reason == "Persetujuan"
    v = http("POST", url(dep, "/api/v1/verify"), credential=dep.app, data=f.body,
             content_type="application/pdf")
    assert v.status == 200 and v.json()["indication"] == "TOTAL_PASSED", v.body[:500]
    assert v.json()["signatures"][0]["level"] == "B-T"
    # Explicit page + rect, English stamp: the widget sits exactly there, and page 1 reads
    # the English headline.
    from pypdf import PdfReader

    def fetch(info):
        got = http("GET", url(dep, f"/api/v1/documents/{info['id']}/file"), credential=dep.app)
        assert got.status == 200
        out = dep.sahih.workdir / f"native-{info['id']}.pdf"
        out.write_bytes(got.body)
        return out

    def our_widget(path):
        reader = PdfReader(str(path))
        for number, page in enumerate(reader.pages, start=1):
            for annot in page.get("/Annots") or []:
                a = annot.get_object()
                if a.get("/FT") == "/Sig" or (a.get("/Parent") and a["/Parent"].get("/FT") == "/Sig"):
                    return number, [float(v) for v in a["/Rect"]]
        raise AssertionError(f"{path}: no signature widget")

    r = sign(dep, pdf, {"email": dep.official.email, "passphrase": PASS, "lang": "en",
                        "placement": {"page": "1", "rect": [72, 72, 200, 70]}})
    assert r.status == 200, r.body
    visible = fetch(r.json())
    number, rect = our_widget(visible)
    assert number == 1 and [round(v) for v in rect] == [72, 72, 272, 142], (number, rect)
    assert "Electronically signed by" in page_text(visible, 1)
    # Invisible: a zero-size widget and no stamp anywhere.
    r = sign(dep, pdf, {"nik": NIK, "passphrase": PASS, "placement": {"invisible": True}})
    assert r.status == 200, r.body
    hidden = fetch(r.json())
    _, rect = our_widget(hidden)
    assert rect[2] - rect[0] == 0 and rect[3] - rect[1] == 0, rect
    for n in range(1, page_count(hidden) + 1):
        text = page_text(hidden, n)
        assert "secara elektronik" not in text and "Electronically signed" not in text, n
    ph = pyhanko_validate(hidden, dep.sahih.root_pem)
    assert ph.signatures[0].intact and ph.signatures[0].trusted


def test_bad_requests_and_roles(dep, corpus):
    pdf = (corpus / "pdftex.pdf").read_bytes()
    r = sign(dep, pdf, {"nik": NIK, "passphrase": "salah-salah"})
    assert r.status == 400 and ecs_error(r)[0] == 2031
    r = sign(dep, pdf, {"nik": NIK, "passphrase": PASS, "level": "B-Z"})
    assert r.status == 400 and ecs_error(r)[0] == 4015
    body, ctype = multipart({"request": "{nope"}, {"file": ("a.pdf", pdf, "application/pdf")})
    r = http("POST", url(dep, "/api/v1/documents"), credential=dep.app, data=body, content_type=ctype)
    assert r.status == 400 and ecs_error(r)[0] == 4015
    r = http("POST", url(dep, "/api/v1/verify"), credential=dep.app, data=b"not a pdf",
             content_type="application/pdf")
    assert r.status == 400 and ecs_error(r)[0] == 4031
    assert http("GET", url(dep, "/api/v1/documents/doesnotexist"), credential=dep.app).status == 404
    assert http("GET", url(dep, "/api/v1/officials/3171019999999999"), credential=dep.app).status == 404
    o = http("GET", url(dep, f"/api/v1/officials/{NIK}"), credential=dep.app).json()
    assert o["status"] == "ISSUE" and o["certificate_serial"], o
    p = http("GET", url(dep, "/api/v1/policy"), credential=dep.app).json()
    assert p["default_class"] == "umum" and p["classes"][0]["rule"] == "allowed"
    # Admin-only endpoints.
    for path in ("/api/v1/clients", "/api/v1/audit", "/api/v1/audit/verify"):
        r = http("GET", url(dep, path), credential=dep.app)
        assert r.status == 403 and ecs_error(r)[0] == 4033, path
    clients = http("GET", url(dep, "/api/v1/clients"), credential=dep.admin).json()
    assert {c["name"]: c["role"] for c in clients} == {"portal": "app", "ops": "admin"}
    assert "secret" not in json.dumps(clients)
    entries = http("GET", url(dep, "/api/v1/audit?from=1"), credential=dep.admin).json()
    assert entries[0]["seq"] == 1 and any(e["action"] == "passphrase.wrong" for e in entries)
    v = http("GET", url(dep, "/api/v1/audit/verify"), credential=dep.admin).json()
    assert v["intact"] is True and v["entries"] == len(entries), v
    # Without credentials: 401 everywhere under /api/v1 except the document and the UI.
    assert http("GET", url(dep, "/api/v1/policy")).status == 401


def test_qr_page_in_chromium(dep, corpus, tmp_path):
    pdf = (corpus / "pdftex.pdf").read_bytes()
    info = sign(dep, pdf, {"nik": NIK, "passphrase": PASS, "level": "B-B"}).json()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")

    def dom(u):
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", u],
                           capture_output=True, text=True, timeout=120)
        return p.stdout

    # The QR code's URL is this server's page for the record.
    assert info["verification_url"].startswith(dep.servers[0].url + "/v/")
    page = dom(info["verification_url"])
    assert "Dokumen ini ditandatangani secara elektronik" in page, page[:1000]
    assert dep.official.name.split(",")[0] in page and info["sha256"] in page
    assert NIK not in page, "the NIK is personal data and must not be shown"
    assert "This document was signed electronically" in dom(info["verification_url"] + "?lang=en")
    r = http("GET", url(dep, "/v/tidakadadokumenini"))
    assert r.status == 404 and "Dokumen tidak ditemukan" in r.body.decode()
