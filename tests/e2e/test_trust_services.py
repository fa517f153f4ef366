"""Trust services and long-term validation (issue 3): the RFC 3161 TSA, the OCSP responder and
CRLs served by `sahih serve`, checked with OpenSSL as the client; PAdES B-T, B-LT and B-LTA files
checked with pyHanko, pdfsig, qpdf and our own verifier, now and years ahead.

The data directory's base URL points at the server started here, so the URLs in the certificates
(AIA OCSP/caIssuers, CRL distribution points) really answer.
"""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ORG, PASSPHRASE, Sahih, assert_no_panic
from validators import pdfsig, qpdf_check, run

PYHANKO = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ts(sahih_bin, tmp_path_factory):
    """A data directory whose base URL is a live `sahih serve`, an official, and the server."""
    base = tmp_path_factory.mktemp("trust")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    s = Sahih(sahih_bin, base / "data", base)
    r = s.run("init", "--data", s.data, "--org", ORG, "--base-url", url)
    assert r.returncode == 0, r.describe()
    s.root_pem = base / "root.pem"
    assert s.run("ca", "export", "-o", s.root_pem, "--data", s.data).returncode == 0
    official = s.enroll(nik="3171012501850003", nip="198501252010011003")
    server = subprocess.Popen([str(sahih_bin), "serve", "--data", str(s.data), "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
                if resp.read() == b"ok":
                    break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                out, err = server.communicate(timeout=5)
                pytest.fail(f"sahih serve did not start:\n{out.decode()}\n{err.decode()}")
            time.sleep(0.2)
    # Certificates for OpenSSL: the issuing CA from the server, the official's from a signature.
    issuing = base / "issuing.pem"
    der = urllib.request.urlopen(f"{url}/ca/issuing-1.crt", timeout=5).read()
    issuing.write_bytes(run(["openssl", "x509", "-inform", "DER", "-outform", "PEM"], input=der).stdout.encode())
    chain = base / "chain.pem"
    chain.write_text(s.root_pem.read_text() + issuing.read_text())
    yield {"s": s, "official": official, "url": url, "base": base, "issuing": issuing, "chain": chain}
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def official_pem(signed: Path, out: Path) -> Path:
    """The signer certificate of the first signature, as PEM (via pyHanko's reader)."""
    code = ("import sys; from pyhanko.pdf_utils.reader import PdfFileReader;"
            "r=PdfFileReader(open(sys.argv[1],'rb'));"
            "sys.stdout.buffer.write(r.embedded_signatures[0].signer_cert.dump())")
    der = subprocess.run([str(PYHANKO.parent / "python"), "-c", code, str(signed)], capture_output=True, check=True).stdout
    pem = subprocess.run(["openssl", "x509", "-inform", "DER"], input=der, capture_output=True, check=True).stdout
    out.write_bytes(pem)
    return out


def sign_level(t, level: str, name: str, *extra) -> Path:
    s, corpus_file = t["s"], Path(t["corpus"]) / "libreoffice.pdf"
    out = t["base"] / f"{name}.pdf"
    r = s.sign(corpus_file, out, t["official"], "--level", level, *extra)
    assert r.returncode == 0, r.describe()
    assert_no_panic(r)
    assert f"PAdES {level}" in r.stdout, f"sign should say which level it produced:\n{r.describe()}"
    return out


@pytest.fixture(scope="module")
def t(ts, corpus):
    ts["corpus"] = corpus
    return ts


# --- RFC 3161 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("nonce", [True, False])
def test_openssl_accepts_our_timestamps(t, nonce):
    data = t["base"] / "data.txt"
    data.write_text("Surat Keputusan Nomor 800/2026\n")
    q = t["base"] / f"q{nonce}.tsq"
    args = ["openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", q]
    if not nonce:
        args.insert(-2, "-no_nonce")
    assert run(args).returncode == 0
    req = urllib.request.Request(f"{t['url']}/tsa", data=q.read_bytes(),
                                 headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "application/timestamp-reply"
        reply = resp.read()
    tsr = t["base"] / f"r{nonce}.tsr"
    tsr.write_bytes(reply)
    text = run(["openssl", "ts", "-reply", "-in", tsr, "-text"]).stdout
    assert "Granted" in text, text
    ok = run(["openssl", "ts", "-verify", "-in", tsr, "-queryfile", q, "-CAfile", t["s"].root_pem])
    assert "Verification: OK" in ok.stdout, ok.describe()
    other = t["base"] / "other.txt"
    other.write_text("another document\n")
    bad = run(["openssl", "ts", "-verify", "-in", tsr, "-data", other, "-CAfile", t["s"].root_pem])
    assert "Verification: OK" not in bad.stdout, "a token must not verify for another message imprint"


def test_tsa_refuses_wrong_content_type(t):
    req = urllib.request.Request(f"{t['url']}/tsa", data=b"x", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 415


def test_sign_with_external_tsa_url(t):
    out = sign_level(t, "B-T", "bt-http", "--tsa", f"{t['url']}/tsa")
    r, j = t["s"].verify(out)
    assert r.returncode == 0, r.describe()
    sig = j["signatures"][0]
    assert sig["level"] == "B-T" and sig["timestamp_time"], sig
    assert "Time Stamping Authority" in sig["timestamp_authority"]


def test_unreachable_tsa_is_a_clear_error(t):
    out = t["base"] / "never.pdf"
    r = t["s"].sign(Path(t["corpus"]) / "reportlab.pdf", out, t["official"], "--level", "B-T",
                    "--tsa", f"http://127.0.0.1:{free_port()}/tsa")
    assert r.returncode != 0 and not out.exists(), r.describe()
    assert_no_panic(r)
    assert "127.0.0.1" in r.stderr, r.describe()


# --- OCSP and CRL -----------------------------------------------------------------------------

def ocsp_status(t, cert: Path) -> str:
    r = run(["openssl", "ocsp", "-issuer", t["issuing"], "-cert", cert, "-url", f"{t['url']}/ocsp",
             "-CAfile", t["s"].root_pem])
    assert "Response verify OK" in r.stdout + r.stderr, r.describe()
    return r.stdout


def test_ocsp_and_crl_good_then_revoked(t, sahih_bin):
    s = t["s"]
    victim = s.enroll()
    signed_before = {}
    for level in ("B-B", "B-LT", "B-LTA"):
        out = t["base"] / f"victim-{level}.pdf"
        assert s.sign(Path(t["corpus"]) / "reportlab.pdf", out, victim, "--level", level).returncode == 0
        signed_before[level] = out
    cert = official_pem(signed_before["B-B"], t["base"] / "victim.pem")

    assert f"{cert}: good" in ocsp_status(t, cert)
    unknown = run(["openssl", "ocsp", "-issuer", t["issuing"], "-serial", "0x1234567890", "-url",
                   f"{t['url']}/ocsp", "-CAfile", s.root_pem])
    assert "unknown" in unknown.stdout, unknown.describe()
    check = s.run("ocsp", "check", "--nik", victim.nik, "--data", s.data, "--url", f"{t['url']}/ocsp")
    assert check.returncode == 0 and check.stdout.startswith("good"), check.describe()

    crl = t["base"] / "crl.der"
    crl.write_bytes(urllib.request.urlopen(f"{t['url']}/crl/issuing-1.crl", timeout=10).read())
    # Security finding 10: a second anonymous request gets the same signed CRL (no new
    # signature, no CRL number used up) until a revocation changes it (below).
    again = urllib.request.urlopen(f"{t['url']}/crl/issuing-1.crl", timeout=10).read()
    assert again == crl.read_bytes(), "every request signed a fresh CRL"
    v = run(["openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile", t["chain"], "-noout", "-verify"])
    assert "verify OK" in v.stdout + v.stderr, v.describe()

    # Revocation times have whole seconds: revoke in a later second than the signatures, as
    # any real revocation would be.
    time.sleep(1.1)
    r = s.run("revoke", "--nik", victim.nik, "--reason", "keyCompromise", "--data", s.data)
    assert r.returncode == 0, r.describe()
    # The server picks up revocations by other processes within its refresh interval (2 s,
    # as README promises): asserted at 3.5 s, not at whatever a patient loop allows.
    deadline = time.time() + 3.5
    while "revoked" not in (text := ocsp_status(t, cert)) and time.time() < deadline:
        time.sleep(0.5)
    assert f"{cert}: revoked" in text and "keyCompromise" in text, text

    crl.write_bytes(urllib.request.urlopen(f"{t['url']}/crl/issuing-1.crl", timeout=10).read())
    crl_pem = t["base"] / "crl.pem"
    crl_pem.write_text(run(["openssl", "crl", "-inform", "DER", "-in", crl]).stdout)
    vr = run(["openssl", "verify", "-crl_check", "-CAfile", t["chain"], "-CRLfile", crl_pem, cert])
    assert "certificate revoked" in vr.stdout + vr.stderr, vr.describe()
    good = official_pem(sign_level(t, "B-B", "still-good"), t["base"] / "good.pem")
    vg = run(["openssl", "verify", "-crl_check", "-CAfile", t["chain"], "-CRLfile", crl_pem, good])
    assert f"{good}: OK" in vg.stdout, vg.describe()

    # Revoked AFTER the proven signing time: timestamped signatures still pass, B-B cannot tell.
    for level, out in signed_before.items():
        rr, j = s.verify(out)
        sig = j["signatures"][0]
        assert sig["revoked"] is True, sig
        if level == "B-B":
            assert j["indication"] == "INDETERMINATE" and sig["sub_indication"] == "REVOKED_NO_POE", sig
            assert rr.returncode == 1
        else:
            assert j["indication"] == "TOTAL_PASSED", sig
            assert rr.returncode == 0
    # And a revoked official can no longer sign.
    r = s.sign(Path(t["corpus"]) / "reportlab.pdf", t["base"] / "refused.pdf", victim, "--level", "B-B")
    assert r.returncode != 0 and not (t["base"] / "refused.pdf").exists(), r.describe()


# --- PAdES levels ------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_levels_against_outside_validators(t, level):
    s = t["s"]
    out = sign_level(t, level, f"level-{level}")
    q = qpdf_check(out)
    assert q.clean, q.run.describe()
    r, j = s.verify(out)
    assert r.returncode == 0, r.describe()
    sig = j["signatures"][0]
    assert j["indication"] == "TOTAL_PASSED" and sig["level"] == level, j
    assert sig["timestamp_time"] and "Time Stamping Authority" in sig["timestamp_authority"]
    assert j["ltv_enabled"] is (level != "B-T"), j
    assert sig["ltv"] is (level != "B-T"), sig
    if level == "B-LTA":
        assert len(j["document_timestamps"]) == 1 and j["document_timestamps"][0]["trusted"], j

    # pdfsig: our signature valid and trusted (NSS fetches OCSP from the live server).
    nss = t["base"] / "nss"
    if not nss.exists():
        nss.mkdir()
        run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"])
        run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", s.root_pem])
    ps = pdfsig(out, nss)
    first = ps.signatures[0]
    assert first.valid and first.trusted, ps.run.describe()
    if level == "B-LTA":
        assert any("Time Stamping Authority" in (x.common_name or "") for x in ps.signatures), ps.run.describe()

    # pyHanko: B-T by plain validation (revocation fetched online from our responder), B-LT and
    # B-LTA by AdES validation from the embedded data only, now and days ahead.
    if level == "B-T":
        v = run([PYHANKO, "sign", "validate", "--trust", s.root_pem, "--trust-replace", out])
        assert v.returncode == 0 and "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in v.stdout, v.describe()
    else:
        later = (datetime.now(timezone.utc) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        for extra in ([], ["--validation-time", later]):
            v = run([PYHANKO, "sign", "adesverify", *extra, "--trust", s.root_pem, "--trust-replace", out])
            assert v.returncode == 0, v.describe()
            assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>" in v.stdout, v.describe()
            assert "ACCEPTABLE_MODIFICATIONS" in v.stdout or "UNTOUCHED" in v.stdout, v.describe()


def test_ten_years_ahead(t):
    """B-LTA and B-LT keep their proof; B-B cannot prove when it was made."""
    s = t["s"]
    results = {}
    for level in ("B-B", "B-LT", "B-LTA"):
        out = sign_level(t, level, f"decade-{level}")
        r, j = s.verify(out, "--at", "+10y")
        results[level] = (r.returncode, j)
    rc, j = results["B-B"]
    assert rc == 1 and j["indication"] == "INDETERMINATE", j
    assert j["signatures"][0]["sub_indication"] == "OUT_OF_BOUNDS_NO_POE", j
    for level in ("B-LT", "B-LTA"):
        rc, j = results[level]
        assert rc == 0 and j["indication"] == "TOTAL_PASSED", (level, j)
        assert j["signatures"][0]["proven_at"], j


def test_tampered_timestamped_file_fails(t):
    out = sign_level(t, "B-LTA", "tamper")
    data = bytearray(out.read_bytes())
    at = data.find(b"Kepala Dinas")
    assert at > 0
    data[at] ^= 0x01
    bad = t["base"] / "tampered.pdf"
    bad.write_bytes(bytes(data))
    r, j = t["s"].verify(bad)
    assert r.returncode == 1 and j["indication"] == "TOTAL_FAILED", j


def test_crl_and_ocsp_commands(t):
    s = t["s"]
    r = s.run("crl", "--data", s.data)
    assert r.returncode == 0 and "BEGIN X509 CRL" in r.stdout, r.describe()
    crl = t["base"] / "cmd.crl"
    crl.write_text(r.stdout)
    v = run(["openssl", "crl", "-in", crl, "-CAfile", t["chain"], "-noout", "-verify"])
    assert "verify OK" in v.stdout + v.stderr, v.describe()
    c = s.run("ocsp", "check", "--nik", t["official"].nik, "--data", s.data)
    assert c.returncode == 0 and c.stdout.startswith("good"), c.describe()


def test_long_term_scenario(t):
    """Sign B-LTA, revoke the signer afterwards, rotate the issuing CA, verify ten years ahead:
    still TOTAL_PASSED, with the proof (timestamp, document timestamp) shown."""
    s = t["s"]
    official = s.enroll()
    out = t["base"] / "decree-lta.pdf"
    r = s.sign(Path(t["corpus"]) / "libreoffice.pdf", out, official, "--level", "B-LTA")
    assert r.returncode == 0, r.describe()
    time.sleep(1.1)
    assert s.run("revoke", "--nik", official.nik, "--reason", "affiliationChanged", "--data", s.data).returncode == 0
    rot = s.run("ca", "rotate", "--data", s.data)
    assert rot.returncode == 0 and "Issuing CA 2" in rot.stdout, rot.describe()
    rv, j = s.verify(out, "--at", "+10y")
    sig = j["signatures"][0]
    assert rv.returncode == 0 and j["indication"] == "TOTAL_PASSED", j
    assert sig["revoked"] is True and sig["proven_at"] and sig["level"] == "B-LTA", sig
    assert j["document_timestamps"] and j["document_timestamps"][0]["trusted"], j
    text = s.run("verify", out, "--data", s.data, "--at", "+10y", "--lang", "en")
    assert "Proven to exist since" in text.stdout and "Document timestamp" in text.stdout, text.describe()
    # Officials enrolled after the rotation get certificates from the new issuing CA.
    newer = s.enroll()
    out2 = t["base"] / "after-rotation.pdf"
    assert s.sign(Path(t["corpus"]) / "reportlab.pdf", out2, newer, "--level", "B-LT").returncode == 0
    r2, j2 = s.verify(out2)
    assert r2.returncode == 0 and "Issuing CA 2" in j2["signatures"][0]["issuer"], j2


def test_extend_our_and_foreign_signatures(t):
    s = t["s"]
    bb = sign_level(t, "B-B", "to-extend")
    lta = t["base"] / "extended.pdf"
    r = s.run("extend", bb, "-o", lta, "--level", "B-LTA", "--data", s.data)
    assert r.returncode == 0, r.describe()
    assert lta.read_bytes().startswith(bb.read_bytes()), "extend must only append"
    assert qpdf_check(lta).clean
    rv, j = s.verify(lta, "--at", "+10y")
    assert rv.returncode == 0 and j["indication"] == "TOTAL_PASSED", j
    assert j["signatures"][0]["ltv"] is True and j["document_timestamps"], j
    # A file already signed by another tool with a foreign key: still intact after extending.
    ps = t["base"] / "foreign-signed.pdf"
    assert s.sign(Path(t["corpus"]) / "presigned.pdf", ps, t["official"], "--level", "B-T").returncode == 0
    ext = t["base"] / "foreign-extended.pdf"
    r = s.run("extend", ps, "-o", ext, "--data", s.data)
    assert r.returncode == 0, r.describe()
    rv, j = s.verify(ext, "--trust", Path(t["corpus"]) / "foreign.pem")
    assert rv.returncode == 0 and j["indication"] == "TOTAL_PASSED", j
    assert qpdf_check(ext).clean


def _openssl_chain(d: Path) -> dict:
    """A foreign RSA chain made with OpenSSL (root -> CA -> signer), for pyHanko to sign with."""
    d.mkdir(parents=True, exist_ok=True)
    def ossl(*args):
        r = run(["openssl", *args])
        assert r.returncode == 0, r.describe()
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "root.key", "-out", d / "root.pem",
         "-days", "3650", "-subj", "/CN=Peer Root/O=Peer/C=ID", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "signer.key", "-out", d / "signer.csr",
         "-subj", "/CN=Peer Signer/O=Peer/C=ID")
    (d / "signer.ext").write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n")
    ossl("x509", "-req", "-in", d / "signer.csr", "-CA", d / "root.pem", "-CAkey", d / "root.key",
         "-CAcreateserial", "-days", "700", "-extfile", d / "signer.ext", "-out", d / "signer.pem")
    return {"root": d / "root.pem", "key": d / "signer.key", "cert": d / "signer.pem"}


def test_pyhanko_made_files_with_our_tsa_validate(t):
    """pyHanko signs (its own OpenSSL-made key and chain) using OUR TSA over HTTP, with and
    without embedded validation info; our verifier validates the result, trusting the foreign
    root and our root (for the TSA)."""
    s = t["s"]
    chain = _openssl_chain(t["base"] / "peer")
    py = PYHANKO.parent / "python"
    src = Path(t["corpus"]) / "reportlab.pdf"
    code = r'''
import io, sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
src, out, key, cert, peer_root, our_root, tsa, ltv = sys.argv[1:9]
signer = signers.SimpleSigner.load(key, cert)
vc = ValidationContext(trust_roots=[load_cert_from_pemder(peer_root), load_cert_from_pemder(our_root)],
                       allow_fetching=True, revocation_mode="soft-fail")
meta = signers.PdfSignatureMetadata(field_name="PeerSig", subfilter=fields.SigSeedSubFilter.PADES,
                                    embed_validation_info=(ltv == "1"), validation_context=vc)
with open(src, "rb") as f:
    w = IncrementalPdfFileWriter(io.BytesIO(f.read()))
res = signers.sign_pdf(w, meta, signer=signer, timestamper=HTTPTimeStamper(tsa))
open(out, "wb").write(res.getvalue())
'''
    for ltv in ("0", "1"):
        out = t["base"] / f"pyhanko-{ltv}.pdf"
        r = run([py, "-c", code, src, out, chain["key"], chain["cert"], chain["root"], s.root_pem,
                 f"{t['url']}/tsa", ltv])
        assert r.returncode == 0, r.describe()
        rv, j = s.verify(out, "--trust", chain["root"])
        sig = j["signatures"][0]
        assert rv.returncode == 0 and j["indication"] == "TOTAL_PASSED", j
        assert sig["timestamp_time"] and "Time Stamping Authority" in sig["timestamp_authority"], sig
        assert sig["level"] in ("B-T", "B-LT"), sig
        # Without trusting the foreign root: intact, but the signer is untrusted.
        rv, j = s.verify(out)
        assert rv.returncode == 1 and j["indication"] == "INDETERMINATE", j
        assert j["signatures"][0]["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND", j


def test_ocsp_get_form(t):
    """RFC 6960 A.1: GET {url}/ocsp/{base64 of the DER request, URL-encoded}."""
    import base64
    import urllib.parse
    req_der = t["base"] / "get.req"
    cert = official_pem(sign_level(t, "B-B", "for-get"), t["base"] / "get.pem")
    r = run(["openssl", "ocsp", "-issuer", t["issuing"], "-cert", cert, "-reqout", req_der, "-no_nonce"])
    assert r.returncode == 0, r.describe()
    path = urllib.parse.quote(base64.b64encode(req_der.read_bytes()).decode(), safe="")
    resp = t["base"] / "get.resp"
    with urllib.request.urlopen(f"{t['url']}/ocsp/{path}", timeout=10) as h:
        assert h.headers["Content-Type"] == "application/ocsp-response"
        resp.write_bytes(h.read())
    v = run(["openssl", "ocsp", "-respin", resp, "-issuer", t["issuing"], "-cert", cert,
             "-CAfile", t["s"].root_pem])
    assert "Response verify OK" in v.stdout + v.stderr and f"{cert}: good" in v.stdout, v.describe()
