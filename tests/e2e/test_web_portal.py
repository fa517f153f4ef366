"""The public verification portal (/verifikasi) and the QR record page (/v/{id}) in a real
browser (headless Chromium through Selenium) against a real server, on both storage backends:

- a valid, a tampered, an unsigned and a non-PDF file each get the right verdict, in Bahasa
  Indonesia and in English;
- the QR record page compares the file the reader holds with the record;
- the pages work with JavaScript switched off (progressive enhancement);
- axe-core (WCAG 2.1 AA rules) finds no serious or critical violation on any page, the strict
  Content-Security-Policy blocks nothing the pages need, and touch targets are at least 44 px;
- per-address rate limit and size limit answer with a clear message.

Screenshots of every page at 360x740 and 1280x800 go to test-output/screenshots (or
$SAHIH_SCREENSHOTS).
"""
from __future__ import annotations

import json

import pytest

from conftest import REPO
from browser import browser, check_page, set_viewport, submit_and_wait  # noqa: F401 (browser is a fixture)
from ecs_support import BACKENDS, http, make_deployment, multipart

NIK = "3171012501850003"
PASS = "Rahasia-Portal-2026!"
POSITION = "Kepala Dinas Komunikasi dan Informatika"
@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"portal-{request.param}"), request.param)
    d.official = d.sahih.enroll(nik=NIK, nip="198501252010011003", passphrase=PASS)
    d.app = d.add_client("portal-app")
    yield d
    d.close()


@pytest.fixture(scope="module")
def documents(dep, corpus):
    """A letter signed through the native API, its record id, a tampered copy, the unsigned
    original and a file that is not a PDF."""
    letter = (corpus / "pdftex.pdf").read_bytes()
    body, ctype = multipart({"request": json.dumps({
        "nik": NIK, "passphrase": PASS, "reason": "Persetujuan",
        "placement": {"anchor": POSITION}})}, {"file": ("surat.pdf", letter, "application/pdf")})
    r = http("POST", dep.servers[0].url + "/api/v1/documents", credential=dep.app, data=body,
             content_type=ctype)
    assert r.status == 200, r.body[:400]
    info = r.json()
    signed = http("GET", dep.servers[0].url + f"/api/v1/documents/{info['id']}/file",
                  credential=dep.app).body
    assert signed.startswith(letter)
    # Alter one byte inside the signed part (the original letter's body).
    at = len(letter) // 2
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
    return {"id": info["id"], "signed": signed, "tampered": tampered, "unsigned": letter,
            "text": "Ini bukan PDF, hanya catatan biasa.\n".encode()}


def upload(driver, path, data: bytes, tmp_path, file_name: str):
    from selenium.webdriver.common.by import By
    f = tmp_path / file_name
    f.write_bytes(data)
    driver.find_element(By.ID, "berkas").send_keys(str(f))
    submit_and_wait(driver)


def verdict(driver) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, "hasil").text


def test_portal_gives_the_right_verdict_for_each_kind_of_file(dep, documents, browser, tmp_path):
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    d = browser()
    set_viewport(d, "360x740")
    d.get(base + "/verifikasi")
    assert "Verifikasi dokumen" in d.title and ORG_NAME(dep) in d.page_source
    check_page(d, dep.backend, "portal-form")

    upload(d, "/verifikasi", documents["signed"], tmp_path, "surat-ttd.pdf")
    assert verdict(d) == "SAH", d.page_source[:2000]
    page = d.find_element(By.TAG_NAME, "main").text
    assert dep.official.name.split(",")[0] in page and POSITION in page, page
    assert "Dokumen tidak diubah sejak ditandatangani" in page, page
    assert "Sertifikat tidak dicabut" in page, page
    assert "Sama persis dengan berkas yang dicatat" in page, page
    assert NIK not in d.page_source, "the NIK is personal data and must not be shown"
    details = d.find_element(By.CSS_SELECTOR, "details")
    assert details.get_attribute("open") is None, "the ETSI detail sits behind a toggle"
    check_page(d, dep.backend, "portal-valid")
    record_href = d.find_element(By.PARTIAL_LINK_TEXT, "lihat catatan QR").get_attribute("href")
    assert record_href.endswith("/v/" + documents["id"]), record_href

    d.get(base + "/verifikasi")
    upload(d, "/verifikasi", documents["tampered"], tmp_path, "surat-diubah.pdf")
    assert verdict(d) == "TIDAK SAH", d.page_source[:2000]
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Isi dokumen telah diubah" in main, main
    # Trust and time were not examined once the content changed; the page must not claim them.
    assert "otoritas yang dipercaya" not in main and "tanpa cap waktu" not in main, main
    assert "Sama persis dengan berkas" not in d.page_source
    check_page(d, dep.backend, "portal-tampered")

    d.get(base + "/verifikasi")
    upload(d, "/verifikasi", documents["unsigned"], tmp_path, "surat-asli.pdf")
    assert verdict(d) == "TIDAK ADA TANDA TANGAN", d.page_source[:2000]
    check_page(d, dep.backend, "portal-unsigned")

    d.get(base + "/verifikasi")
    upload(d, "/verifikasi", documents["text"], tmp_path, "catatan.pdf")
    alert = d.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "Berkas ini bukan PDF" in alert, alert
    check_page(d, dep.backend, "portal-not-pdf")

    # English, chosen with the toggle.
    d.get(base + "/verifikasi")
    d.find_element(By.CSS_SELECTOR, "a.lang").click()
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    upload(d, "/verifikasi", documents["tampered"], tmp_path, "letter.pdf")
    assert verdict(d) == "NOT VALID", d.page_source[:2000]
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_page(d, dep.backend, "portal-tampered-en")


def ORG_NAME(dep) -> str:
    from conftest import ORG
    return ORG


def test_qr_record_page_compares_the_file_in_hand(dep, documents, browser, tmp_path):
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    d = browser()
    set_viewport(d, "360x740")
    d.get(base + f"/v/{documents['id']}")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Dokumen ini ditandatangani secara elektronik" in main
    assert POSITION in main and "Sertifikat masih berlaku sampai" in main, main
    assert NIK not in d.page_source
    check_page(d, dep.backend, "record")

    upload(d, f"/v/{documents['id']}", documents["signed"], tmp_path, "surat-ttd.pdf")
    assert "Berkas Anda sama persis dengan yang ditandatangani" in d.page_source
    check_page(d, dep.backend, "record-same")
    upload(d, f"/v/{documents['id']}", documents["tampered"], tmp_path, "surat-diubah.pdf")
    assert "Berkas Anda BERBEDA dari yang ditandatangani" in d.page_source
    check_page(d, dep.backend, "record-different")

    d.get(base + "/v/tidakadadokumenini")
    assert "Dokumen tidak ditemukan" in d.page_source
    check_page(d, dep.backend, "record-not-found")

    # After a revocation the record page says so, and that it came after the signing.
    r = dep.run("revoke", "--nik", NIK, "--reason", "keyCompromise")
    assert r.returncode == 0, r.describe()
    d.get(base + f"/v/{documents['id']}")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Sertifikat dicabut pada" in main and "sesudah dokumen ini ditandatangani" in main, main
    check_page(d, dep.backend, "record-revoked")


def test_pages_work_without_javascript(dep, documents, browser, tmp_path):
    from selenium.webdriver.common.by import By
    d = browser(javascript=False)
    d.get(dep.servers[0].url + "/verifikasi?lang=en")
    upload(d, "/verifikasi", documents["unsigned"], tmp_path, "plain.pdf")
    assert verdict(d) == "NO SIGNATURE"
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_page_headers_forbid_inline_scripts_and_framing(dep):
    r = http("GET", dep.servers[0].url + "/verifikasi")
    csp = r.headers.get("content-security-policy", "")
    assert r.status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp and r.headers.get("x-frame-options") == "DENY"
    assert "<script>" not in r.body.decode() and " style=" not in r.body.decode()
    css = http("GET", dep.servers[0].url + "/aset/sahih.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert "max-age" in css.headers.get("cache-control", "")
    logo = http("GET", dep.servers[0].url + "/aset/logo")
    assert logo.status == 200 and logo.headers["content-type"] == "image/svg+xml"


@pytest.fixture(scope="module")
def limited(sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("portal-limits"), "sqlite",
                        config_edits={"portal_max_mib": 1, "portal_per_minute": 3})
    yield d
    d.close()


def test_rate_and_size_limits_answer_with_a_clear_message(limited, corpus):
    base = limited.servers[0].url
    letter = (corpus / "pdftex.pdf").read_bytes()
    kept = sorted(p.name for p in limited.sahih.data.rglob("*"))

    def post(data: bytes, lang: str = "id"):
        body, ctype = multipart({"lang": lang}, {"berkas": ("f.pdf", data, "application/pdf")})
        return http("POST", base + "/verifikasi", data=body, content_type=ctype)

    big = post(b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    assert big.status == 413 and "Berkas terlalu besar" in big.body.decode(), big.body[:500]
    assert "1 MB" in big.body.decode()
    ok = post(letter, "en")
    assert ok.status == 200 and "NO SIGNATURE" in ok.body.decode()
    assert post(letter).status == 200
    refused = post(letter)
    assert refused.status == 429, refused.status
    assert "Terlalu sering" in refused.body.decode()
    assert int(refused.headers["retry-after"]) >= 1
    # Nothing uploaded was kept: the data directory holds the same files as before.
    assert sorted(p.name for p in limited.sahih.data.rglob("*")) == kept
