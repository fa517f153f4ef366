"""Person accounts in a real browser and over plain HTTP, on both backends: a verifikator
invited with `sahih account invite` sets up password and authenticator app from the e-mailed
link, logs in, sees and ends sessions; forms without the CSRF token or from another site are
refused, a cookie chosen before login is never adopted (session fixation), five failed logins
lock the account with a clear message, and the pages refuse framing.
"""
from __future__ import annotations

import re
import urllib.parse

import pytest

from browser import browser, check_page, set_viewport, submit_and_wait, totp_code  # noqa: F401
from ecs_support import BACKENDS, http, make_deployment

EMAIL = "siti.verifikator@contoh.go.id"
NIP = "199001012015032001"
PASSWORD = "Gudeg-Manggar-Yogya-88"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"accounts-{request.param}"), request.param)
    yield d
    d.close()


def setup_link(dep, email) -> str:
    out = dep.run("outbox", email)
    assert out.returncode == 0, out.describe()
    links = re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out.stdout)
    assert links, out.stdout
    return urllib.parse.urlparse(links[-1]).path


@pytest.fixture(scope="module")
def verifikator(dep, browser):
    """Invited from the CLI, set up in the browser; yields the TOTP secret."""
    r = dep.run("account", "invite", "--role", "verifikator", "--email", EMAIL,
                "--name", "Siti Verifikator", "--nip", NIP)
    assert r.returncode == 0, r.describe()
    assert "dibuat" in r.stdout
    path = setup_link(dep, EMAIL)
    d = browser()
    set_viewport(d, "360x740")
    base = dep.servers[0].url
    d.get(base + path)
    assert "Siti Verifikator" in d.page_source
    check_page(d, dep.backend, "account-setup")
    from selenium.webdriver.common.by import By
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "password2").send_keys(PASSWORD)
    submit_and_wait(d)
    secret = d.find_element(By.CSS_SELECTOR, ".secret").text
    # The previous step's code (still accepted), so that later logins can use the current
    # and the next one: a code is never accepted twice.
    d.find_element(By.ID, "code").send_keys(totp_code(secret, -1))
    submit_and_wait(d)
    assert "Akun Anda siap dipakai" in d.page_source
    # The link worked once.
    d.get(base + path)
    assert "Tautan tidak berlaku" in d.page_source
    d.delete_all_cookies()
    return secret


def http_account(dep, email, name) -> str:
    """A verifikator account set up over plain HTTP (as a browser would post the forms);
    returns its TOTP secret. Its first code was the previous step's."""
    r = dep.run("account", "invite", "--role", "verifikator", "--email", email, "--name", name)
    assert r.returncode == 0, r.describe()
    base = dep.servers[0].url
    form = "application/x-www-form-urlencoded"
    r = http("POST", base + setup_link(dep, email), data=urllib.parse.urlencode(
        {"password": PASSWORD, "password2": PASSWORD}).encode(), content_type=form, follow=False)
    cookie = session_cookie(r)
    page = http("GET", base + "/akun/2fa", headers={"Cookie": cookie}).body.decode()
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
    r = http("POST", base + "/akun/2fa", data=urllib.parse.urlencode(
        {"csrf": csrf, "code": totp_code(secret, -1)}).encode(), content_type=form,
        headers={"Cookie": cookie}, follow=False)
    assert r.status in (302, 303) and "/beranda" in r.headers["location"], r.status
    return secret


def login_http(dep, secret, step=1, cookie=None, email=EMAIL):
    body = urllib.parse.urlencode({"login": email, "password": PASSWORD,
                                   "code": totp_code(secret, step), "next": "/akun/sesi"}).encode()
    headers = {"Cookie": cookie} if cookie else None
    return http("POST", dep.servers[0].url + "/masuk", data=body,
                content_type="application/x-www-form-urlencoded", headers=headers, follow=False)


def session_cookie(r) -> str:
    set_cookie = r.headers.get("set-cookie", "")
    m = re.match(r"(sahih_sesi=[^;]+)", set_cookie)
    assert m, set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie, set_cookie
    return m.group(1)


def test_login_sessions_and_ending_them_in_the_browser(dep, verifikator, browser):
    from selenium.webdriver.common.by import By
    base = dep.servers[0].url
    d = browser()
    set_viewport(d, "360x740")
    d.get(base + "/beranda")
    assert "/masuk" in d.current_url, "pages need a session"
    d.find_element(By.ID, "login").send_keys(NIP)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "code").send_keys(totp_code(verifikator, 0))
    submit_and_wait(d)
    assert d.current_url.endswith("/beranda"), d.current_url
    assert "Verifikator" in d.find_element(By.TAG_NAME, "main").text
    # A second session from elsewhere (HTTP), then the list shows both; end the other one.
    other = session_cookie(login_http(dep, verifikator, step=1))
    d.get(base + "/akun/sesi")
    # The setup session (still live: removing a cookie does not end a session), this login
    # and the HTTP one.
    rows = d.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    assert len(rows) == 3, d.page_source[:1500]
    assert sum("sesi ini" in r.text for r in rows) == 1
    check_page(d, dep.backend, "sessions")
    submit_and_wait(d, "button[name=semua][value='0']")
    assert "2 sesi lain diakhiri" in d.page_source
    assert len(d.find_elements(By.CSS_SELECTOR, "table.list tbody tr")) == 1
    r = http("GET", base + "/beranda", headers={"Cookie": other}, follow=False)
    assert r.status in (302, 303) and "/masuk" in r.headers.get("location", ""), r.status
    # End all, this one too: back to the login page.
    submit_and_wait(d, "button[name=semua][value='1']")
    assert "Anda telah keluar" in d.page_source


def test_forms_need_the_csrf_token_and_the_same_site(dep):
    base = dep.servers[0].url
    email = "csrf.verifikator@contoh.go.id"
    secret = http_account(dep, email, "Verifikator CSRF")
    cookie = session_cookie(login_http(dep, secret, step=0, email=email))
    form = "application/x-www-form-urlencoded"
    r = http("POST", base + "/akun/sesi/akhiri", data=b"semua=1", content_type=form,
             headers={"Cookie": cookie})
    assert r.status == 403, r.status
    r = http("POST", base + "/akun/sesi/akhiri", data=b"semua=1&csrf=00", content_type=form,
             headers={"Cookie": cookie})
    assert r.status == 403
    page = http("GET", base + "/akun/sesi", headers={"Cookie": cookie}).body.decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
    r = http("POST", base + "/akun/sesi/akhiri", data=f"semua=0&csrf={csrf}".encode(),
             content_type=form, headers={"Cookie": cookie, "Origin": "https://evil.example"})
    assert r.status == 403, "another site's form is refused even with a token"
    r = http("POST", base + "/akun/sesi/akhiri", data=f"semua=0&csrf={csrf}".encode(),
             content_type=form, headers={"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
    assert r.status == 403
    r = http("POST", base + "/akun/sesi/akhiri", data=f"semua=0&csrf={csrf}".encode(),
             content_type=form, headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"},
             follow=False)
    assert r.status in (302, 303), r.status


def test_a_cookie_set_before_login_is_never_adopted(dep):
    base = dep.servers[0].url
    email = "fiksasi.verifikator@contoh.go.id"
    secret = http_account(dep, email, "Verifikator Fiksasi")
    planted = "sahih_sesi=ditanam-oleh-penyerang-0123456789"
    r = login_http(dep, secret, step=0, cookie=planted, email=email)
    fresh = session_cookie(r)
    assert fresh != planted
    r = http("GET", base + "/beranda", headers={"Cookie": planted}, follow=False)
    assert r.status in (302, 303) and "/masuk" in r.headers["location"]
    assert http("GET", base + "/beranda", headers={"Cookie": fresh}).status == 200


def test_failed_logins_lock_the_account_with_a_clear_message(dep, sahih_bin, tmp_path_factory):
    email = "operator.kunci@contoh.go.id"
    r = dep.run("account", "invite", "--role", "operator", "--unit", "Dinas Kesehatan",
                "--email", email, "--name", "Operator Kunci")
    assert r.returncode == 0, r.describe()
    path = setup_link(dep, email)
    base = dep.servers[0].url
    form = "application/x-www-form-urlencoded"
    r = http("POST", base + path, data=urllib.parse.urlencode(
        {"password": "Pecel-Madiun-Pedas-5", "password2": "Pecel-Madiun-Pedas-5"}).encode(),
        content_type=form, follow=False)
    assert r.status in (302, 303) and r.headers["location"].startswith("/akun/2fa")

    def attempt(password):
        return http("POST", base + "/masuk", data=urllib.parse.urlencode(
            {"login": email, "password": password, "code": ""}).encode(), content_type=form)

    for n in range(1, 5):
        r = attempt(f"salah-sandi-{n}-xyz")
        assert r.status == 401 and "kata sandi, atau kode autentikator salah" in r.body.decode()
    r = attempt("salah-sandi-5-xyz")
    assert r.status == 429 and "Akun dikunci sampai" in r.body.decode(), r.body[:400]
    r = attempt("Pecel-Madiun-Pedas-5")
    assert r.status == 429, "locked even for the right password"
    events = [l for l in dep.run("audit", "export").stdout.splitlines() if "account.lockout" in l]
    assert len(events) == 1, events


def test_pages_refuse_framing_and_send_no_secrets_to_caches(dep):
    r = http("GET", dep.servers[0].url + "/masuk")
    assert r.status == 200
    assert r.headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", "")
    assert r.headers.get("cache-control") == "no-store"
    # Unknown account and wrong password answer alike.
    form = "application/x-www-form-urlencoded"
    a = http("POST", dep.servers[0].url + "/masuk", data=b"login=siapa%40contoh.go.id&password=x",
             content_type=form)
    assert a.status == 401 and "kata sandi, atau kode autentikator salah" in a.body.decode()


def test_failed_logins_from_one_address_are_throttled(dep):
    """Runs last in this module: every test here logs in from 127.0.0.1. Thirty failures in ten
    minutes from one address, over any accounts, refuse that address for a while."""
    base = dep.servers[0].url
    form = "application/x-www-form-urlencoded"
    seen = []
    for n in range(40):
        r = http("POST", base + "/masuk", data=urllib.parse.urlencode(
            {"login": f"tebakan{n}@contoh.go.id", "password": "bukan-sandi-xyz"}).encode(),
            content_type=form)
        seen.append(r.status)
        if r.status == 429:
            assert "dari alamat ini" in r.body.decode() and int(r.headers["retry-after"]) > 0
            break
    assert seen[-1] == 429 and seen.count(401) >= 15, seen
