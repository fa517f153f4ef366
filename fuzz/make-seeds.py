#!/usr/bin/env python3
"""Writes the checked-in seed corpora of the fuzz targets added for issue 14 (fuzz/seeds/<target>/).
Run once from the repository root with the test venv (`.venv/bin/python fuzz/make-seeds.py`);
the outputs are committed, so neither the fuzzers nor the smoke test need Python."""

import base64
import datetime
import json
import shutil
import subprocess
import zlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent / "seeds"


def put(target: str, name: str, data: bytes) -> None:
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def cert(key, issuer_key, name, issuer_name, ca):
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(issuer_key, hashes.SHA256())


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seed CA")])
    ca = cert(ca_key, ca_key, ca_name, ca_name, True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(leaf_key, ca_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seed")]),
                ca_name, False)

    # OCSP requests: SHA-1 and SHA-256 CertIDs, with and without a nonce.
    for h in (hashes.SHA1(), hashes.SHA256()):
        for nonce in (False, True):
            b = ocsp.OCSPRequestBuilder().add_certificate(leaf, ca, h)
            if nonce:
                b = b.add_extension(x509.OCSPNonce(b"\x01" * 16), critical=False)
            put("ocsp_request", f"{h.name}-{'nonce' if nonce else 'plain'}.der",
                b.build().public_bytes(serialization.Encoding.DER))

    # RFC 3161 requests from openssl, the client most deployments test with.
    tmp = ROOT / "_tmp"
    tmp.mkdir(parents=True)
    (tmp / "data.txt").write_bytes(b"surat dinas")
    for extra, name in (([], "plain"), (["-no_nonce"], "no-nonce"), (["-cert"], "cert"),
                        (["-sha512"], "sha512"), (["-tspolicy", "1.2.3.4.1"], "policy")):
        subprocess.run(["openssl", "ts", "-query", "-data", str(tmp / "data.txt"), *extra,
                        "-out", str(tmp / "q.tsq")], check=True, capture_output=True)
        put("tsa_request", f"{name}.tsq", (tmp / "q.tsq").read_bytes())
    # CMS: a detached and an attached SignedData from openssl, and the certificate alone.
    (tmp / "key.pem").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    for extra, name in ((["-nodetach"], "attached"), ([], "detached")):
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(tmp / "data.txt"),
                        "-signer", str(tmp / "cert.pem"), "-inkey", str(tmp / "key.pem"),
                        "-outform", "DER", "-out", str(tmp / "s.p7s"), *extra],
                       check=True, capture_output=True)
        put("cms", f"{name}.p7s", (tmp / "s.p7s").read_bytes())
    put("cms", "cert.der", leaf.public_bytes(serialization.Encoding.DER))
    shutil.rmtree(tmp)

    # CRLs: empty, with entries and reasons, with a delta-indicator-free CRL number.
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for n, count in ((1, 0), (2, 3)):
        b = (x509.CertificateRevocationListBuilder().issuer_name(ca_name)
             .last_update(now).next_update(now + datetime.timedelta(days=7))
             .add_extension(x509.CRLNumber(n), critical=False))
        for i in range(count):
            r = (x509.RevokedCertificateBuilder().serial_number(1000 + i).revocation_date(now)
                 .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                 .build())
            b = b.add_revoked_certificate(r)
        put("crl", f"crl-{count}.der",
            b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))

    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

    # Policies: the examples shipped in policies/.
    for p in sorted((ROOT.parent.parent / "policies").glob("*.toml")):
        put("policy_toml", p.name, p.read_bytes())

    # Evidence: the smallest complete PDF, JPEG and PNG, and near misses.
    put("evidence_sniff", "min.pdf", pdf)
    put("evidence_sniff", "html.txt", b"<html>%PDF-1.4 ... %%EOF</html>")
    put("evidence_sniff", "min.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"
                                     b"\x00\x01\x00\x00\xff\xd9")
    raw = b"\x00\x00\x00\x00"
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00"
                                                 b"\x00\x00")
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    put("evidence_sniff", "min.png", png)
    put("specimen_image", "min.png", png)
    put("specimen_image", "min.jpg", (ROOT / "evidence_sniff" / "min.jpg").read_bytes())

    # Upstream answers (2-byte big-endian HTTP status, then the body), in the shapes of
    # ../shared/reference/ecs-api.md.
    def answer(name, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        put("upstream_answer", name, status.to_bytes(2, "big") + data)
    pdf_b64 = base64.b64encode(pdf).decode()
    answer("sign-ok.json", 200, {"file": [pdf_b64], "id": ["x"]})
    answer("sign-two.json", 200, {"file": [pdf_b64, pdf_b64[:40] + "\n" + pdf_b64[40:]]})
    answer("sign-error-200.json", 200, {"status_code": 2031, "error": "Passphrase salah"})
    answer("error-nested.json", 400, {"error": {"message": "NIK tidak terdaftar 2011"}})
    answer("error-sahih.json", 400, {"status_code": 400, "error_code": 2031,
                                     "error": "Passphrase anda salah (2031)"})
    answer("status.json", 200, {"status_code": 1111, "status": "ISSUE", "message": "Aktif"})
    answer("status-data.json", 200, {"data": {"userStatus": "EXPIRED"}})
    answer("status-error.json", 404, {"error": "User not registered:NOT_REGISTERED"})
    answer("html.txt", 502, b"<html><body>Bad Gateway</body></html>")
    answer("text.txt", 500, b"internal error 5000")

    # ECS v2 JSON bodies with base64 files, as the clients of issue 14 send them.
    def body(name, value):
        put("ecs_json_files", name, (value if isinstance(value, bytes)
                                     else json.dumps(value).encode()))
    b64 = base64.b64encode(bytes(range(256)) * 3).decode()
    body("plain.json", {"nik": "3171012501850003", "passphrase": "x", "file": [b64]})
    body("php-slashes.json", ('{"nik":"1","file":["' + b64.replace("/", "\\/") + '"]}').encode())
    body("wrapped.json", {"file": ["\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))]})
    body("data-uri.json", {"file": ["data:application/pdf;base64," + b64, b64.rstrip("=")]})
    body("unicode-escape.json", ('{"file":["' + b64.replace("/", "\\u002F") + '"]}').encode())
    body("empty.json", {"file": []})

    # multipart/form-data as the v1 clients send it (boundary sahih-fuzz).
    def form(name, parts):
        out = b""
        for field, filename, value in parts:
            disp = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
            out += (b"--sahih-fuzz\r\nContent-Disposition: " + disp.encode() + b"\r\n"
                    + (b"Content-Type: application/pdf\r\n" if filename else b"") + b"\r\n"
                    + value + b"\r\n")
        put("multipart", name, out + b"--sahih-fuzz--\r\n")
    form("sign.txt", [("nik", None, b"3171012501850003"), ("passphrase", None, b"x"),
                      ("tampilan", None, b"visible"), ("image", None, b"1"),
                      ("file", "surat.pdf", pdf)])
    form("flags.txt", [("image", None, b"TRUE"), ("linkQR", None, b"on"), ("x", None, b"")])


def chunk(kind: bytes, data: bytes) -> bytes:
    return (len(data).to_bytes(4, "big") + kind + data
            + zlib.crc32(kind + data).to_bytes(4, "big"))


if __name__ == "__main__":
    main()
