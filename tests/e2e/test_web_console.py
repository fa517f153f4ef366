"""The staff consoles in a real browser (headless Chromium), on both backends: staff log in as
people (password plus second factor), an OPD operator files a request with evidence and sees a
preview before sending, a Diskominfo verifikator reviews the evidence inline, rejects it once for
a missing SK, approves the corrected request, and the official activates and signs their first
letter from the inbox. Separation of duties holds per person through the pages and the API
alike, and every console route answers only the roles it is for.
"""
from __future__ import annotations

import io
import json
import re
import urllib.parse

import pytest
from PIL import Image

from browser import browser, check_page, set_viewport, submit_and_wait, totp_code  # noqa: F401
from conftest import REPO
from ecs_support import BACKENDS, http, make_deployment, multipart, wait_for

UNIT = "Dinas Kesehatan"
PASSWORD = "Gudeg-Manggar-Bantul-2026"
OFFICIAL_NIK = "3374014506820004"
OFFICIAL = {"nik": OFFICIAL_NIK, "nip": "198206152008012004", "name": "dr. Ratna Kusumawati",
            "email": "ratna.kusumawati@dinkes.contoh.go.id",
            "position": "Kepala Bidang Pelayanan Kesehatan", "unit": UNIT}
PASSPHRASE = "Lumpia-Gang-Lombok-Semarang"
OFFICIAL_LOGIN = "Tahu-Gimbal-Semarang-2026"
# The verifikator who is also an official of the service (their own request must go to
# someone else), and an operator account held by the same person as a verifikator account.
VERIF_NIK = "3374010101800001"
TWIN_NIK = "3374010101800002"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"console-{request.param}"),
                        request.param)
    d.app = d.add_client("e-office")
    yield d
    d.close()


@pytest.fixture(scope="module")
def files(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence")
    jpg = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 180, 150)).save(jpg, "JPEG", quality=90)
    paths = {
        "letter": (corpus / "reportlab.pdf").read_bytes(),
        "sk": (corpus / "libreoffice.pdf").read_bytes(),
        "wrong_sk": (corpus / "pdftex.pdf").read_bytes(),
        "ktp": jpg.getvalue(),
    }
    result = {}
    for name, data in paths.items():
        p = out / (name + (".jpg" if name == "ktp" else ".pdf"))
        p.write_bytes(data)
        result[name] = p
    return result


def setup_link(dep, email) -> str:
    out = dep.run("outbox", email).stdout
    links = re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out)
    assert links, out
    return urllib.parse.urlparse(links[-1]).path


def invite(dep, role, email, name, *, unit=None, nik=None):
    args = ["account", "invite", "--role", role, "--email", email, "--name", name]
    if unit:
        args += ["--unit", unit]
    if nik:
        args += ["--nik", nik]
    r = dep.run(*args)
    assert r.returncode == 0, r.describe()


def person_in_browser(dep, browser, role, email, name, **kw):
    """A staff person invited from the CLI who sets up their account in the browser; returns the
    signed-in driver (360x740)."""
    from selenium.webdriver.common.by import By
    invite(dep, role, email, name, **kw)
    d = browser()
    set_viewport(d, "360x740")
    d.get(dep.servers[0].url + setup_link(dep, email))
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "password2").send_keys(PASSWORD)
    submit_and_wait(d)
    secret = d.find_element(By.CSS_SELECTOR, ".secret").text
    d.find_element(By.ID, "code").send_keys(totp_code(secret))
    submit_and_wait(d)
    assert "Akun Anda siap dipakai" in d.page_source
    return d


def person_over_http(dep, role, email, name, **kw) -> str:
    """The same over plain HTTP; returns the session cookie."""
    invite(dep, role, email, name, **kw)
    base = dep.servers[0].url
    r = http("POST", base + setup_link(dep, email), data=urllib.parse.urlencode(
        {"password": PASSWORD, "password2": PASSWORD}).encode(), content_type=FORM, follow=False)
    cookie = re.match(r"(sahih_sesi=[^;]+)", r.headers.get("set-cookie", "")).group(1)
    page = http("GET", base + "/akun/2fa", headers={"Cookie": cookie}).body.decode()
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1)
    r = http("POST", base + "/akun/2fa", data=urllib.parse.urlencode(
        {"csrf": csrf_of(page), "code": totp_code(secret)}).encode(), content_type=FORM,
        headers={"Cookie": cookie}, follow=False)
    assert r.status in (302, 303), r.status
    return cookie


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)


def get(dep, cookie, path):
    return http("GET", dep.servers[0].url + path, headers={"Cookie": cookie} if cookie else None,
                follow=False)


def post_form(dep, cookie, path, fields, csrf_from="/beranda"):
    page = get(dep, cookie, csrf_from).body.decode()
    fields = {"csrf": csrf_of(page), "lang": "id", **fields}
    return http("POST", dep.servers[0].url + path, data=urllib.parse.urlencode(fields).encode(),
                content_type=FORM, headers={"Cookie": cookie}, follow=False)


def fill_request(d, official, files: dict):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    Select(d.find_element(By.ID, "kind")).select_by_value("enroll")
    for field in ("name", "nik", "nip", "email", "position"):
        el = d.find_element(By.ID, field)
        el.clear()
        el.send_keys(official[field])
    for field, path in files.items():
        d.find_element(By.ID, f"f-{field}").send_keys(str(path))


def request_id_of(d) -> str:
    m = re.search(r"/ra/(req-[A-Za-z0-9]+)", d.current_url)
    assert m, d.current_url
    return m.group(1)


def images_loaded(d) -> bool:
    return d.execute_script(
        "return [...document.querySelectorAll('img.page, img.scan')]"
        ".every(i => i.complete && i.naturalWidth > 100)")


def test_the_seeds_path_through_the_browser(dep, browser, files):
    """Operator files with evidence; the verifikator rejects once for a missing SK, then
    approves the corrected request; the official activates and signs their first letter."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    op = person_in_browser(dep, browser, "operator", "operator@dinkes.contoh.go.id",
                           "Bambang Operator", unit=UNIT)
    ver = person_in_browser(dep, browser, "verifikator", "verifikator@kominfo.contoh.go.id",
                            "Siti Verifikator", nik=VERIF_NIK)

    # 1. The operator files a request; the SK slot holds the wrong document.
    op.get(base + "/ra")
    assert UNIT in op.page_source
    check_page(op, dep.backend, "ra-queue-operator-empty")
    op.find_element(By.PARTIAL_LINK_TEXT, "Ajukan permohonan").click()
    check_page(op, dep.backend, "ra-new")
    fill_request(op, OFFICIAL, {"surat_permohonan": files["letter"], "ktp": files["ktp"],
                                "sk_jabatan": files["wrong_sk"]})
    submit_and_wait(op, "main button[type=submit]")
    assert "Periksa sebelum mengirim" in op.page_source, op.page_source[:1500]
    wait_for(lambda: images_loaded(op), "preview images")
    assert op.find_elements(By.CSS_SELECTOR, "img.scan"), "the e-KTP scan is shown"
    check_page(op, dep.backend, "ra-preview")
    submit_and_wait(op, "form[action$='/kirim'] button")
    first = request_id_of(op)
    assert "Permohonan terkirim" in op.page_source
    assert "Menunggu verifikasi" in op.page_source
    check_page(op, dep.backend, "ra-request-operator")

    # 2. The verifikator's queue shows it; the review shows the evidence inline.
    ver.get(base + "/ra")
    assert OFFICIAL["name"] in ver.page_source
    check_page(ver, dep.backend, "ra-queue-verifikator")
    ver.find_element(By.PARTIAL_LINK_TEXT, OFFICIAL["name"]).click()
    wait_for(lambda: images_loaded(ver), "evidence images")
    assert len(ver.find_elements(By.CSS_SELECTOR, "section.doc")) == 3
    assert ver.find_elements(By.CSS_SELECTOR, "img.scan") and \
        ver.find_elements(By.CSS_SELECTOR, "img.page")
    assert "tidak ditandatangani secara elektronik" in ver.page_source
    check_page(ver, dep.backend, "ra-review")
    ver.find_element(By.ID, "alasan").send_keys(
        "SK jabatan tidak ada: berkas yang diunggah bukan SK pengangkatan.")
    submit_and_wait(ver, "form textarea#alasan ~ button")
    assert "Permohonan ditolak" in ver.page_source

    # The operator sees why, and files again from the rejected request with the right SK.
    op.get(base + f"/ra/{first}")
    assert "SK jabatan tidak ada" in op.page_source
    check_page(op, dep.backend, "ra-rejected-operator")
    op.find_element(By.PARTIAL_LINK_TEXT, "Perbaiki dan ajukan ulang").click()
    assert op.find_element(By.ID, "nik").get_attribute("value") == OFFICIAL_NIK
    for field in ("surat_permohonan", "ktp", "sk_jabatan"):
        path = files["sk"] if field == "sk_jabatan" else files[
            "letter" if field == "surat_permohonan" else "ktp"]
        op.find_element(By.ID, f"f-{field}").send_keys(str(path))
    submit_and_wait(op, "main button[type=submit]")
    submit_and_wait(op, "form[action$='/kirim'] button")
    second = request_id_of(op)
    assert second != first

    # Approving needs the checklist; the browser enforces it, and so does the server.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in ver.get_cookies())
    r = post_form(dep, cookie, f"/ra/{second}/putus", {"putusan": "setuju"}, f"/ra/{second}")
    assert r.status == 422 and "daftar periksa" in r.body.decode().lower()
    ver.get(base + f"/ra/{second}")
    for box in ("cek_ktp", "cek_sk", "cek_surat"):
        ver.find_element(By.NAME, box).click()
    submit_and_wait(ver, "form input[value=setuju] ~ button")
    assert "Permohonan disetujui" in ver.page_source, ver.page_source[:1500]
    check_page(ver, dep.backend, "ra-approved")

    # The decision is audited with what the verifikator confirmed, as a person.
    audit = dep.run("audit", "export").stdout
    approvals = [line for line in audit.splitlines() if '"ra.approve"' in line]
    assert any("Diperiksa" in line and '"account:' in line for line in approvals), approvals

    # 3. The official activates from the e-mail and signs their first letter in the inbox.
    out = dep.run("outbox", OFFICIAL["email"]).stdout
    token = re.findall(r"/aktivasi/([A-Za-z0-9_-]{20,})", out)[-1]
    off = browser()
    set_viewport(off, "360x740")
    off.get(base + f"/aktivasi/{token}")
    for field, value in (("p1", PASSPHRASE), ("p2", PASSPHRASE), ("l1", OFFICIAL_LOGIN),
                         ("l2", OFFICIAL_LOGIN)):
        off.find_element(By.ID, field).send_keys(value)
    submit_and_wait(off)
    assert "Sertifikat Anda aktif" in off.page_source, off.page_source[:1000]
    off.find_element(By.PARTIAL_LINK_TEXT, "Pasang aplikasi autentikator").click()
    secret = off.find_element(By.CSS_SELECTOR, ".secret").text
    off.find_element(By.ID, "code").send_keys(totp_code(secret))
    submit_and_wait(off)
    letter = files["sk"].read_bytes()
    body, ctype = multipart({"request": json.dumps({"nik": OFFICIAL_NIK,
                                                    "message": "Surat pertama"})},
                            {"file": [("surat-pertama.pdf", letter, "application/pdf")]})
    r = http("POST", base + "/api/v1/signing-requests", credential=dep.app, data=body,
             content_type=ctype)
    assert r.status == 201, r.body
    off.get(base + "/kotak-masuk")
    off.find_element(By.PARTIAL_LINK_TEXT, "surat-pertama.pdf").click()
    off.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
    submit_and_wait(off, "form[action$='/tandatangani'] button")
    assert "1 permintaan ditandatangani" in off.page_source, off.page_source[:1500]

    # 4. An administrator sees that signature on the dashboard and in the audit log.
    adm = person_in_browser(dep, browser, "admin", "pertama@kominfo.contoh.go.id",
                            "Rina Administrator")
    adm.get(base + "/admin")
    units = {li.find_element(By.CSS_SELECTOR, ".hb-label").text:
             int(li.find_element(By.CSS_SELECTOR, ".hb-value").text)
             for li in adm.find_elements(By.CSS_SELECTOR, "#per-unit ~ ul.hbars li")}
    assert units.get(UNIT, 0) >= 1, units
    adm.get(base + f"/admin/audit?aksi=sign&nik={OFFICIAL_NIK}")
    assert len(adm.find_elements(By.CSS_SELECTOR, ".item-head")) == 1
    assert f"nik:{OFFICIAL_NIK}" in adm.find_element(By.CSS_SELECTOR, "ol.audit").text

    # The operator's list now shows the request as active, and the next step starts from it.
    op.get(base + "/ra")
    assert "Aktif" in op.page_source
    op.get(base + f"/ra/{second}")
    op.find_element(By.PARTIAL_LINK_TEXT, "Perpanjangan").click()
    from selenium.webdriver.support.ui import Select
    kind = Select(op.find_element(By.ID, "kind")).first_selected_option.get_attribute("value")
    assert kind == "renew" and op.find_element(By.ID, "nik").get_attribute("value") == OFFICIAL_NIK


def test_separation_of_duties_per_person_through_pages_and_api(dep, files):
    """Nobody decides a request about themselves or one they filed under another account; an
    operator of another unit does not see the request at all."""
    base = dep.servers[0].url
    # An API operator client held by the same person as a verifikator account.
    op_client = dep.add_client("op-dinkes-api", "--role", "operator", "--unit", UNIT,
                               "--person-nik", TWIN_NIK)
    twin = person_over_http(dep, "verifikator", "twin@kominfo.contoh.go.id", "Andi Kembar",
                            nik=TWIN_NIK)
    other_ver = person_over_http(dep, "verifikator", "rina@kominfo.contoh.go.id", "Rina Lain",
                                 nik="3374010101800003")
    stranger = person_over_http(dep, "operator", "operator@dishub.contoh.go.id", "Operator Dishub",
                                unit="Dinas Perhubungan")
    about_me = {"nik": TWIN_NIK, "nip": "198001012005011002", "name": "Andi Kembar",
                "email": "andi.kembar@dinkes.contoh.go.id", "position": "Staf", "unit": UNIT}
    someone = {"nik": "3374015505900005", "nip": "199005152015012005", "name": "Wulan Sari",
               "email": "wulan.sari@dinkes.contoh.go.id", "position": "Kepala Seksi",
               "unit": UNIT}

    plain_client = dep.add_client("op-dinkes-plain", "--role", "operator", "--unit", UNIT)

    def file_over_api(official, client=op_client):
        body, ctype = multipart(
            {"request": json.dumps({"kind": "enroll", "officials": [official]})},
            {"surat_permohonan": ("surat.pdf", files["letter"].read_bytes(), "application/pdf"),
             "ktp": ("ktp.jpg", files["ktp"].read_bytes(), "image/jpeg"),
             "sk_jabatan": ("sk.pdf", files["sk"].read_bytes(), "application/pdf")})
        r = http("POST", base + "/api/v1/ra/submissions", credential=client, data=body,
                 content_type=ctype)
        assert r.status == 201, r.body
        return r.json()["requests"][0]["id"]

    mine = file_over_api(about_me, plain_client)
    filed_by_twin = file_over_api(someone)
    # Through the page: the twin may not decide either (about themselves; filed by themselves).
    for rid, why in ((mine, "dirinya sendiri"), (filed_by_twin, "ia ajukan sendiri")):
        r = post_form(dep, twin, f"/ra/{rid}/putus",
                      {"putusan": "setuju", "cek_ktp": "1", "cek_sk": "1", "cek_surat": "1"},
                      f"/ra/{rid}")
        assert r.status == 403 and why in r.body.decode(), (r.status, r.body[:400])
    # An operator of another unit sees neither the request nor its evidence.
    assert get(dep, stranger, f"/ra/{mine}").status == 404
    assert get(dep, stranger, f"/ra/{mine}/berkas/ktp").status == 404
    assert OFFICIAL["name"] not in get(dep, stranger, "/ra?status=semua").body.decode()
    # Someone else decides; the page and the API agree on the outcome.
    r = post_form(dep, other_ver, f"/ra/{mine}/putus",
                  {"putusan": "tolak", "alasan": "Foto e-KTP buram."}, f"/ra/{mine}")
    assert r.status == 303, r.body[:300]
    # A verifikator API client bound to the same person as the filing client is refused too.
    ver_client = dep.add_client("verif-twin-api", "--role", "verifikator", "--person-nik", TWIN_NIK)
    r = http("POST", base + f"/api/v1/ra/requests/{filed_by_twin}/approve", credential=ver_client)
    assert r.status == 403, r.body


# Every console route, with what each role gets. "page" = 200, "login" = redirect to /masuk,
def console_routes() -> list[str]:
    """The route templates of the staff consoles (`/ra...`, `/admin...`) and of the official's
    own pages (`/kotak-masuk...`, `/sertifikat...`), as the server declares them."""
    routes = set()
    for src in (REPO / "crates/server/src/web").glob("*.rs"):
        routes |= set(re.findall(r'\.route\(\s*"(/(?:ra|admin|kotak-masuk|sertifikat)[^"]*)"',
                                 src.read_text()))
    assert len(routes) > 20, routes
    return sorted(routes)


def route_pattern(route: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(route)))


# "forbidden" = 403, "missing" = 404 (the request is not theirs to see).
ROLES = ("anonymous", "official", "operator", "verifikator", "admin")


def test_every_console_route_answers_only_its_roles(dep, files):
    base = dep.servers[0].url
    cookies = {"anonymous": None}
    cookies["operator"] = person_over_http(dep, "operator", "op2@dinkes.contoh.go.id",
                                           "Operator Dua", unit=UNIT)
    cookies["verifikator"] = person_over_http(dep, "verifikator", "v3@kominfo.contoh.go.id",
                                              "Verifikator Tiga", nik="3374010101800009")
    cookies["admin"] = person_over_http(dep, "admin", "admin@kominfo.contoh.go.id", "Admin")
    # An official's account: the default official of the deployment, invited from the CLI.
    official = dep.sahih.enroll(name="Pejabat Matriks")
    r = dep.run("account", "invite", "--role", "official", "--nik", official.nik)
    assert r.returncode == 0, r.describe()
    path = setup_link(dep, official.email)
    r = http("POST", base + path, data=urllib.parse.urlencode(
        {"password": PASSWORD, "password2": PASSWORD}).encode(), content_type=FORM, follow=False)
    cookie = re.match(r"(sahih_sesi=[^;]+)", r.headers.get("set-cookie", "")).group(1)
    page = http("GET", base + "/akun/2fa", headers={"Cookie": cookie}).body.decode()
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1)
    http("POST", base + "/akun/2fa", data=urllib.parse.urlencode(
        {"csrf": csrf_of(page), "code": totp_code(secret)}).encode(), content_type=FORM,
        headers={"Cookie": cookie}, follow=False)
    cookies["official"] = cookie

    # A request filed by this unit's operator, waiting for verification.
    op_client = dep.add_client("op-matrix", "--role", "operator", "--unit", UNIT)
    body, ctype = multipart(
        {"request": json.dumps({"kind": "enroll", "officials": [{
            "nik": "3374016606910006", "nip": "199106162016012006", "name": "Maya Matriks",
            "email": "maya@dinkes.contoh.go.id", "position": "Staf", "unit": UNIT}]})},
        {"surat_permohonan": ("surat.pdf", files["letter"].read_bytes(), "application/pdf"),
         "ktp": ("ktp.jpg", files["ktp"].read_bytes(), "image/jpeg"),
         "sk_jabatan": ("sk.pdf", files["sk"].read_bytes(), "application/pdf")})
    r = http("POST", base + "/api/v1/ra/submissions", credential=op_client, data=body,
             content_type=ctype)
    rid = r.json()["requests"][0]["id"]

    gets = {
        "/ra": {"operator": "page", "verifikator": "page"},
        "/ra/baru": {"operator": "page"},
        f"/ra/{rid}": {"operator": "page", "verifikator": "page"},
        f"/ra/{rid}/berkas/ktp": {"operator": "page", "verifikator": "page"},
        f"/ra/{rid}/berkas/sk_jabatan/halaman/1": {"operator": "page", "verifikator": "page"},
        "/admin/audit": {"admin": "page"},
        "/admin/audit?periksa=1": {"admin": "page"},
        "/admin/audit/ekspor": {"admin": "page"},
        "/admin": {"admin": "page"},
        "/admin/kebijakan": {"admin": "page"},
        "/ra/bantuan": {"verifikator": "page"},
        "/admin/klien": {"admin": "page"},
        "/admin/ca": {"admin": "page"},
        "/ra/segel": {"verifikator": "page", "admin": "page"},
        f"/ra/pejabat/{official.nik}": {"verifikator": "page"},
        # Drafts belong to the operator who made them: an unknown one is missing, even to them.
        "/ra/draf/tidak-ada/berkas/ktp": {"operator": "missing"},
        "/ra/draf/tidak-ada/berkas/ktp/halaman/1": {"operator": "missing"},
        # The official's own pages: their inbox and certificate.
        "/kotak-masuk": {"official": "page"},
        "/kotak-masuk/riwayat": {"official": "page"},
        "/kotak-masuk/tidak-ada": {"official": "missing"},
        "/kotak-masuk/tidak-ada/dokumen/1": {"official": "missing"},
        "/kotak-masuk/tidak-ada/dokumen/1/halaman/1": {"official": "missing"},
        "/sertifikat": {"official": "page"},
    }
    seen = set(gets)
    for path, allowed in gets.items():
        for role in ROLES:
            r = get(dep, cookies[role], path)
            expected = allowed.get(role, "login" if role == "anonymous" else "forbidden")
            got = {200: "page", 403: "forbidden", 404: "missing"}.get(r.status)
            if r.status in (302, 303) and "/masuk" in r.headers.get("location", ""):
                got = "login"
            assert got == expected, (path, role, r.status)
    # Actions: only a verifikator decides or resends; an operator is refused, the rest too.
    for role in ("official", "operator", "admin"):
        r = post_form(dep, cookies[role], f"/ra/{rid}/putus",
                      {"putusan": "tolak", "alasan": "uji"})
        assert r.status == 403, (role, r.status)
        r = post_form(dep, cookies[role], f"/ra/{rid}/tautan", {})
        assert r.status == 403, (role, r.status)
    for role in ("official", "operator", "admin"):
        for path in (f"/ra/pejabat/{official.nik}/ubah", f"/ra/pejabat/{official.nik}/buka-kunci"):
            r = post_form(dep, cookies[role], path, {"langkah": "suspend", "alasan": "uji"})
            assert r.status == 403, (path, role, r.status)
    for role in ("official", "operator", "verifikator"):
        for path in ("/admin/klien/e-office/status", "/admin/klien/e-office/webhook"):
            r = post_form(dep, cookies[role], path, {"nonaktif": "1"})
            assert r.status == 403, (path, role, r.status)
        r = post_form(dep, cookies[role], "/admin/klien", {"name": "x", "role": "app"})
        assert r.status == 403, (role, r.status)
        r = post_form(dep, cookies[role], "/admin/ca/rotasi", {"konfirmasi": "1"})
        assert r.status == 403, (role, r.status)
        r = post_form(dep, cookies[role], "/admin/kebijakan/terapkan",
                      {"toml": "x", "current": "0" * 64})
        assert r.status == 403, (role, r.status)
    for role in ("official", "operator", "admin"):
        r = post_form(dep, cookies[role], "/ra/segel",
                      {"name": "Segel Uji", "unit": UNIT, "email": "uji@contoh.go.id"})
        assert r.status == 403, (role, r.status)
    # The seal pages' role (verifikator and administrator) is checked before the seal is looked
    # up: a made-up id is refused the same way.
    for role in ("official", "operator"):
        for path in ("/ra/segel/999999/terbitkan", "/ra/segel/999999/cabut"):
            r = post_form(dep, cookies[role], path, {"kode": "123456", "alasan": "uji"})
            assert r.status == 403, (path, role, r.status)
    for role in ("official", "verifikator", "admin"):
        r = post_form(dep, cookies[role], "/ra/draf/tidak-ada/kirim", {})
        assert r.status == 403, (role, r.status)
    inbox_posts = ("/kotak-masuk/tandatangani", "/kotak-masuk/tidak-ada/baca",
                   "/kotak-masuk/tidak-ada/tandatangani", "/kotak-masuk/tidak-ada/tolak",
                   "/sertifikat/passphrase")
    for role in ("operator", "verifikator", "admin"):
        for path in inbox_posts:
            r = post_form(dep, cookies[role], path, {"passphrase": "salah", "alasan": "uji"})
            assert r.status == 403, (path, role, r.status)
    seen |= set(inbox_posts)
    seen |= {f"/ra/{rid}/putus", f"/ra/{rid}/tautan", f"/ra/pejabat/{official.nik}/ubah",
             f"/ra/pejabat/{official.nik}/buka-kunci", "/admin/klien/e-office/status",
             "/admin/klien/e-office/webhook", "/admin/ca/rotasi", "/admin/kebijakan/terapkan",
             "/ra/segel/999999/terbitkan", "/ra/segel/999999/cabut", "/ra/draf/tidak-ada/kirim"}
    # Every console route the server declares is in this matrix, so a new staff page cannot
    # ship without an entry (the API's matrix does the same: crates/server/tests/authz_matrix.rs).
    uncovered = [route for route in console_routes()
                 if not any(route_pattern(route).fullmatch(p.split("?")[0]) for p in seen)]
    assert not uncovered, f"console routes missing from the page matrix: {uncovered}"
    r = http("POST", base + f"/ra/{rid}/putus", data=b"putusan=tolak&alasan=x",
             content_type=FORM, follow=False)
    assert r.status in (302, 303, 403), r.status
    # Nothing was decided by anyone refused above.
    assert "Menunggu verifikasi" in get(dep, cookies["verifikator"], f"/ra/{rid}").body.decode()


def test_the_audit_log_page_filters_pages_checks_and_exports(dep, browser):
    """An administrator reads the audit log in the browser: filtered by action, paged by
    sequence number, the whole chain checked on demand (and shown broken at the first altered
    entry), and what the filter selects exported as JSON lines, oldest first."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    admin = person_in_browser(dep, browser, "admin", "audit@kominfo.contoh.go.id",
                              "Dewi Administrator")
    # More entries of one action than a page holds.
    for _ in range(55):
        r = http("POST", base + "/api/v1/webhooks/secret", credential=dep.app)
        assert r.status == 200, r.body
    admin.get(base + "/admin/audit")
    # Newest first: the last of those calls heads the page.
    top = admin.find_element(By.CSS_SELECTOR, ".item-head")
    assert "client.webhook_secret" in top.text, top.text
    check_page(admin, dep.backend, "admin-audit")

    admin.get(base + "/admin/audit?aksi=client.webhook_secret")
    actions = {e.text for e in admin.find_elements(By.CSS_SELECTOR, ".item-head code")}
    assert actions == {"client.webhook_secret"}, actions
    first_page = [int(e.text.lstrip("#")) for e in
                  admin.find_elements(By.CSS_SELECTOR, ".item-head strong")]
    assert len(first_page) == 50 and first_page == sorted(first_page, reverse=True)
    admin.find_element(By.PARTIAL_LINK_TEXT, "Entri sebelumnya").click()
    second_page = [int(e.text.lstrip("#")) for e in
                   admin.find_elements(By.CSS_SELECTOR, ".item-head strong")]
    assert second_page and max(second_page) < min(first_page)
    assert len(first_page) + len(second_page) >= 55

    # The export holds exactly what the filter selects, oldest first.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in admin.get_cookies())
    r = get(dep, cookie, "/admin/audit/ekspor?aksi=client.webhook_secret")
    assert r.status == 200 and "ndjson" in r.headers["content-type"]
    exported = [json.loads(line) for line in r.body.decode().splitlines()]
    seqs = [e["seq"] for e in exported]
    assert seqs == sorted(seqs) and set(first_page + second_page) <= set(seqs)
    assert {e["action"] for e in exported} == {"client.webhook_secret"}
    cli = [json.loads(line) for line in dep.run("audit", "export").stdout.splitlines()]
    assert seqs == [e["seq"] for e in cli if e["action"] == "client.webhook_secret"]

    # The chain, checked on demand: intact, then broken at an altered entry.
    admin.get(base + "/admin/audit")
    admin.find_element(By.PARTIAL_LINK_TEXT, "Periksa seluruh rantai").click()
    assert "Rantai audit utuh" in admin.page_source, admin.page_source[:1500]
    victim = seqs[0]
    original = [e for e in cli if e["seq"] == victim][0]["detail"]
    dep.sql(f"UPDATE audit_log SET detail = 'diubah' WHERE seq = {victim}")
    try:
        admin.get(base + "/admin/audit?periksa=1")
        alert = admin.find_element(By.CSS_SELECTOR, ".alert.bad").text
        assert f"RUSAK mulai entri {victim}" in alert, alert
        check_page(admin, dep.backend, "admin-audit-broken")
    finally:
        restored = original.replace("'", "''")
        dep.sql(f"UPDATE audit_log SET detail = '{restored}' WHERE seq = {victim}")
    # Nobody but an administrator reads it.
    assert get(dep, None, "/admin/audit").status in (302, 303)


POLICY_FORBIDS_KEUANGAN = """
default_class = "surat-dinas"

[[class]]
code = "surat-dinas"
name = "Surat Dinas"
rule = "allowed"
regulation = "Peraturan Wali Kota Contoh Nomor 7 Tahun 2024 Pasal 5"

[[class]]
code = "keuangan"
name = "Dokumen Keuangan"
rule = "forbidden"
regulation = "Peraturan Wali Kota Contoh Nomor 7 Tahun 2024 Pasal 9"
"""


def test_the_administrator_sees_signatures_loads_a_policy_and_sees_its_refusals(
        dep, browser, files, tmp_path):
    """The administrator sees a signature on the dashboard and in the audit log, loads a policy
    forbidding the class "keuangan" after comparing it with the one in force, and sees the
    refusal it causes appear in the refusals chart."""
    from selenium.webdriver.common.by import By
    import base64
    base = dep.servers[0].url
    signer = dep.sahih.enroll(name="Hendra Dasbor", unit="Badan Keuangan Daerah")
    pdf = base64.b64encode(files["sk"].read_bytes()).decode()
    passphrase = signer.passfile.read_text().strip()
    r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
             json_body={"nik": signer.nik, "passphrase": passphrase, "file": [pdf]})
    assert r.status == 200, r.body[:300]

    admin = person_in_browser(dep, browser, "admin", "dasbor@kominfo.contoh.go.id",
                              "Yusuf Administrator")
    admin.get(base + "/admin")
    units = {li.find_element(By.CSS_SELECTOR, ".hb-label").text:
             int(li.find_element(By.CSS_SELECTOR, ".hb-value").text)
             for li in admin.find_elements(By.CSS_SELECTOR, "#per-unit ~ ul.hbars li")}
    assert units.get("Badan Keuangan Daerah") == 1, units
    assert admin.find_elements(By.CSS_SELECTOR, "figure.columns svg rect"), "the day chart"
    today = admin.find_elements(By.CSS_SELECTOR, "#per-hari ~ details tbody tr")[-1]
    assert int(today.find_elements(By.TAG_NAME, "td")[1].get_attribute("textContent")) >= 1
    check_page(admin, dep.backend, "admin-dashboard")
    admin.get(base + f"/admin/audit?aksi=sign&nik={signer.nik}")
    assert len(admin.find_elements(By.CSS_SELECTOR, ".item-head")) == 1

    # A policy file that does not parse changes nothing.
    bad = tmp_path / "rusak.toml"
    bad.write_text('default_class = "tidak-ada"\n[[class]]\ncode = "surat-dinas"\n')
    admin.get(base + "/admin/kebijakan")
    check_page(admin, dep.backend, "admin-policy")
    admin.find_element(By.ID, "berkas").send_keys(str(bad))
    submit_and_wait(admin, "form[enctype] button")
    assert "tidak valid" in admin.find_element(By.CSS_SELECTOR, ".alert.bad").text
    # The real one: compared first, then applied.
    good = tmp_path / "larangan-keuangan.toml"
    good.write_text(POLICY_FORBIDS_KEUANGAN)
    admin.find_element(By.ID, "berkas").send_keys(str(good))
    submit_and_wait(admin, "form[enctype] button")
    changes = admin.find_element(By.ID, "perbandingan").find_element(By.XPATH, "..").text
    assert "keuangan" in changes and "dilarang TTE" in changes, changes
    check_page(admin, dep.backend, "admin-policy-compare")
    r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
             json_body={"nik": signer.nik, "passphrase": passphrase, "file": [pdf],
                        "kelasDokumen": "keuangan"})
    assert r.status != 200, "not in force before it is applied: the class is unknown yet"
    submit_and_wait(admin, "form[action$='/terapkan'] button")
    assert "Kebijakan baru berlaku" in admin.page_source
    assert "Yusuf Administrator" in admin.find_element(By.ID, "riwayat").find_element(
        By.XPATH, "..").text

    # A signature of the forbidden class is refused, and the refusal shows on the dashboard.
    r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
             json_body={"nik": signer.nik, "passphrase": passphrase, "file": [pdf],
                        "kelasDokumen": "keuangan"})
    assert r.status == 403 and "Pasal 9" in r.body.decode(), (r.status, r.body[:300])
    admin.get(base + "/admin")
    refusals = {li.find_element(By.CSS_SELECTOR, ".hb-label").text:
                int(li.find_element(By.CSS_SELECTOR, ".hb-value").text)
                for li in admin.find_elements(By.CSS_SELECTOR, "#penolakan ~ ul.hbars li")}
    assert refusals.get("Kebijakan jenis dokumen", 0) >= 1, refusals
    check_page(admin, dep.backend, "admin-dashboard-refusals")
    # An applied comparison cannot be replayed over a policy that changed meanwhile.
    page = get(dep, "; ".join(f"{c['name']}={c['value']}" for c in admin.get_cookies()),
               "/admin/kebijakan").body.decode()
    r = http("POST", base + "/admin/kebijakan/terapkan", data=urllib.parse.urlencode(
        {"csrf": csrf_of(page), "lang": "id", "toml": POLICY_FORBIDS_KEUANGAN,
         "current": "0" * 64}).encode(), content_type=FORM,
        headers={"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in admin.get_cookies())},
        follow=False)
    assert r.status == 409, r.status


def test_the_help_desk_lifts_a_lockout_and_a_verifikator_changes_a_certificate(dep, browser, files):
    """The help desk lists a locked-out official and an approved one who never activated, each
    with its remedy; lifting the lockout needs the identity check written down (audited), and
    the certificate page suspends, resumes and, after confirming, revokes."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    import base64
    base = dep.servers[0].url
    pdf = base64.b64encode(files["sk"].read_bytes()).decode()
    locked = dep.sahih.enroll(name="Rudi Terkunci", unit=UNIT)
    passphrase = locked.passfile.read_text().strip()
    for _ in range(10):
        r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
                 json_body={"nik": locked.nik, "passphrase": "salah-salah-salah", "file": [pdf]})
        if "terkunci" in r.body.decode().lower() or "locked" in r.body.decode().lower():
            break
    # An approved request whose official never activated.
    op_client = dep.add_client("op-helpdesk", "--role", "operator", "--unit", UNIT)
    ver_client = dep.add_client("verif-helpdesk", "--role", "verifikator", "--person-nik",
                                "3374010101800077")
    waiting = {"nik": "3374015707930007", "nip": "199307172018012007", "name": "Sari Belum Aktif",
               "email": "sari@dinkes.contoh.go.id", "position": "Staf", "unit": UNIT}
    body, ctype = multipart(
        {"request": json.dumps({"kind": "enroll", "officials": [waiting]})},
        {"surat_permohonan": ("surat.pdf", files["letter"].read_bytes(), "application/pdf"),
         "ktp": ("ktp.jpg", files["ktp"].read_bytes(), "image/jpeg"),
         "sk_jabatan": ("sk.pdf", files["sk"].read_bytes(), "application/pdf")})
    rid = http("POST", base + "/api/v1/ra/submissions", credential=op_client, data=body,
               content_type=ctype).json()["requests"][0]["id"]
    assert http("POST", base + f"/api/v1/ra/requests/{rid}/approve",
                credential=ver_client).status == 200

    ver = person_in_browser(dep, browser, "verifikator", "bantuan@kominfo.contoh.go.id",
                            "Fajar Bantuan", nik="3374010101800088")
    ver.get(base + "/ra/bantuan")
    text = ver.find_element(By.TAG_NAME, "main").text
    assert "Rudi Terkunci" in text and "Terkunci" in text, text[:1500]
    assert "Sari Belum Aktif" in text and "belum aktivasi" in text
    check_page(ver, dep.backend, "ra-helpdesk")
    links_before = dep.run("outbox", waiting["email"]).stdout.count("/aktivasi/")
    submit_and_wait(ver, f"form[action='/ra/{rid}/tautan'] button")
    assert dep.run("outbox", waiting["email"]).stdout.count("/aktivasi/") == links_before + 1

    # Lifting the lockout: the reason is required by the server too, and audited.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in ver.get_cookies())
    r = post_form(dep, cookie, f"/ra/pejabat/{locked.nik}/buka-kunci", {"alasan": " "},
                  "/ra/bantuan")
    assert r.status == 409 or r.status == 422, r.status
    ver.get(base + "/ra/bantuan")
    ver.find_element(By.ID, f"alasan-{locked.nik}").send_keys(
        "Tatap muka di Diskominfo, e-KTP dicocokkan.")
    submit_and_wait(ver, f"form[action='/ra/pejabat/{locked.nik}/buka-kunci'] button")
    assert "Kunci passphrase dibuka" in ver.page_source
    audit = dep.run("audit", "export").stdout
    assert any('"passphrase.unlock"' in line and "Tatap muka" in line and '"account:' in line
               for line in audit.splitlines())
    r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
             json_body={"nik": locked.nik, "passphrase": passphrase, "file": [pdf]})
    assert r.status == 200, r.body[:300]
    # Nobody lifts their own lockout.
    r = post_form(dep, cookie, "/ra/pejabat/3374010101800088/buka-kunci",
                  {"alasan": "saya sendiri"}, "/ra/bantuan")
    assert r.status == 403, r.status

    # The certificate page: suspend, resume, revoke (confirmed).
    ver.get(base + f"/ra/pejabat/{locked.nik}")
    check_page(ver, dep.backend, "ra-official")
    ver.find_element(By.ID, "catatan-beku").send_keys("Laporan kehilangan ponsel, diperiksa.")
    submit_and_wait(ver, "input[value=suspend] ~ button")
    assert "dibekukan" in ver.find_element(By.CSS_SELECTOR, ".facts").text
    r = http("POST", base + "/api/v2/sign/pdf", credential=dep.app,
             json_body={"nik": locked.nik, "passphrase": passphrase, "file": [pdf]})
    assert r.status != 200
    submit_and_wait(ver, "input[value=resume] ~ button")
    assert "Sertifikat aktif" in ver.find_element(By.CSS_SELECTOR, ".facts").text
    r = post_form(dep, cookie, f"/ra/pejabat/{locked.nik}/ubah",
                  {"langkah": "revoke", "alasan": "keyCompromise"}, f"/ra/pejabat/{locked.nik}")
    assert r.status == 422, "a revocation needs its confirmation"
    Select(ver.find_element(By.ID, "alasan-cabut")).select_by_value("keyCompromise")
    ver.find_element(By.NAME, "konfirmasi").click()
    submit_and_wait(ver, "input[value=revoke] ~ button")
    assert "dicabut" in ver.find_element(By.CSS_SELECTOR, ".facts").text
    status = http("POST", base + "/api/v2/user/check/status", credential=dep.app,
                  json_body={"nik": locked.nik}).json()
    assert status.get("status") == "REVOKE", status


def test_the_administrator_manages_api_clients(dep, browser):
    """An administrator adds an API client in the browser (its credential shown once, and it
    works at once), disables and enables it, and makes a webhook secret; all audited under
    their account."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    base = dep.servers[0].url
    admin = person_in_browser(dep, browser, "admin", "klien@kominfo.contoh.go.id",
                              "Lina Administrator")
    admin.get(base + "/admin/klien")
    check_page(admin, dep.backend, "admin-clients")
    admin.find_element(By.ID, "name").send_keys("simpeg-dinkes")
    Select(admin.find_element(By.ID, "role")).select_by_value("app")
    admin.find_element(By.ID, "unit").send_keys(UNIT)
    admin.find_element(By.ID, "allow_ips").send_keys("127.0.0.1, 10.0.0.0/8")
    submit_and_wait(admin, "form[action='/admin/klien'] button")
    credential = admin.find_element(By.CSS_SELECTOR, ".secret.once").text
    assert credential.startswith("simpeg-dinkes:") and len(credential) > 30
    check_page(admin, dep.backend, "admin-clients-added")
    status = lambda: http("POST", base + "/api/v2/user/check/status", credential=credential,  # noqa: E731
                          json_body={"nik": OFFICIAL_NIK}).status
    assert status() == 200
    admin.get(base + "/admin/klien")
    assert credential.split(":")[1] not in admin.page_source, "shown once, never again"
    submit_and_wait(admin, "form[action='/admin/klien/simpeg-dinkes/status'] button")
    assert status() == 401
    submit_and_wait(admin, "form[action='/admin/klien/simpeg-dinkes/status'] button")
    assert status() == 200
    submit_and_wait(admin, "form[action='/admin/klien/simpeg-dinkes/webhook'] button")
    assert admin.find_element(By.CSS_SELECTOR, ".secret.once").text.startswith("whsec_")
    audit = dep.run("audit", "export").stdout.splitlines()
    for action in ("client.add", "client.disable", "client.enable", "client.webhook_secret"):
        assert any(f'"{action}"' in line and '"account:' in line for line in audit), action
    # A name taken is refused with a clear message, nothing changes.
    admin.get(base + "/admin/klien")
    admin.find_element(By.ID, "name").send_keys("simpeg-dinkes")
    submit_and_wait(admin, "form[action='/admin/klien'] button")
    assert "sudah ada" in admin.find_element(By.CSS_SELECTOR, ".alert.bad").text


def test_the_ca_page_shows_the_trust_services_and_rotates_after_confirmation(dep, browser):
    """The administrator sees the root and issuing CA, the TSA and OCSP certificates and the
    CRLs; a rotation needs the confirmation (also on the server), then issuing CA 2 is active
    and the rotation is audited under the administrator's account."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    admin = person_in_browser(dep, browser, "admin", "ca@kominfo.contoh.go.id", "Tono Administrator")
    admin.get(base + "/admin/ca")
    text = admin.find_element(By.TAG_NAME, "main").text
    assert "CA akar" in text and "CA penerbit 1" in text and "Layanan cap waktu (TSA)" in text
    assert "/crl/issuing-1.crl" in text
    check_page(admin, dep.backend, "admin-ca")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in admin.get_cookies())
    r = post_form(dep, cookie, "/admin/ca/rotasi", {}, "/admin/ca")
    assert r.status == 422, "no rotation without the confirmation"
    admin.find_element(By.NAME, "konfirmasi").click()
    submit_and_wait(admin, "form[action='/admin/ca/rotasi'] button")
    assert "CA penerbit 2 aktif" in admin.page_source, admin.page_source[:1500]
    assert any('"ca.rotate"' in line and '"account:' in line
               for line in dep.run("audit", "export").stdout.splitlines())
    admin.get(base + "/admin/ca")
    assert "CA penerbit 2" in admin.find_element(By.ID, "ca").find_element(By.XPATH, "..").text


def test_seals_take_two_verifikators_in_the_browser(dep, browser):
    """A verifikator requests a seal, cannot issue it themselves, a second verifikator issues it
    and then revokes it after confirming; the seal API sees the same."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    v1 = person_in_browser(dep, browser, "verifikator", "segel1@kominfo.contoh.go.id",
                           "Agus Segel", nik="3374010101800021")
    v2 = person_over_http(dep, "verifikator", "segel2@kominfo.contoh.go.id", "Bina Segel",
                          nik="3374010101800022")
    v1.get(base + "/ra/segel")
    v1.find_element(By.ID, "seal-name").send_keys("Segel Dinas Kesehatan")
    v1.find_element(By.ID, "seal-unit").send_keys(UNIT)
    v1.find_element(By.ID, "seal-email").send_keys("segel@dinkes.contoh.go.id")
    submit_and_wait(v1, "form[action='/ra/segel'] button")
    assert "Segel diajukan" in v1.page_source
    check_page(v1, dep.backend, "ra-seals")
    action = v1.find_element(By.CSS_SELECTOR, "form[action$='/terbitkan']").get_attribute("action")
    path = urllib.parse.urlparse(action).path
    submit_and_wait(v1, "form[action$='/terbitkan'] button")
    assert v1.find_element(By.CSS_SELECTOR, ".alert.bad").text, "nobody issues their own request"
    r = post_form(dep, v2, path, {}, "/ra/segel")
    assert r.status == 303, (r.status, r.body[:300])
    seal_id = path.split("/")[3]
    page = get(dep, v2, "/ra/segel").body.decode()
    assert "aktif" in page
    r = post_form(dep, v2, f"/ra/segel/{seal_id}/cabut", {"alasan": "superseded"}, "/ra/segel")
    assert r.status == 422, "a revocation needs its confirmation"
    r = post_form(dep, v2, f"/ra/segel/{seal_id}/cabut",
                  {"alasan": "superseded", "konfirmasi": "1"}, "/ra/segel")
    assert r.status == 303, r.status
    assert "dicabut" in get(dep, v2, "/ra/segel").body.decode()
