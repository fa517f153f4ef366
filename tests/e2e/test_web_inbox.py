"""Signing requests and the official's inbox, end to end on both backends: a real server, a
real browser (headless Chromium at 360x740), a webhook receiver that checks every HMAC, and the
outside validators on what comes back.

1. An application files a request; the official opens it on a phone-sized screen, ticks
   "Sudah saya baca" and signs. The receiver gets request.opened, request.read and
   request.signed, in that order, each with a valid signature; the signed PDF the application
   downloads passes pdfsig and pyHanko.
2. Twenty requests are signed at once with one passphrase entry, and one more is rejected with
   a reason.
3. The server is killed while the receiver is down; after a restart the events still arrive.
4. An official never sees another official's request; the application never sees a
   passphrase; a forbidden class is refused when the request is filed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser import browser, check_page, set_viewport, submit_and_wait, totp_code  # noqa: F401
from conftest import free_port
from ecs_support import BACKENDS, http, make_deployment, multipart, wait_for
from validators import pdfsig, pyhanko_validate, run

NIK = "3171012501850003"
NIP = "198501252010011003"
PASS = "Rahasia-Kotak-Masuk-2026"
LOGIN_PASSWORD = "Nasi-Liwet-Solo-2026"
OTHER_NIK = "3171012501850099"


class Receiver:
    """A webhook receiver on loopback that verifies `Sahih-Signature` and records events."""

    def __init__(self, secret: str, port: int | None = None):
        self.secret = secret.encode()
        self.events: list[dict] = []
        self.bad: list[str] = []
        self.port = port or free_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sig = self.headers.get("Sahih-Signature", "")
                m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", sig)
                ok = False
                if m:
                    expected = hmac.new(receiver.secret, m.group(1).encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
                    ok = hmac.compare_digest(expected, m.group(2)) and \
                        abs(time.time() - int(m.group(1))) < 300
                if ok:
                    event = json.loads(body)
                    event["_header_id"] = self.headers.get("Sahih-Event-Id", "")
                    receiver.events.append(event)
                else:
                    receiver.bad.append(sig)
                self.send_response(200 if ok else 400)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def types(self, request_id: str) -> list[str]:
        return [e["type"] for e in self.events if e["data"]["request_id"] == request_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"inbox-{request.param}"),
                        request.param, config_edits={"webhook_retry_secs": 1})
    d.official = d.sahih.enroll(nik=NIK, nip=NIP, passphrase=PASS)
    d.other = d.sahih.enroll(nik=OTHER_NIK, nip="198501252010011099", passphrase=PASS,
                             name="Siti Lain")
    d.app = d.add_client("e-office")
    nss = d.sahih.workdir / "nss"
    nss.mkdir()
    run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
    run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", d.sahih.root_pem])
    d.nss = nss
    yield d
    d.close()


@pytest.fixture(scope="module")
def receiver(dep):
    r = http("POST", dep.servers[0].url + "/api/v1/webhooks/secret", credential=dep.app)
    assert r.status == 200, r.body
    rec = Receiver(r.json()["secret"])
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "pdftex.pdf").read_bytes()


def file_request(dep, pdfs, *, nik=NIK, callback=None, cls=None, message="Mohon ditandatangani."):
    req = {"nik": nik, "message": message,
           "placement": {"anchor": "Kepala Dinas Komunikasi dan Informatika"}}
    if callback:
        req["callback_url"] = callback
    if cls:
        req["class"] = cls
    body, ctype = multipart({"request": json.dumps(req)},
                            {"file": [(f"surat-{i + 1}.pdf", p, "application/pdf")
                                      for i, p in enumerate(pdfs)]})
    return http("POST", dep.servers[0].url + "/api/v1/signing-requests", credential=dep.app,
                data=body, content_type=ctype)


def official_session(dep, browser, official, secret_holder: dict):
    """The official's account (invited from the CLI, set up in the browser); a logged-in
    driver at 360x740."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    r = dep.run("account", "invite", "--role", "official", "--nik", official.nik)
    assert r.returncode == 0, r.describe()
    out = dep.run("outbox", official.email).stdout
    path = urllib.parse.urlparse(re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out)[-1]).path
    d = browser()
    set_viewport(d, "360x740")
    d.get(base + path)
    d.find_element(By.ID, "password").send_keys(LOGIN_PASSWORD)
    d.find_element(By.ID, "password2").send_keys(LOGIN_PASSWORD)
    submit_and_wait(d)
    secret = d.find_element(By.CSS_SELECTOR, ".secret").text
    d.find_element(By.ID, "code").send_keys(totp_code(secret))
    submit_and_wait(d)
    assert "Akun Anda siap dipakai" in d.page_source
    secret_holder["totp"] = secret
    return d


@pytest.fixture(scope="module")
def inbox(dep, browser):
    holder: dict = {}
    d = official_session(dep, browser, dep.official, holder)
    d.holder = holder
    return d


def cookie_header(driver) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def test_open_read_sign_with_webhooks_in_order(dep, inbox, receiver, letter, tmp_path):
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    r = file_request(dep, [letter], callback=receiver.url)
    assert r.status == 201, r.body
    info = r.json()
    assert info["status"] == "pending" and "passphrase" not in r.body.decode().lower()
    rid = info["id"]

    d = inbox
    d.get(base + "/kotak-masuk")
    assert "surat-1.pdf" in d.page_source and "e-office" in d.page_source
    assert d.find_elements(By.CSS_SELECTOR, ".item.unread"), "a new request stands out"
    check_page(d, dep.backend, "inbox")
    d.find_element(By.PARTIAL_LINK_TEXT, "surat-1.pdf").click()
    pages = d.find_elements(By.CSS_SELECTOR, "img.page")
    assert len(pages) == 1, "every page is shown as an image"
    wait_for(lambda: d.execute_script(
        "return document.querySelector('img.page').complete && "
        "document.querySelector('img.page').naturalWidth > 500"), "page image rendered")
    check_page(d, dep.backend, "inbox-request")
    submit_and_wait(d, "form[action$='/baca'] button")
    assert "Tercatat: sudah Anda baca" in d.page_source
    d.find_element(By.ID, "passphrase").send_keys(PASS)
    submit_and_wait(d, "form[action$='/tandatangani'] button")
    assert "1 permintaan ditandatangani" in d.page_source, d.page_source[:1500]
    check_page(d, dep.backend, "inbox-signed")

    wait_for(lambda: receiver.types(rid) == ["request.opened", "request.read", "request.signed"],
             f"webhooks for {rid}", seconds=30)
    assert receiver.bad == []
    # README: each event has an id that never repeats, in the header and the body alike.
    mine = [e for e in receiver.events if e["data"]["request_id"] == rid]
    ids = [e["id"] for e in mine]
    assert all(re.fullmatch(r"evt_[a-z2-7]{26}", i) for i in ids), ids
    assert [e["_header_id"] for e in mine] == ids and len(set(ids)) == len(ids)
    log = http("GET", base + "/api/v1/webhooks/deliveries", credential=dep.app).json()
    assert {d["event_id"] for d in log if d["request_id"] == rid} == set(ids)
    signed_event = [e for e in receiver.events if e["type"] == "request.signed"][0]
    doc = signed_event["data"]["documents"][0]
    status = http("GET", base + f"/api/v1/signing-requests/{rid}", credential=dep.app).json()
    assert status["status"] == "signed" and status["read_at"] and status["opened_at"]
    pdf = http("GET", base + status["documents"][0]["download_url"], credential=dep.app)
    assert pdf.status == 200 and pdf.body.startswith(letter)
    assert hashlib.sha256(pdf.body).hexdigest() == doc["sha256"]
    f = tmp_path / "ttd.pdf"
    f.write_bytes(pdf.body)
    ps = pdfsig(f, dep.nss)
    assert ps.signatures and all(s.valid and s.trusted for s in ps.signatures), ps.run.describe()
    ph = pyhanko_validate(f, dep.sahih.root_pem)
    assert ph.signatures and all(s.intact and s.valid and s.trusted for s in ph.signatures), \
        ph.run.describe()
    # The history lists it with its QR record.
    d.get(base + "/kotak-masuk/riwayat")
    assert "Ditandatangani" in d.page_source
    check_page(d, dep.backend, "inbox-history")
    audit = dep.run("audit", "export").stdout
    assert '"signing_request.sign"' in audit and '"account:' in audit


def test_twenty_at_once_and_one_rejected(dep, inbox, receiver, letter):
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    ids = []
    for _ in range(20):
        r = file_request(dep, [letter], callback=receiver.url)
        assert r.status == 201, r.body
        ids.append(r.json()["id"])
    cookie = cookie_header(inbox)
    # Signing is offered only after opening: open each (as the official would).
    for rid in ids:
        assert http("GET", base + f"/kotak-masuk/{rid}", headers={"Cookie": cookie}).status == 200
    d = inbox
    d.get(base + "/kotak-masuk")
    boxes = d.find_elements(By.CSS_SELECTOR, "input[name=id]")
    assert len(boxes) == 20, len(boxes)
    for b in boxes:
        b.click()
    d.find_element(By.ID, "passphrase-bulk").send_keys(PASS)
    submit_and_wait(d, "form[action='/kotak-masuk/tandatangani'] button[type=submit]")
    assert "20 permintaan ditandatangani" in d.page_source, d.page_source[:2000]
    check_page(d, dep.backend, "inbox-bulk-signed")
    for rid in ids:
        assert http("GET", base + f"/api/v1/signing-requests/{rid}",
                    credential=dep.app).json()["status"] == "signed"

    r = file_request(dep, [letter], callback=receiver.url, message="Surat yang salah alamat")
    rid = r.json()["id"]
    d.get(base + f"/kotak-masuk/{rid}")
    d.find_element(By.ID, "alasan").send_keys("Nomor surat belum ada")
    submit_and_wait(d, "form[action$='/tolak'] button")
    assert "Ditolak" in d.page_source
    st = http("GET", base + f"/api/v1/signing-requests/{rid}", credential=dep.app).json()
    assert st["status"] == "rejected" and st["reason"] == "Nomor surat belum ada"
    wait_for(lambda: "request.rejected" in receiver.types(rid), "rejected webhook", seconds=30)


def test_webhooks_survive_a_killed_server(dep, inbox, letter):
    """Receiver down, the official opens a request (event queued), the server is killed;
    after a restart the event reaches the receiver once it is up."""
    base = dep.servers[0].url
    secret = http("POST", base + "/api/v1/webhooks/secret", credential=dep.app).json()["secret"]
    port = free_port()
    r = file_request(dep, [letter], callback=f"http://127.0.0.1:{port}/hook")
    rid = r.json()["id"]
    cookie = cookie_header(inbox)
    assert http("GET", base + f"/kotak-masuk/{rid}", headers={"Cookie": cookie}).status == 200
    wait_for(lambda: any(x["request_id"] == rid and x["attempts"] >= 1 for x in http(
        "GET", base + "/api/v1/webhooks/deliveries", credential=dep.app).json()),
        "a failed delivery attempt", seconds=30)
    server = dep.servers.pop(0)
    server.kill(signal.SIGKILL)
    rec = Receiver(secret, port=port)
    try:
        # The same address: the deployment's base URL names it.
        dep.start_server(port=int(server.url.rsplit(":", 1)[1]))
        dep.servers.insert(0, dep.servers.pop())
        wait_for(lambda: rec.types(rid) == ["request.opened"], "the queued event after restart",
                 seconds=60)
        log = http("GET", dep.servers[0].url + "/api/v1/webhooks/deliveries",
                   credential=dep.app).json()
        mine = [x for x in log if x["request_id"] == rid]
        assert mine and mine[0]["state"] == "delivered" and mine[0]["attempts"] >= 2, mine
        # Replay sends it again.
        assert http("POST", dep.servers[0].url + f"/api/v1/webhooks/deliveries/{mine[0]['id']}/replay",
                    credential=dep.app).status == 202
        wait_for(lambda: rec.types(rid) == ["request.opened", "request.opened"], "replayed event",
                 seconds=30)
    finally:
        rec.close()


def test_nobody_sees_another_officials_request(dep, inbox, letter):
    base = dep.servers[0].url
    r = file_request(dep, [letter], nik=OTHER_NIK)
    assert r.status == 201
    rid = r.json()["id"]
    cookie = cookie_header(inbox)
    for path in (f"/kotak-masuk/{rid}", f"/kotak-masuk/{rid}/dokumen/0",
                 f"/kotak-masuk/{rid}/dokumen/0/halaman/1"):
        got = http("GET", base + path, headers={"Cookie": cookie})
        assert got.status == 404, (path, got.status)
    page = http("GET", base + "/kotak-masuk", headers={"Cookie": cookie}).body.decode()
    assert rid not in page
    # Another client cannot read the request either.
    other_app = dep.add_client("aplikasi-lain")
    assert http("GET", base + f"/api/v1/signing-requests/{rid}", credential=other_app).status == 404
    # Without a session: the login page.
    anon = http("GET", base + f"/kotak-masuk/{rid}", follow=False)
    assert anon.status in (302, 303) and anon.headers["location"].startswith("/masuk")


def test_a_forbidden_class_is_refused_when_filed(dep, letter):
    policy = dep.sahih.workdir / "policy-inbox.toml"
    policy.write_text('default_class = "surat-dinas"\n\n'
                      '[[class]]\ncode = "surat-dinas"\nname = "Surat Dinas"\nrule = "allowed"\nregulation = "Perwako Contoh 7/2024 Pasal 5"\n\n'
                      '[[class]]\ncode = "dokumen-pencairan"\nname = "Dokumen Pencairan Dana"\n'
                      'rule = "forbidden"\nregulation = "Perwako Contoh 7/2024 Pasal 9"\n')
    r = dep.run("policy", "load", policy)
    assert r.returncode == 0, r.describe()
    r = file_request(dep, [letter], cls="dokumen-pencairan")
    assert r.status == 403, r.body
    body = r.body.decode()
    assert "Perwako Contoh 7/2024 Pasal 9" in body or "kebijakan" in body.lower(), body


PAGES_GET = ["/beranda", "/akun/sesi", "/akun/2fa", "/kotak-masuk", "/kotak-masuk/riwayat",
             "/sertifikat"]
PAGES_POST = ["/keluar", "/akun/sesi/akhiri", "/akun/2fa", "/kotak-masuk/tandatangani",
              "/sertifikat/passphrase"]


def test_every_page_by_role(dep, inbox, letter):
    """Anonymous: every session page sends to the login page and every form is refused; a
    verifikator (staff) has no inbox and no certificate page; the official reaches theirs."""
    base = dep.servers[0].url
    for path in PAGES_GET:
        r = http("GET", base + path, follow=False)
        assert r.status in (302, 303) and r.headers["location"].startswith("/masuk"), (path, r.status)
    for path in PAGES_POST:
        r = http("POST", base + path, data=b"csrf=x", follow=False,
                 content_type="application/x-www-form-urlencoded")
        assert r.status in (302, 303, 403), (path, r.status)
        assert r.status != 200
    # Staff: a verifikator account set up over HTTP.
    r = dep.run("account", "invite", "--role", "verifikator", "--email", "verif.inbox@contoh.go.id",
                "--name", "Verifikator Inbox")
    assert r.returncode == 0, r.describe()
    out = dep.run("outbox", "verif.inbox@contoh.go.id").stdout
    path = urllib.parse.urlparse(re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out)[-1]).path
    form = "application/x-www-form-urlencoded"
    r = http("POST", base + path, data=urllib.parse.urlencode(
        {"password": LOGIN_PASSWORD, "password2": LOGIN_PASSWORD}).encode(), content_type=form,
        follow=False)
    staff = re.match(r"(sahih_sesi=[^;]+)", r.headers["set-cookie"]).group(1)
    # Before the second factor: only its setup page.
    r = http("GET", base + "/kotak-masuk", headers={"Cookie": staff}, follow=False)
    assert r.status in (302, 303) and r.headers["location"] == "/akun/2fa", r.headers
    page = http("GET", base + "/akun/2fa", headers={"Cookie": staff}).body.decode()
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
    http("POST", base + "/akun/2fa", data=urllib.parse.urlencode(
        {"csrf": csrf, "code": totp_code(secret)}).encode(), content_type=form,
        headers={"Cookie": staff}, follow=False)
    for path in ("/kotak-masuk", "/sertifikat"):
        r = http("GET", base + path, headers={"Cookie": staff})
        assert r.status == 403 and "hanya untuk pejabat" in r.body.decode(), (path, r.status)
    rid = file_request(dep, [letter]).json()["id"]
    assert http("GET", base + f"/kotak-masuk/{rid}", headers={"Cookie": staff}).status == 403
    # The official reaches every page of theirs.
    cookie = cookie_header(inbox)
    for path in PAGES_GET:
        r = http("GET", base + path, headers={"Cookie": cookie}, follow=False)
        assert r.status in (200, 302, 303), (path, r.status)
    assert http("GET", base + "/sertifikat", headers={"Cookie": cookie}).status == 200


def test_changing_the_passphrase_keeps_the_certificate(dep, inbox, letter):
    """Runs last in this module: the official's passphrase changes."""
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    d = inbox
    d.get(base + "/sertifikat")
    assert "Aktif" in d.find_element(By.TAG_NAME, "main").text
    serial = d.find_element(By.CSS_SELECTOR, "dd code").text
    check_page(d, dep.backend, "certificate")
    new = "Rawon-Baru-Nguling-2027"
    for field, value in (("old", "salah-sekali-ini"), ("new", new), ("new2", new)):
        d.find_element(By.ID, field).send_keys(value)
    submit_and_wait(d, "form[action='/sertifikat/passphrase'] button")
    assert "salah" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text.lower()
    for field, value in (("old", PASS), ("new", new), ("new2", new)):
        d.find_element(By.ID, field).clear()
        d.find_element(By.ID, field).send_keys(value)
    submit_and_wait(d, "form[action='/sertifikat/passphrase'] button")
    assert "Passphrase diganti" in d.page_source, d.page_source[:1500]
    assert d.find_element(By.CSS_SELECTOR, "dd code").text == serial, "same certificate"
    # The old passphrase no longer signs; the new one does.
    rid = file_request(dep, [letter]).json()["id"]
    d.get(base + f"/kotak-masuk/{rid}")
    d.find_element(By.ID, "passphrase").send_keys(PASS)
    submit_and_wait(d, "form[action$='/tandatangani'] button")
    assert "0 dari 1 permintaan ditandatangani" in d.page_source
    d.get(base + f"/kotak-masuk/{rid}")
    d.find_element(By.ID, "passphrase").send_keys(new)
    submit_and_wait(d, "form[action$='/tandatangani'] button")
    assert "1 permintaan ditandatangani" in d.page_source
    assert '"passphrase.change"' in dep.run("audit", "export").stdout
