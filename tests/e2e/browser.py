"""Browser helpers for the page tests: headless Chromium through Selenium, screenshots of
every page at 360x740 and 1280x800 (test-output/screenshots, or $SAHIH_SCREENSHOTS), axe-core
(WCAG 2.1 A/AA rules, serious and critical only), touch targets of at least 44 px, and no
Content-Security-Policy violations in the browser console."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from conftest import REPO, remember_secret

AXE = REPO / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"360x740": (360, 740, True), "1280x800": (1280, 800, False)}


def screenshot_dir():
    d = Path(os.environ.get("SAHIH_SCREENSHOTS") or REPO / "test-output" / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d



@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    def make(javascript: bool = True):
        options = webdriver.ChromeOptions()
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--lang=id-ID",
                    f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}"]:
            options.add_argument(arg)
        if not javascript:
            options.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.binary_location = "/usr/bin/chromium"
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(60)
        # axe-core runs as an async script; on a busy 2-core machine it can take a while.
        driver.set_script_timeout(120)
        return driver

    drivers = []

    def get(javascript: bool = True):
        d = make(javascript)
        drivers.append(d)
        return d

    yield get
    for d in drivers:
        d.quit()


def set_viewport(driver, name):
    w, h, mobile = VIEWPORTS[name]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})


def shoot(driver, backend, name):
    """Saves the whole page at both sizes, then leaves the small one in place."""
    for vp in VIEWPORTS:
        set_viewport(driver, vp)
        png = driver.execute_cdp_cmd("Page.captureScreenshot",
                                     {"format": "png", "captureBeyondViewport": True})["data"]
        (screenshot_dir() / f"{name}-{vp}-{backend}.png").write_bytes(base64.b64decode(png))
    set_viewport(driver, "360x740")


def axe_violations(driver):
    """Serious and critical axe-core violations of WCAG 2.0/2.1 A and AA rules on this page."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
           .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
           .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def small_targets(driver):
    """Controls smaller than 44x44 px at the current (phone) width; inline text links are
    exempt (WCAG 2.5.5 exception), so only buttons, fields, toggles and header links count. A
    checkbox inside its label counts with the label, which takes the tap."""
    return driver.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('button, input, summary, header a, .btn, footer a')) {
          if (el.type === 'hidden') continue;
          // A checkbox or radio inside its label is tapped through the whole label.
          const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label')
            ? el.closest('label') : el;
          const r = target.getBoundingClientRect();
          if (r.width < 44 || r.height < 44) out.push(el.outerHTML.slice(0, 80) + ' ' + r.width + 'x' + r.height);
        }
        return out;
    """)


def csp_errors(driver):
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def check_page(driver, backend, name):
    """Every page: screenshots, axe-core, touch targets, nothing blocked by the CSP."""
    shoot(driver, backend, name)
    assert axe_violations(driver) == [], name
    assert small_targets(driver) == [], name
    assert csp_errors(driver) == [], name




def submit_and_wait(driver, css: str = "button[type=submit]"):
    """Clicks a submit button and waits for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()

    def gone(_):
        # Chromedriver reports a replaced document either as a stale element or, while the
        # new document is being attached, as an "inspector error": both mean the page changed.
        try:
            before.is_enabled()
            return False
        except Exception:  # noqa: BLE001
            return True

    WebDriverWait(driver, 60).until(gone)


def totp_code(secret_base32: str, offset_steps: int = 0) -> str:
    """What an authenticator app shows now (RFC 6238: HMAC-SHA1, 30 s, 6 digits)."""
    import hashlib
    import hmac
    import time
    secret = secret_base32.replace(" ", "")
    remember_secret(secret)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(time.time()) // 30 + offset_steps
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return "%06d" % ((int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 1_000_000)
