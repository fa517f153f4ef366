"""Officials' keys in a PKCS#11 token (`[keys] backend = "pkcs11"`), end to end against real
SoftHSM2 and the release binary, next to the software backend as the control.

The same test bodies run on both key backends: the official is enrolled with the CLI, signs
over HTTP (ECS v2), the signed PDF is checked by pdfsig (NSS trusting only the deployment's
root), pyHanko and qpdf, and wrong passphrases give ECS 2031 until the configured maximum
locks the key (2032). What the database keeps is checked by opening `certificates.sealed_key`
here, in Python, with the official's passphrase (the documented sealed format: Argon2id +
AES-256-GCM): a PKCS#8 key with software keys, only a `pkcs11:id=...` reference with token keys.

PKCS#11 only: the key's protection attributes are read with an outside tool (OpenSC's
pkcs11-tool): sensitive, always sensitive, never extractable, generated in the token (local),
one private key per official; its public key is the certificate's; a new server process still
signs with the same token key. A registration-authority activation (the official chooses the
passphrase over HTTP) also generates the key in the token.

Needs softhsm2 and opensc (scripts/install-test-deps.sh installs both); a missing tool fails
the PKCS#11 case, it is never skipped.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.x509 import load_der_x509_certificate
from PIL import Image

from conftest import REPO
from ecs_support import b64, ecs_error, http, make_deployment, multipart
from validators import pdfsig, qpdf_check, run

KEY_BACKENDS = ["software", "pkcs11"]
PYHANKO = REPO / ".venv" / "bin" / "pyhanko"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "sahih-e2e"
HSM_PIN = "8462-1935"
HSM_SO_PIN = "so-7731-2048"

NIK, NIP = "3171012501850003", "198501252010011003"
PASSPHRASE = "Rahasia-Negara-2026!"
LOCK_PASSPHRASE = "Kunci-Pintu-Balai-Kota-9"
UNIT = "Dinas Komunikasi dan Informatika"
# What pkcs11-tool prints for a key with CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE,
# CKA_NEVER_EXTRACTABLE and CKA_LOCAL true and CKA_EXTRACTABLE false (it would add
# "extractable" to the list otherwise).
NON_EXTRACTABLE = "sensitive, always sensitive, never extractable, local"


# -- fixtures --------------------------------------------------------------------------------

def make_token(directory: Path) -> str:
    """A SoftHSM2 token made by the project's script; returns its SOFTHSM2_CONF."""
    for tool in ("softhsm2-util", "pkcs11-tool"):
        assert shutil.which(tool), f"{tool} not found: run scripts/install-test-deps.sh"
    assert Path(SOFTHSM_MODULE).exists(), f"{SOFTHSM_MODULE} missing: apt-get install softhsm2"
    r = run([REPO / "scripts" / "softhsm-token.sh", directory, TOKEN_LABEL, HSM_PIN, HSM_SO_PIN])
    assert r.returncode == 0, r.describe()
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("export SOFTHSM2_CONF="), r.describe()
    conf = last.split("=", 1)[1]
    assert Path(conf).is_file(), conf
    return conf


@pytest.fixture(scope="module", params=KEY_BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    key_backend = request.param
    base = tmp_path_factory.mktemp(f"hsm-{key_backend}")
    edits = {"backend": f'"{key_backend}"'}
    extra_env = None
    conf = None
    if key_backend == "pkcs11":
        conf = make_token(base / "softhsm")
        edits["token_label"] = f'"{TOKEN_LABEL}"'
        extra_env = {"SOFTHSM2_CONF": conf, "SAHIH_HSM_PIN": HSM_PIN}
    d = make_deployment(sahih_bin, base / "deployment", "sqlite", config_edits=edits,
                        extra_env=extra_env)
    d.key_backend = key_backend
    d.softhsm_conf = conf
    d.config = tomllib.loads((d.sahih.data / "config.toml").read_text())
    assert d.config["keys"]["backend"] == key_backend, d.config
    if key_backend == "pkcs11":
        assert d.config["hsm"] == {"module": SOFTHSM_MODULE, "token_label": TOKEN_LABEL}, d.config
        # Nothing in the token before the first official: the CA keys stay master-key sealed.
        assert token_private_keys(d) == []
    d.app = d.add_client("eoffice")
    nss = d.sahih.workdir / "nss"
    nss.mkdir()
    for cmd in (["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
                ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i",
                 d.sahih.root_pem]):
        r = run(cmd)
        assert r.returncode == 0, r.describe()
    d.nss = nss
    yield d
    d.close()


@pytest.fixture(scope="module")
def official(dep):
    """The official, enrolled with the CLI (the key is made in the configured backend)."""
    return dep.sahih.enroll(nik=NIK, nip=NIP, passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def letter(tmp_path_factory) -> bytes:
    """A one-page naskah dinas from reportlab (the corpus generator's letter)."""
    spec = importlib.util.spec_from_file_location("make_corpus",
                                                  REPO / "tests" / "corpus" / "make_corpus.py")
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    work = tmp_path_factory.mktemp("letter")
    out = work / "surat.pdf"
    mc.make_reportlab(out, work)
    assert qpdf_check(out).clean
    return out.read_bytes()


# -- helpers ---------------------------------------------------------------------------------

def url(dep, path: str) -> str:
    """On the newest server process (the restart test starts another one)."""
    return dep.servers[-1].url + path


def sign_v2(dep, nik: str, passphrase: str, pdf: bytes):
    return http("POST", url(dep, "/api/v2/sign/pdf"), credential=dep.app,
                json_body={"nik": nik, "passphrase": passphrase, "file": [b64(pdf)]})


def signed_pdf(dep, nik: str, passphrase: str, pdf: bytes) -> bytes:
    r = sign_v2(dep, nik, passphrase, pdf)
    assert r.status == 200, r.body[:500]
    files = r.json()["file"]
    assert len(files) == 1
    out = base64.b64decode(files[0])
    assert out.startswith(pdf), "incremental update: the original bytes come first"
    return out


def outside_validators_accept(dep, pdf: bytes, name: str) -> Path:
    path = dep.sahih.workdir / name
    path.write_bytes(pdf)
    q = qpdf_check(path)
    assert q.clean, q.run.describe()
    ps = pdfsig(path, dep.nss)
    assert len(ps.signatures) == 1, ps.run.describe()
    assert ps.signatures[0].valid and ps.signatures[0].trusted, ps.run.describe()
    v = run([PYHANKO, "sign", "adesverify", "--trust", dep.sahih.root_pem, "--trust-replace", path])
    assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()
    # The ECS default level is B-LT: the timestamp validates as well.
    assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in v.stdout, v.describe()
    return path


def signer_certificate(pdf: bytes):
    """The signer's certificate from the PDF's CMS, read by pyHanko (cryptography object)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(sigs) == 1
    return load_der_x509_certificate(sigs[0].signer_cert.dump())


def spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def certificates_of(dep, nik: str) -> list[dict]:
    rows = dep.sql(
        "SELECT c.serial_hex, c.status, c.sealed_key, hex(c.cert_der) FROM certificates c "
        f"JOIN officials o ON o.id = c.official_id WHERE o.nik = '{nik}' ORDER BY c.id")
    out = []
    for line in rows.splitlines():
        serial, status, sealed, cert_hex = line.split("|")
        out.append({"serial_hex": serial, "status": status, "sealed_key": sealed,
                    "cert": load_der_x509_certificate(bytes.fromhex(cert_hex))})
    return out


def _b64nopad(s: str) -> bytes:
    return base64.b64decode(s + "=" * (-len(s) % 4))


def open_sealed(sealed: str, passphrase: str, aad: bytes) -> bytes:
    """Opens a passphrase-sealed payload independently of Sahih's code, from its documented
    format `sahih-sealed-v1$argon2id$m=..,t=..,p=..$<salt>$<nonce>$<ciphertext>` (unpadded
    base64; the AEAD's associated data is the 8-byte big-endian header length, the header up
    to the salt, and the caller's AAD). Raises InvalidTag for a wrong passphrase."""
    prefix, kind, params, salt, nonce, ct = sealed.strip().split("$")
    assert (prefix, kind) == ("sahih-sealed-v1", "argon2id"), sealed[:60]
    kv = dict(p.split("=") for p in params.split(","))
    kek = Argon2id(salt=_b64nopad(salt), length=32, iterations=int(kv["t"]), lanes=int(kv["p"]),
                   memory_cost=int(kv["m"])).derive(passphrase.encode())
    header = f"{prefix}${kind}${params}${salt}".encode()
    full_aad = len(header).to_bytes(8, "big") + header + aad
    return AESGCM(kek).decrypt(_b64nopad(nonce), _b64nopad(ct), full_aad)


def official_key_aad(nik: str, serial_hex: str) -> bytes:
    return f"sahih-official-key:{nik}:{serial_hex}".encode()


def pkcs11_tool(dep, *args):
    return run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", TOKEN_LABEL,
                "--login", "--pin", HSM_PIN, *args], env={"SOFTHSM2_CONF": dep.softhsm_conf})


def token_objects(dep) -> list[dict]:
    """pkcs11-tool --list-objects, parsed: one dict per object (kind, label, id, access...)."""
    r = pkcs11_tool(dep, "--list-objects")
    assert r.returncode == 0, r.describe()
    objects: list[dict] = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            objects.append({"kind": line.split(";")[0].strip(), "header": line.strip()})
        elif objects and ":" in line:
            k, v = line.split(":", 1)
            objects[-1][k.strip().lower()] = v.strip()
    return objects


def token_private_keys(dep, label: str | None = None) -> list[dict]:
    return [o for o in token_objects(dep) if o["kind"] == "Private Key Object"
            and (label is None or o.get("label") == label)]


def token_key_set(dep) -> set[tuple[str, str, str]]:
    """(id, label, access) of every private key in the token."""
    return {(k["id"].lower(), k.get("label", ""), k.get("access", "")) for k in token_private_keys(dep)}


def token_public_key(dep, key_id: str) -> bytes:
    out = dep.sahih.workdir / f"pub-{key_id}.der"
    r = pkcs11_tool(dep, "--read-object", "--type", "pubkey", "--id", key_id, "-o", out)
    assert r.returncode == 0 and out.exists(), r.describe()
    return spki(serialization.load_der_public_key(out.read_bytes()))


def assert_token_holds_the_key(dep, nik: str, cert) -> str:
    """Exactly one private key for the official in the token, generated there and never
    extractable; its public key is the certificate's. Returns its CKA_ID (hex)."""
    keys = token_private_keys(dep, f"sahih-official-{nik}")
    assert len(keys) == 1, token_objects(dep)
    key = keys[0]
    assert key["access"] == NON_EXTRACTABLE, key
    assert "sign" in key["usage"], key
    key_id = key["id"].lower()
    assert re.fullmatch(r"[0-9a-f]{32}", key_id), key
    assert token_public_key(dep, key_id) == spki(cert.public_key())
    return key_id


def assert_database_keeps(dep, nik: str, passphrase: str, cert_row: dict) -> bytes:
    """The sealed key of the certificate: opens only with the passphrase; a PKCS#8 key (of the
    certificate's public key) with software keys, a token reference with token keys."""
    aad = official_key_aad(nik, cert_row["serial_hex"])
    with pytest.raises(InvalidTag):
        open_sealed(cert_row["sealed_key"], passphrase + "x", aad)
    payload = open_sealed(cert_row["sealed_key"], passphrase, aad)
    if dep.key_backend == "software":
        key = serialization.load_der_private_key(payload, password=None)
        assert spki(key.public_key()) == spki(cert_row["cert"].public_key())
    else:
        assert re.fullmatch(rb"pkcs11:id=[0-9a-f]{32}", payload), payload[:80]
        with pytest.raises(ValueError):
            serialization.load_der_private_key(payload, password=None)
        assert b"PRIVATE KEY" not in payload
    return payload


# -- both backends ---------------------------------------------------------------------------

def test_enroll_sign_over_http_outside_validators_then_lockout(dep, official, letter):
    st = http("POST", url(dep, "/api/v2/user/check/status"), credential=dep.app,
              json_body={"nik": NIK}).json()
    assert st["status"] == "ISSUE", st
    signed = signed_pdf(dep, NIK, PASSPHRASE, letter)
    outside_validators_accept(dep, signed, f"{dep.key_backend}-signed.pdf")
    rows = certificates_of(dep, NIK)
    assert len(rows) == 1 and rows[0]["status"] == "ISSUE", rows
    cert = signer_certificate(signed)
    assert cert == rows[0]["cert"], "the PDF is signed with the enrolled certificate"
    assert f"{cert.serial_number:x}" == rows[0]["serial_hex"].lstrip("0")

    # Wrong passphrases: ECS 2031 until the configured maximum, which locks the key (2032);
    # then even the right passphrase is refused. Another official, so the first keeps signing.
    max_failures = dep.config["signing"]["max_failures"]
    assert max_failures == 5, dep.config["signing"]
    locked = dep.sahih.enroll(passphrase=LOCK_PASSPHRASE)
    codes = [ecs_error(sign_v2(dep, locked.nik, "bukan-passphrase-yang-benar", letter))[0]
             for _ in range(max_failures)]
    assert codes == [2031] * (max_failures - 1) + [2032], codes
    r = sign_v2(dep, locked.nik, LOCK_PASSPHRASE, letter)
    code, text = ecs_error(r)
    assert code == 2032 and "terkunci" in text, text
    # The first official is unaffected.
    assert sign_v2(dep, NIK, PASSPHRASE, letter).status == 200
    audit = [json.loads(line)["action"] for line in dep.run("audit", "export").stdout.splitlines()]
    assert "passphrase.wrong" in audit and "passphrase.lockout" in audit
    log = dep.servers[-1].log.read_text(errors="replace")
    assert "panicked" not in log and PASSPHRASE not in log and HSM_PIN not in log, log[-2000:]


def test_database_keeps_a_pkcs8_key_only_with_software_keys(dep, official):
    rows = certificates_of(dep, NIK)
    assert len(rows) == 1, rows
    assert rows[0]["sealed_key"].startswith("sahih-sealed-v1$argon2id$")
    assert_database_keeps(dep, NIK, PASSPHRASE, rows[0])


def test_ra_activation_generates_the_key_in_the_configured_backend(dep, letter):
    """The official activates over HTTP with a passphrase only they choose; with PKCS#11 the
    key is generated in the token then."""
    operator = dep.add_client("op-kominfo", "--role", "operator", "--unit", UNIT)
    verifikator = dep.add_client("verif-1", "--role", "verifikator", "--person-nik", "3573019901800001")
    nik = "3573010202800001"
    person = {"nik": nik, "nip": "198001012005011001", "name": "Rina Wulandari",
              "email": "rina.wulandari@contoh.go.id", "position": "Kepala Seksi Persandian",
              "unit": UNIT}
    jpg = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 180, 150)).save(jpg, "JPEG", quality=90)
    body, ctype = multipart({"request": json.dumps({"kind": "enroll", "officials": [person]})}, {
        "surat_permohonan": ("surat.pdf", letter, "application/pdf"),
        "ktp": ("ktp.jpg", jpg.getvalue(), "image/jpeg"),
        "sk_jabatan": ("sk.pdf", letter, "application/pdf")})
    r = http("POST", url(dep, "/api/v1/ra/submissions"), credential=operator, data=body,
             content_type=ctype)
    assert r.status == 201, r.body[:400]
    rid = r.json()["requests"][0]["id"]
    r = http("POST", url(dep, f"/api/v1/ra/requests/{rid}/approve"), credential=verifikator)
    assert r.status == 200, r.body[:300]
    if dep.key_backend == "pkcs11":
        assert token_private_keys(dep, f"sahih-official-{nik}") == [], "no key before activation"
    links = re.findall(r"/aktivasi/([A-Za-z0-9_-]{20,})", dep.run("outbox", person["email"]).stdout)
    assert links
    passphrase = "Kopi-Tubruk-Alun-Alun-2026"
    r = http("POST", url(dep, f"/api/v1/activation/{links[-1]}"), json_body={"passphrase": passphrase})
    assert r.status == 200, r.body[:300]
    signed = signed_pdf(dep, nik, passphrase, letter)
    outside_validators_accept(dep, signed, f"{dep.key_backend}-ra-signed.pdf")
    rows = certificates_of(dep, nik)
    assert len(rows) == 1 and signer_certificate(signed) == rows[0]["cert"]
    payload = assert_database_keeps(dep, nik, passphrase, rows[0])
    if dep.key_backend == "pkcs11":
        key_id = assert_token_holds_the_key(dep, nik, rows[0]["cert"])
        assert payload == f"pkcs11:id={key_id}".encode()


# -- PKCS#11 only ----------------------------------------------------------------------------

@pytest.mark.parametrize("dep", ["pkcs11"], indirect=True)
def test_token_key_is_not_extractable(dep, official):
    rows = certificates_of(dep, NIK)
    assert len(rows) == 1, rows
    key_id = assert_token_holds_the_key(dep, NIK, rows[0]["cert"])
    # The database's sealed payload names exactly this token object.
    payload = assert_database_keeps(dep, NIK, PASSPHRASE, rows[0])
    assert payload == f"pkcs11:id={key_id}".encode()
    # Reading the private key out of the token yields nothing. (pkcs11-tool 0.23 refuses to
    # read any private key, so this alone proves little; the attributes above are the proof.)
    out = dep.sahih.workdir / "privkey.der"
    r = pkcs11_tool(dep, "--read-object", "--type", "privkey", "--id", key_id, "-o", out)
    assert not out.exists() or out.stat().st_size == 0, r.describe()
    assert "BEGIN" not in r.stdout and "PRIVATE KEY" not in r.stdout, r.describe()
    # Only officials' keys are in the token, each with its own label, all non-extractable.
    for key in token_private_keys(dep):
        assert key["label"].startswith("sahih-official-"), key
        assert key["access"] == NON_EXTRACTABLE, key


@pytest.mark.parametrize("dep", ["pkcs11"], indirect=True)
def test_new_server_process_signs_with_the_same_token_key(dep, official, letter):
    before = signer_certificate(signed_pdf(dep, NIK, PASSPHRASE, letter))
    keys_before = token_key_set(dep)
    old = dep.servers[-1]
    port = int(old.url.rsplit(":", 1)[1])
    old.stop()
    assert old.proc.poll() is not None
    # Same port: the certificates' OCSP and CRL URLs point there (pdfsig asks them).
    new = dep.start_server(port=port)
    assert new.proc.pid != old.proc.pid and dep.servers[-1] is new
    signed = signed_pdf(dep, NIK, PASSPHRASE, letter)
    outside_validators_accept(dep, signed, "pkcs11-after-restart.pdf")
    after = signer_certificate(signed)
    assert after.serial_number == before.serial_number
    assert spki(after.public_key()) == spki(before.public_key())
    key_id = assert_token_holds_the_key(dep, NIK, after)
    # Nothing was generated again: the token holds the same keys as before the restart.
    assert token_key_set(dep) == keys_before
    assert any(k[0] == key_id for k in keys_before)
    # The same passphrase gate in the new process: a wrong one is still 2031.
    assert ecs_error(sign_v2(dep, NIK, "bukan-passphrase-yang-benar", letter))[0] == 2031
    assert sign_v2(dep, NIK, PASSPHRASE, letter).status == 200


@pytest.mark.parametrize("dep", ["pkcs11"], indirect=True)
def test_token_keeps_only_keys_that_certificates_use(dep, letter):
    """Keys that no certificate uses are destroyed: those made by activation clicks that lost
    the race for a single-use link, and the key of a revoked certificate (reissue, revoke)."""
    import threading
    operator = dep.add_client("op-kominfo-2", "--role", "operator", "--unit", UNIT)
    verifikator = dep.add_client("verif-2", "--role", "verifikator", "--person-nik", "3573019901800002")
    nik = "3573010303800002"
    person = {"nik": nik, "nip": "198003032005011002", "name": "Agus Salim",
              "email": "agus.salim@contoh.go.id", "position": "Kepala Seksi Statistik", "unit": UNIT}
    jpg = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 180, 150)).save(jpg, "JPEG", quality=90)
    body, ctype = multipart({"request": json.dumps({"kind": "enroll", "officials": [person]})}, {
        "surat_permohonan": ("surat.pdf", letter, "application/pdf"),
        "ktp": ("ktp.jpg", jpg.getvalue(), "image/jpeg"),
        "sk_jabatan": ("sk.pdf", letter, "application/pdf")})
    rid = http("POST", url(dep, "/api/v1/ra/submissions"), credential=operator, data=body,
               content_type=ctype).json()["requests"][0]["id"]
    assert http("POST", url(dep, f"/api/v1/ra/requests/{rid}/approve"), credential=verifikator).status == 200
    token = re.findall(r"/aktivasi/([A-Za-z0-9_-]{20,})", dep.run("outbox", person["email"]).stdout)[-1]
    passphrase = "Lontong-Balap-Wonokromo"
    results = []
    clicks = [threading.Thread(target=lambda: results.append(
        http("POST", url(dep, f"/api/v1/activation/{token}"), json_body={"passphrase": passphrase}).status))
        for _ in range(4)]
    [t.start() for t in clicks]
    [t.join() for t in clicks]
    assert sorted(results) == [200, 410, 410, 410], results
    rows = certificates_of(dep, nik)
    assert len(rows) == 1
    old_id = assert_token_holds_the_key(dep, nik, rows[0]["cert"])
    # Re-issue (mutasi through the CLI): the revoked certificate's key leaves the token.
    passfile = dep.sahih.workdir / "agus-pass.txt"
    passfile.write_text(passphrase + "\n")
    r = dep.run("reissue", "--nik", nik, "--position", "Kepala Bidang Statistik",
                "--passphrase-file", passfile)
    assert r.returncode == 0, r.describe()
    rows = certificates_of(dep, nik)
    live = [row for row in rows if row["status"] == "ISSUE"]
    assert len(live) == 1
    new_id = assert_token_holds_the_key(dep, nik, live[0]["cert"])
    assert new_id != old_id
    assert sign_v2(dep, nik, passphrase, letter).status == 200
    # Revocation: no key left for the official.
    assert dep.run("revoke", "--nik", nik, "--reason", "keyCompromise").returncode == 0
    assert token_private_keys(dep, f"sahih-official-{nik}") == [], token_objects(dep)
    actions = [json.loads(line) for line in dep.run("audit", "export").stdout.splitlines()]
    assert sum(1 for e in actions if e["action"] == "key.destroy" and e["result"] == "ok") >= 2


def test_ca_keys_in_the_token_from_init(sahih_bin, tmp_path, letter):
    """`sahih init --key-backend pkcs11`: the root and issuing CA keys are generated in the
    token (the database keeps references only); certificates, CRLs and OCSP answers made with
    them validate in pdfsig and pyHanko; `ca rotate` makes the next issuing key there too."""
    from types import SimpleNamespace

    conf = make_token(tmp_path / "softhsm")
    env = {"SOFTHSM2_CONF": conf, "SAHIH_HSM_PIN": HSM_PIN}
    d = make_deployment(sahih_bin, tmp_path / "deployment", "sqlite", extra_env=env,
                        init_args=("--key-backend", "pkcs11", "--hsm-token", TOKEN_LABEL))
    try:
        token = SimpleNamespace(softhsm_conf=conf)
        keys = {k.get("label"): k for k in token_private_keys(token)}
        for label in ("sahih-ca-root-1", "sahih-ca-issuing-1"):
            assert keys[label]["access"] == NON_EXTRACTABLE, keys
        stored = d.sql("SELECT sealed_key FROM ca").splitlines()
        assert stored and all(re.fullmatch(r"pkcs11:id=[0-9a-f]{32}", v) for v in stored), stored
        nss = tmp_path / "nss"
        nss.mkdir()
        run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
        run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", d.sahih.root_pem])
        src = tmp_path / "surat.pdf"
        src.write_bytes(letter)

        def sign_and_validate(name):
            official = d.sahih.enroll(passphrase=PASSPHRASE)
            out = tmp_path / name
            r = d.run("sign", src, "-o", out, "--nik", official.nik, "--passphrase-file",
                      official.passfile)
            assert r.returncode == 0 and "B-LT" in r.stdout, r.describe()
            ps = pdfsig(out, nss)
            assert ps.signatures and all(x.valid and x.trusted for x in ps.signatures), ps.run.describe()
            v = run([PYHANKO, "sign", "adesverify", "--trust", d.sahih.root_pem, "--trust-replace", out])
            assert v.returncode == 0 and "INTACT:TRUSTED" in v.stdout, v.describe()
            return official

        official = sign_and_validate("signed-ca-in-token.pdf")
        r = d.run("ca", "rotate")
        assert r.returncode == 0, r.describe()
        keys = {k.get("label"): k for k in token_private_keys(token)}
        assert keys["sahih-ca-issuing-2"]["access"] == NON_EXTRACTABLE, keys
        # The running server learns of the new CA when restarted (as after any rotation).
        for srv in d.servers:
            srv.stop()
        d.servers.clear()
        d.start_server(port=int(d.sahih.base_url.rsplit(":", 1)[1]))
        sign_and_validate("signed-after-rotation.pdf")
        # Without the PIN a command says what is missing.
        r = run([d.sahih.bin, "status", official.nik, "--data", d.sahih.data],
                env={"SOFTHSM2_CONF": conf})
        assert r.returncode != 0 and "SAHIH_HSM_PIN" in r.stderr, r.describe()
    finally:
        d.close()
