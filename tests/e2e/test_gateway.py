"""Gateway mode (issue 5): two Sahih processes, one the upstream ECS of the other. A signature
requested at the gateway for an official enrolled upstream is made upstream and validates in
pdfsig and pyHanko; a document class the gateway's policy forbids is refused at the gateway
without contacting the upstream; wrong passphrases count towards the gateway's own lockout, and
once locked the gateway stops forwarding; registration is forwarded to the upstream's
registration endpoint. The gateway's credential to the upstream never appears in its logs.
"""
from __future__ import annotations

import base64
import json
import time

import pytest

from conftest import REPO
from ecs_support import b64, ecs_error, http, make_deployment
from validators import pdfsig, qpdf_check, run

PYHANKO = REPO / ".venv" / "bin" / "pyhanko"
UNIT = "Dinas Komunikasi dan Informatika"


def upstream_sign_requests(dep) -> int:
    """How many signing requests reached a deployment (from its request log, which is written
    as a request completes: wait until the count is stable)."""
    last = -1
    while True:
        n = _count_sign_requests(dep)
        if n == last:
            return n
        last = n
        time.sleep(0.3)


def _count_sign_requests(dep) -> int:
    n = 0
    for s in dep.servers:
        for line in s.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("route") == "/api/v2/sign/pdf":
                n += 1
    return n


@pytest.fixture(scope="module")
def pair(sahih_bin, tmp_path_factory):
    up = make_deployment(sahih_bin, tmp_path_factory.mktemp("upstream"), "sqlite")
    official = up.sahih.enroll(passphrase="Pecel-Madiun-Pedas-Sekali")
    up.official = official
    # The gateway's account at the upstream: an app bound to the unit, so it may register too.
    cred = up.add_client("gw-kota", "--unit", UNIT)
    user, password = cred.split(":", 1)
    gw = make_deployment(sahih_bin, tmp_path_factory.mktemp("gateway"), "sqlite", config_edits={
        "url": json.dumps(up.servers[0].url), "username": json.dumps(user)})
    # Restart the gateway with the upstream password in its environment (never in a file).
    for s in gw.servers:
        s.stop()
    gw.servers.clear()
    gw.env["SAHIH_GATEWAY_PASSWORD"] = password
    gw.start_server()
    gw.password = password
    r = gw.run("gateway", "enroll", "--nik", official.nik, "--nip", official.nip, "--name",
               official.name, "--email", official.email, "--position", official.position,
               "--unit", official.unit)
    assert r.returncode == 0, r.describe()
    assert gw.run("policy", "load", REPO / "policies" / "kota-larangan-keuangan.toml").returncode == 0
    gw.app = gw.add_client("eoffice")
    gw.finance_app = gw.add_client("simda-keuangan", "--class", "dokumen-anggaran")
    nss = gw.sahih.workdir / "nss"
    nss.mkdir()
    run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
    run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", up.sahih.root_pem])
    gw.nss = nss
    yield up, gw
    gw.close()
    up.close()


@pytest.fixture(scope="module")
def letter(corpus) -> bytes:
    return (corpus / "libreoffice.pdf").read_bytes()


def sign_at(dep, credential, nik, passphrase, pdf):
    return http("POST", dep.servers[0].url + "/api/v2/sign/pdf", credential=credential,
                json_body={"nik": nik, "passphrase": passphrase, "file": [b64(pdf)],
                           "signatureProperties": [{"tampilan": "VISIBLE", "page": 1,
                                                    "originX": 350, "originY": 60,
                                                    "width": 200, "height": 80}]})


def test_signature_requested_at_the_gateway_is_made_upstream_and_validates(pair, letter):
    up, gw = pair
    o = up.official
    before = upstream_sign_requests(up)
    r = sign_at(gw, gw.app, o.nik, "Pecel-Madiun-Pedas-Sekali", letter)
    assert r.status == 200, r.body[:400]
    assert upstream_sign_requests(up) == before + 1
    signed = base64.b64decode(r.json()["file"][0])
    path = gw.sahih.workdir / "gateway-signed.pdf"
    path.write_bytes(signed)
    assert qpdf_check(path).clean
    ps = pdfsig(path, gw.nss)
    assert ps.signatures and all(s.valid and s.trusted for s in ps.signatures), ps.run.describe()
    v = run([PYHANKO, "sign", "adesverify", "--trust", up.sahih.root_pem, "--trust-replace", path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()
    # Both sides audited it: the gateway with the signed file's hash.
    import hashlib
    sha = hashlib.sha256(signed).hexdigest()
    gw_audit = [json.loads(l) for l in gw.run("audit", "export").stdout.splitlines()]
    assert any(e["action"] == "sign" and e["document_sha256"] == sha and "upstream=true" in e["detail"]
               for e in gw_audit), gw_audit[-3:]
    assert gw.run("audit", "verify").returncode == 0
    # Status through the gateway is the upstream's.
    st = http("POST", gw.servers[0].url + "/api/v2/user/check/status", credential=gw.app,
              json_body={"nik": o.nik}).json()
    assert (st["status_code"], st["status"]) == (1111, "ISSUE"), st


def test_cli_sign_for_an_official_enrolled_upstream_writes_the_upstream_signed_file(pair, letter):
    """`sahih sign` goes through the same pipeline as the API: for an official enrolled
    upstream the signature is made upstream, and the file appears at -o once it is audited."""
    up, gw = pair
    o = up.official
    src = gw.sahih.workdir / "cli-gw-src.pdf"
    src.write_bytes(letter)
    out = gw.sahih.workdir / "cli-gw-signed.pdf"
    passfile = gw.sahih.workdir / "cli-gw-pass.txt"
    passfile.write_text("Pecel-Madiun-Pedas-Sekali\n")
    passfile.chmod(0o600)
    before = upstream_sign_requests(up)
    r = gw.run("sign", src, "-o", out, "--nik", o.nik, "--passphrase-file", passfile)
    assert r.returncode == 0, r.describe()
    assert upstream_sign_requests(up) == before + 1
    assert out.exists() and out.stat().st_size > src.stat().st_size, r.describe()
    ps = pdfsig(out, gw.nss)
    assert ps.signatures and all(s.valid and s.trusted for s in ps.signatures), ps.run.describe()
    import hashlib
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    gw_audit = [json.loads(l) for l in gw.run("audit", "export").stdout.splitlines()]
    assert any(e["action"] == "sign" and e["document_sha256"] == sha and e["client"].startswith("cli:")
               for e in gw_audit), gw_audit[-3:]


def test_forbidden_class_is_refused_at_the_gateway_without_contacting_the_upstream(pair, letter):
    up, gw = pair
    before = upstream_sign_requests(up)
    r = sign_at(gw, gw.finance_app, up.official.nik, "Pecel-Madiun-Pedas-Sekali", letter)
    code, text = ecs_error(r)
    assert r.status == 403 and code == 2041, text
    assert "dokumen-anggaran" in gw.run("audit", "export").stdout
    assert upstream_sign_requests(up) == before, "the upstream was contacted"


def test_wrong_passphrases_lock_at_the_gateway_which_then_stops_forwarding(pair, letter):
    up, gw = pair
    # A second official, so the first stays usable for the other tests.
    o2 = up.sahih.enroll(passphrase="Soto-Lamongan-Koya-Gurih")
    # Through the native API this time (a verifikator's step; apps may not).
    person = {"nik": o2.nik, "nip": o2.nip, "name": o2.name, "email": o2.email,
              "position": o2.position, "unit": o2.unit}
    r = http("POST", gw.servers[0].url + "/api/v1/gateway/officials", credential=gw.app, json_body=person)
    assert r.status == 403
    verifikator = gw.add_client("verif-gw", "--role", "verifikator", "--person-nik", "3573019903800003")
    r = http("POST", gw.servers[0].url + "/api/v1/gateway/officials", credential=verifikator, json_body=person)
    assert r.status == 201, r.body[:300]
    r = http("POST", gw.servers[0].url + "/api/v1/gateway/officials", credential=verifikator, json_body=person)
    assert r.status == 409 and ecs_error(r)[0] == 4024
    codes = [ecs_error(sign_at(gw, gw.app, o2.nik, f"salah-{i}-passphrase", letter))[0] for i in range(5)]
    assert codes[:4] == [2031] * 4 and codes[4] == 2032, codes
    before = upstream_sign_requests(up)
    code, _ = ecs_error(sign_at(gw, gw.app, o2.nik, "Soto-Lamongan-Koya-Gurih", letter))
    assert code == 2032
    assert upstream_sign_requests(up) == before, "a locked official's request was forwarded"
    actions = [json.loads(l)["action"] for l in gw.run("audit", "export").stdout.splitlines()]
    assert "passphrase.wrong" in actions and "passphrase.lockout" in actions


def test_registration_is_forwarded_upstream(pair, sahih_bin):
    up, gw = pair
    cfg = gw.sahih.data / "config.toml"
    cfg.write_text(cfg.read_text().replace("register_upstream = false", "register_upstream = true"))
    for s in gw.servers:
        s.stop()
    gw.servers.clear()
    gw.start_server()
    operator = gw.add_client("op-kominfo-gw", "--role", "operator", "--unit", UNIT)
    nik = "3573011212800010"
    body = {"nik": nik, "nip": "198012122005011010", "nama": "Indah Sari",
            "email": "indah.sari@contoh.go.id", "jabatan": "Pranata Komputer", "unit_kerja": UNIT}
    r = http("POST", gw.servers[0].url + "/api/v2/user/registration", credential=operator, json_body=body)
    assert r.status == 200, r.body[:400]
    # The upstream has the request, waiting for its own RA (evidence, verification).
    st = http("POST", up.servers[0].url + "/api/v2/user/check/status", credential=up.add_client("cek"),
              json_body={"nik": nik}).json()
    assert st["status"] == "NEW", st
    # The gateway reports the upstream's status for this official.
    st = http("POST", gw.servers[0].url + "/api/v2/user/check/status", credential=gw.app,
              json_body={"nik": nik}).json()
    assert st["status"] == "NEW", st
    # Another unit's registration is refused at the gateway.
    other = dict(body, nik="3573011313800011", unit_kerja="Dinas Kesehatan")
    r = http("POST", gw.servers[0].url + "/api/v2/user/registration", credential=operator, json_body=other)
    assert r.status == 403
    # The upstream credential never appears in the gateway's logs or audit.
    for s in gw.servers:
        assert gw.password not in s.log.read_text(errors="replace")
    assert gw.password not in gw.run("audit", "export").stdout
