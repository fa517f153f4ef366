"""Files made by another tool (pyHanko) for the hostile-document suite: a small foreign PKI
(root, signer, TSA), certification signatures at each DocMDP level, and the legitimate later
changes other tools make (approval signatures, document timestamps, DSS updated in place, form
filling, annotations)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ForeignPki:
    root_pem: Path
    signer_key: Path
    signer_cert: Path
    tsa_key: object
    tsa_cert: object
    root_cert: object


def make_pki(outdir: Path) -> ForeignPki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa as rsa_keys
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Instansi Uji Luar"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ku(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=sign and not ca,
                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                             key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (x509.CertificateBuilder().subject_name(name("Root Uji Luar")).issuer_name(name("Root Uji Luar"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(ku(False, True), critical=True)
            .add_extension(root_ski, critical=False)
            .sign(root_key, hashes.SHA256()))

    def leaf(cn: str, eku=None, sign=True, rsa=False):
        # pyHanko's dummy timestamper signs with RSA only.
        key = (rsa_keys.generate_private_key(public_exponent=65537, key_size=2048) if rsa
               else ec.generate_private_key(ec.SECP256R1()))
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(root.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=700))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(ku(sign, False), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                            critical=False))
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        return key, b.sign(root_key, hashes.SHA256())

    signer_key, signer = leaf("Penandatangan Uji Luar")
    tsa_key, tsa = leaf("TSA Uji Luar", ExtendedKeyUsageOID.TIME_STAMPING, rsa=True)
    outdir.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (outdir / "foreign-root.pem").write_bytes(root.public_bytes(pem))
    (outdir / "foreign-signer.pem").write_bytes(signer.public_bytes(pem))
    (outdir / "foreign-signer-key.pem").write_bytes(signer_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    from asn1crypto import keys as akeys, x509 as ax509
    der = serialization.Encoding.DER
    return ForeignPki(
        root_pem=outdir / "foreign-root.pem",
        signer_key=outdir / "foreign-signer-key.pem",
        signer_cert=outdir / "foreign-signer.pem",
        tsa_key=akeys.PrivateKeyInfo.load(tsa_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        tsa_cert=ax509.Certificate.load(tsa.public_bytes(der)),
        root_cert=ax509.Certificate.load(root.public_bytes(der)),
    )


def _signer(pki: ForeignPki):
    from pyhanko.sign import signers
    from pyhanko.keys import load_cert_from_pemder
    s = signers.SimpleSigner.load(str(pki.signer_key), str(pki.signer_cert),
                                  ca_chain_files=(str(pki.root_pem),))
    assert s is not None
    return s


def _timestamper(pki: ForeignPki):
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    return DummyTimeStamper(tsa_cert=pki.tsa_cert, tsa_key=pki.tsa_key, certs_to_embed=[pki.root_cert])


def _writer(data: bytes):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def sign(data: bytes, pki: ForeignPki, field: str, *, certify: int | None = None) -> bytes:
    """A pyHanko PAdES signature in a new invisible field; a certification at DocMDP level
    `certify` when given."""
    from pyhanko.sign import fields, signers
    w = _writer(data)
    fields.append_signature_field(w, fields.SigFieldSpec(field, on_page=0, box=(0, 0, 0, 0)))
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify is not None,
        docmdp_permissions=fields.MDPPerm(certify) if certify else fields.MDPPerm.FILL_FORMS)
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=_signer(pki)).sign_pdf(w, output=out)
    return out.getvalue()


def document_timestamp(data: bytes, pki: ForeignPki) -> bytes:
    from pyhanko.sign import signers
    w = _writer(data)
    out = io.BytesIO()
    signers.PdfTimeStamper(_timestamper(pki)).timestamp_pdf(w, "sha256", output=out)
    return out.getvalue()


def dss_update_in_place(data: bytes, pki: ForeignPki) -> bytes:
    """pyHanko's DSS writer adds a certificate to the existing DSS dictionary, rewriting that
    same object (an in-place update)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from asn1crypto import x509 as ax509
    r = PdfFileReader(io.BytesIO(data), strict=False)
    sig = r.embedded_signatures[0]
    out = io.BytesIO(data)
    cert = ax509.Certificate.load(pki.root_cert.dump())
    DocumentSecurityStore.add_dss(out, sig.pkcs7_content, certs=[cert], paths=None)
    return out.getvalue()


def fill_form(data: bytes, value: str) -> bytes:
    """Fills the text field "Jumlah" in an incremental update: new /V and a new appearance."""
    from pyhanko.pdf_utils import generic
    w = _writer(data)
    fields = w.root["/AcroForm"]["/Fields"]
    field_ref = fields[0]
    field = field_ref.get_object()
    field["/V"] = generic.pdf_string(value)
    ap = generic.StreamObject(
        generic.DictionaryObject({
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject(map(generic.FloatObject, (0, 0, 200, 30))),
            generic.pdf_name("/Resources"): generic.DictionaryObject({
                generic.pdf_name("/Font"): generic.DictionaryObject({
                    generic.pdf_name("/F1"): w.root["/AcroForm"]["/DR"]["/Font"].raw_get("/F1")})}),
        }),
        stream_data=b"/Tx BMC BT /F1 12 Tf 4 10 Td (" + value.encode() + b") Tj ET EMC")
    field["/AP"] = generic.DictionaryObject({generic.pdf_name("/N"): w.add_object(ap)})
    w.update_container(field)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def sticky_note(data: bytes, rect=(520, 800, 540, 820)) -> bytes:
    """A Text annotation (sticky note) in the page margin, as a reviewer adds it."""
    from pyhanko.pdf_utils import generic
    w = _writer(data)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    note = generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
        generic.pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, rect)),
        generic.pdf_name("/Contents"): generic.pdf_string("Sudah diperiksa"),
        generic.pdf_name("/P"): page_ref,
    })
    ref = w.add_object(note)
    annots = page.get("/Annots")
    if annots is None:
        page["/Annots"] = generic.ArrayObject([ref])
        w.update_container(page)
    else:
        raw = page.raw_get("/Annots")
        annots.append(ref)
        if isinstance(raw, generic.IndirectObject):
            w.mark_update(raw)
        else:
            w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()
