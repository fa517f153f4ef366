"""One-time codes reach the official by e-mail (issue 4): `sahih serve` with `[notify] smtp_url`
delivers the outbox through a real SMTP server (aiosmtpd, storing into a Maildir) over STARTTLS
with the relay's certificate trusted from `ca_file`; the code then signs.
"""
from __future__ import annotations

import base64
import mailbox
import re
import subprocess
import sys
import time

import pytest

from conftest import _SERVERS, free_port
from ecs_support import BACKENDS, b64, http, make_deployment
from validators import run


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    d = tmp_path_factory.mktemp("smtp")
    # A private CA (as a Pemda's internal one) and the relay's certificate issued by it.
    ca, ca_key = d / "ca.pem", d / "ca.key"
    cert, key, csr = d / "relay.pem", d / "relay.key", d / "relay.csr"
    ext = d / "relay.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost\n"
                   "extendedKeyUsage=serverAuth\n")
    for cmd in (["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
                 "-out", ca, "-days", "2", "-subj", "/CN=Relay Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                 "-subj", "/CN=localhost"],
                ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-days", "2", "-extfile", ext, "-out", cert]):
        r = run(cmd)
        assert r.returncode == 0, r.describe()
    port = free_port()
    maildir = d / "Maildir"
    p = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                          "--tlscert", str(cert), "--tlskey", str(key),
                          "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _SERVERS.append(p)
    time.sleep(1.5)
    assert p.poll() is None, p.stderr.read().decode()
    yield {"port": port, "cert": ca, "maildir": maildir}
    p.terminate()


def test_otp_is_mailed_over_starttls_and_signs(sahih_bin, tmp_path_factory, relay, corpus):
    dep = make_deployment(sahih_bin, tmp_path_factory.mktemp("notify"), "sqlite")
    try:
        official = dep.sahih.enroll(passphrase="Passphrase-Surel-2026")
        cfg = dep.sahih.data / "config.toml"
        text = cfg.read_text()
        text, n = re.subn(r"(?m)^\[notify\]\n", "[notify]\nsmtp_url = \"smtp://localhost:%d?starttls=true\"\n"
                          "ca_file = \"%s\"\n" % (relay["port"], relay["cert"]), text)
        assert n == 1, text
        text = re.sub(r'(?m)^from = .*$', 'from = "tte@contoh.go.id"', text)
        cfg.write_text(text)
        for s in dep.servers:
            s.stop()
        dep.servers.clear()
        dep.start_server()
        cred = dep.add_client("eoffice")
        url = dep.servers[0].url
        r = http("POST", url + "/api/v2/sign/get/totp", credential=cred,
                 json_body={"nik": official.nik, "data": 1})
        assert r.status == 200, r.body
        deadline = time.time() + 30
        messages = []
        while time.time() < deadline and not messages:
            if relay["maildir"].exists():
                messages = list(mailbox.Maildir(str(relay["maildir"]), create=False))
            time.sleep(0.3)
        assert messages, "no mail arrived: " + dep.servers[0].log.read_text(errors="replace")[-2000:]
        m = messages[-1]
        assert m["To"] == official.email and m["From"] == "tte@contoh.go.id"
        assert "OTP" in m["Subject"]
        body = base64.b64decode(m.get_payload()).decode()
        code = re.search(r"Kode OTP Anda: (\d{6})", body).group(1)
        r = http("POST", url + "/api/v2/sign/pdf", credential=cred, json_body={
            "nik": official.nik, "passphrase": "Passphrase-Surel-2026", "totp": code,
            "file": [b64((corpus / "reportlab.pdf").read_bytes())]})
        assert r.status == 200, r.body[:300]
        log = dep.servers[0].log.read_text(errors="replace")
        assert code not in log and "Passphrase-Surel-2026" not in log
    finally:
        dep.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_expiry_notices_go_out_once(sahih_bin, tmp_path_factory, backend):
    """README: each expiry notice goes out once across all servers. Four processes send the
    due notices at the same moment; each official gets exactly one."""
    from concurrent.futures import ThreadPoolExecutor
    # Certificates valid 20 days: the 30-day notice is due at once, the 7-day one not yet.
    dep = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"renewal-{backend}"), backend,
                          config_edits={"official_validity_days": 20})
    try:
        officials = [dep.sahih.enroll() for _ in range(3)]
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(lambda _: dep.run("notify-renewals"), range(4)))
        assert all(r.returncode == 0 for r in runs), [r.describe() for r in runs]
        sent = sum(int(r.stdout.split()[0]) for r in runs)
        assert sent == 3, [r.stdout for r in runs]
        again = dep.run("notify-renewals")
        assert again.stdout.startswith("0 "), again.describe()
        for official in officials:
            out = dep.run("outbox", official.email).stdout
            assert out.count("Sertifikat elektronik Anda akan berakhir") == 1, out
            assert "hari lagi" in out and "Diskominfo" in out
    finally:
        dep.close()
