"""Sign every real-world corpus file with `sahih sign`, then ask outside validators.

Each corpus file is signed once per module (cached); every validator is its own test so the
result reads as a matrix: test_pdfsig[chromium.pdf], test_pyhanko[hybrid.pdf], ...
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import CORPUS_POSITIVE, QR_URL_RE, Sahih
from validators import (decode_qr, find_blank_rect, page_count, page_text, pdfsig, pyhanko_validate, qpdf_check, run,
                        render_page)

FOREIGN = "ForeignSig"
QR_DPI = 150
STAMP_HEADLINE = "Ditandatangani secara elektronik oleh"
SECOND_SIZE = 120  # points: the second signature's --rect square


def expected_prior_signatures(name: str) -> int:
    return 1 if name == "presigned.pdf" else 0


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signed(sahih: Sahih, official, corpus, tmp_path_factory):
    """name -> (original, signed output); signs lazily, once per module."""
    outdir = tmp_path_factory.mktemp("signed")
    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple[Path, Path]:
        if name not in cache:
            src = corpus / name
            out = outdir / f"signed-{name}"
            cache[name] = (src, out, sahih.sign(src, out, official))
        src, out, r = cache[name]
        if r.returncode != 0 or not out.exists():
            pytest.fail(f"sahih sign {name} failed, nothing to validate:\n{r.describe()}", pytrace=False)
        return src, out

    return get


@pytest.fixture(scope="module")
def official2(sahih: Sahih):
    return sahih.enroll(name="Siti Rahmawati, S.E., M.Si.", position="Sekretaris Dinas")


def latest(sigs, key):
    """The signature added last (largest second ByteRange offset)."""
    return max(sigs, key=key)


def trust_for(name: str, sahih: Sahih, corpus: Path) -> list[str]:
    return ["--trust", str(corpus / "foreign.pem")] if name == "presigned.pdf" else []


# --------------------------------------------------------------------------------------------
# per-file matrix
# --------------------------------------------------------------------------------------------

def test_manifest_lists_the_files_this_suite_signs(manifest):
    assert manifest["positive"] == CORPUS_POSITIVE + ["scan100mb.pdf"], manifest["positive"]
    for name in CORPUS_POSITIVE:
        assert manifest["files"][name]["producer"], f"{name}: no /Producer recorded"


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_incremental_update_keeps_original_bytes(name, signed):
    src, out = signed(name)
    original = src.read_bytes()
    data = out.read_bytes()
    assert data[: len(original)] == original, \
        f"{name}: the signed file does not start with the original bytes (not an incremental update)"
    tail = data[len(original):]
    assert b"%%EOF" in tail, f"{name}: no %%EOF in the appended revision"
    assert tail.rstrip().endswith(b"%%EOF"), f"{name}: signed file does not end with %%EOF: {tail[-80:]!r}"


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_pdfsig(name, signed, sahih: Sahih):
    src, out = signed(name)
    res = pdfsig(out, sahih.nssdir)
    prior = expected_prior_signatures(name)
    assert len(res.signatures) == prior + 1, f"{name}: expected {prior + 1} signature(s):\n{res.run.describe()}"
    ours = latest(res.signatures, key=lambda s: s.ranges[-1][0] if s.ranges else -1)
    assert ours.valid, f"{name}: pdfsig does not say 'Signature is Valid':\n{res.run.describe()}"
    assert ours.trusted, f"{name}: pdfsig does not say 'Certificate is Trusted':\n{res.run.describe()}"
    assert ours.signature_type == "ETSI.CAdES.detached", res.run.describe()
    assert ours.total_document_signed is True, f"{name}: not total document signed:\n{res.run.describe()}"
    assert ours.ranges and ours.ranges[0][0] == 0 and ours.ranges[-1][1] == out.stat().st_size, \
        f"{name}: signed ranges {ours.ranges} do not span the file ({out.stat().st_size} bytes)"
    if name == "presigned.pdf":
        foreign = res.by_field(FOREIGN)
        assert foreign.valid, f"the earlier foreign signature is no longer valid:\n{res.run.describe()}"
        assert foreign.total_document_signed is False, res.run.describe()


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_pyhanko(name, signed, sahih: Sahih, corpus):
    src, out = signed(name)
    res = pyhanko_validate(out, [sahih.root_pem])
    prior = expected_prior_signatures(name)
    assert len(res.signatures) == prior + 1, res.run.stdout
    ours = latest(res.signatures, key=lambda s: s.byte_range[2])
    detail = ours.data.get("pretty") or ours.data.get("error")
    assert ours.error is None, f"{name}: pyHanko raised: {ours.error}"
    assert ours.intact, f"{name}: not intact:\n{detail}"
    assert ours.valid, f"{name}: not valid:\n{detail}"
    assert ours.trusted, f"{name}: not trusted with --trust root.pem:\n{detail}"
    assert ours.coverage == "ENTIRE_FILE", f"{name}: coverage {ours.coverage}:\n{detail}"
    assert ours.bottom_line, f"{name}: bottom line false ({ours.summary}):\n{detail}"
    if name == "presigned.pdf":
        foreign = res.by_field(FOREIGN)
        fdetail = foreign.data.get("pretty") or foreign.data.get("error")
        assert foreign.intact and foreign.valid, f"foreign signature broken by our update:\n{fdetail}"
        assert not foreign.trusted, "foreign signature trusted without its certificate?"
        assert foreign.coverage == "ENTIRE_REVISION", fdetail
        assert foreign.modification_level in ("FORM_FILLING", "LTA_UPDATES"), \
            f"pyHanko judges our update to the pre-signed file as {foreign.modification_level}:\n{fdetail}"
        assert foreign.docmdp_ok, fdetail
        # With the foreign certificate trusted too, every signature passes.
        res2 = pyhanko_validate(out, [sahih.root_pem, corpus / "foreign.pem"])
        for s in res2.signatures:
            assert s.bottom_line, f"{s.field}: {s.summary}\n{s.data.get('pretty') or s.data.get('error')}"


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_qpdf_check(name, signed):
    src, out = signed(name)
    chk = qpdf_check(out)
    assert chk.clean, f"{name}: qpdf --check is not clean after signing:\n{chk.run.describe()}"


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_sahih_verify(name, signed, sahih: Sahih, corpus, official):
    src, out = signed(name)
    r, rep = sahih.verify(out)
    assert rep is not None, f"verify --json printed no JSON:\n{r.describe()}"
    sigs = rep.get("signatures", [])
    assert len(sigs) == expected_prior_signatures(name) + 1, r.describe()
    ours = [s for s in sigs if s.get("field") != FOREIGN]
    assert len(ours) == 1, r.describe()
    o = ours[0]
    assert o["indication"] == "TOTAL_PASSED", r.describe()
    assert o["integrity"] is True and o["trusted"] is True and o["revoked"] is False, r.describe()
    assert o["covers_whole_document"] is True, r.describe()
    assert official.name.split(",")[0] in (o.get("signer_name") or ""), r.describe()
    assert o.get("signed_at"), r.describe()
    if name != "presigned.pdf":
        assert r.returncode == 0, r.describe()
        assert rep["indication"] == "TOTAL_PASSED", r.describe()
        return
    # Pre-signed: the foreign signature is intact but its issuer is unknown.
    assert r.returncode == 1, f"a file with an untrusted signature must exit 1:\n{r.describe()}"
    foreign = [s for s in sigs if s.get("field") == FOREIGN][0]
    assert foreign["indication"] == "INDETERMINATE", r.describe()
    assert foreign["integrity"] is True and foreign["trusted"] is False, r.describe()
    assert rep["indication"] != "TOTAL_PASSED", r.describe()
    # ... and passes once its certificate is trusted.
    r2, rep2 = sahih.verify(out, "--trust", corpus / "foreign.pem")
    assert r2.returncode == 0, r2.describe()
    assert rep2 and all(s["indication"] == "TOTAL_PASSED" for s in rep2["signatures"]), r2.describe()


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_stamp_qr_code(name, signed, sahih: Sahih, tmp_path):
    """Default stamp: bottom right of the last page, QR = {base_url}/v/{id}."""
    src, out = signed(name)
    last = page_count(out)
    png = render_page(out, last, QR_DPI, tmp_path / "last")
    codes, (w, h) = decode_qr(png)
    ours = [c for c in codes if QR_URL_RE.match(c.text)]
    assert len(ours) == 1, f"{name}: expected one Sahih QR code on page {last}, found {[c.text for c in codes]}"
    qr = ours[0]
    assert qr.text.startswith(sahih.base_url + "/v/"), f"{name}: QR text {qr.text!r} is not {sahih.base_url}/v/<id>"
    cx, cy = qr.center
    assert cx > w / 2 and cy > h / 2, \
        f"{name}: default stamp not in the bottom-right quarter: QR centre ({cx:.0f},{cy:.0f}) px on a {w}x{h} page"
    assert abs(qr.orientation) <= 5 or abs(abs(qr.orientation) - 360) <= 5, \
        f"{name}: QR is not upright (orientation {qr.orientation})"


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_stamp_text(name, signed):
    """The stamp's words are real text: headline, the signer's name and a WIB time."""
    src, out = signed(name)
    last = page_count(out)
    before, after = page_text(src, last), page_text(out, last)
    assert after.count(STAMP_HEADLINE) == before.count(STAMP_HEADLINE) + 1, \
        f"{name}: stamp headline {STAMP_HEADLINE!r} not found once on page {last}: {after[-600:]!r}"
    assert after.count("Budi Santoso") > before.count("Budi Santoso"), f"{name}: signer name missing: {after[-600:]!r}"
    wib = re.compile(r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*WIB")
    assert len(wib.findall(after)) > len(wib.findall(before)), f"{name}: no 'HH:MM WIB' time in the stamp: {after[-600:]!r}"


# --------------------------------------------------------------------------------------------
# a second Sahih signature on the signed output
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_second_signature(name, signed, sahih: Sahih, official2, corpus, tmp_path):
    src, out1 = signed(name)
    out2 = tmp_path / f"twice-{name}"
    last_page = page_count(out1)
    # A blank spot on the last page (clear of the letter and of the first stamp).
    spot = find_blank_rect(out1, last_page, SECOND_SIZE, tmp_path / "blank")
    assert spot is not None, f"harness: no blank {SECOND_SIZE} pt square on the last page of {name}"
    rx, ry = spot
    sahih.sign_ok(out1, out2, official2, "--page", "last", "--rect", f"{rx},{ry},{SECOND_SIZE},{SECOND_SIZE}")
    assert out2.read_bytes().startswith(out1.read_bytes()), "second signing rewrote earlier bytes"
    n = expected_prior_signatures(name) + 2

    ps = pdfsig(out2, sahih.nssdir)
    assert len(ps.signatures) == n, ps.run.describe()
    for s in ps.signatures:
        assert s.valid, f"{name}: signature #{s.number} ({s.field}) not valid after a second signing:\n{ps.run.describe()}"
        if s.field != FOREIGN:
            assert s.trusted, f"{name}: signature #{s.number} not trusted:\n{ps.run.describe()}"
    assert sum(1 for s in ps.signatures if s.total_document_signed) == 1, ps.run.describe()

    ph = pyhanko_validate(out2, [sahih.root_pem, corpus / "foreign.pem"])
    assert len(ph.signatures) == n, ph.run.stdout
    last = latest(ph.signatures, key=lambda s: s.byte_range[2])
    for s in ph.signatures:
        detail = s.data.get("pretty") or s.data.get("error")
        assert s.bottom_line, f"{name}: {s.field}: {s.summary}\n{detail}"
        if s is last:
            assert s.coverage == "ENTIRE_FILE", detail
        else:
            assert s.coverage == "ENTIRE_REVISION", detail
            assert s.modification_level in ("FORM_FILLING", "LTA_UPDATES") and s.docmdp_ok, \
                f"{name}: pyHanko judges the later signature as {s.modification_level}:\n{detail}"

    chk = qpdf_check(out2)
    assert chk.clean, chk.run.describe()

    r, rep = sahih.verify(out2, *trust_for(name, sahih, corpus))
    assert r.returncode == 0, r.describe()
    assert rep and len(rep["signatures"]) == n, r.describe()
    assert all(s["indication"] == "TOTAL_PASSED" for s in rep["signatures"]), r.describe()

    # Both QR codes decode, to different ids; the second inside its rectangle.
    png = render_page(out2, last_page, QR_DPI, tmp_path / "last")
    codes, (w, h) = decode_qr(png)
    scale = QR_DPI / 72
    ours = [c for c in codes if QR_URL_RE.match(c.text)]
    lo, hi = rx - 2, rx + SECOND_SIZE + 2
    in_rect = [c for c in ours
               if c.bbox[0] >= lo * scale and c.bbox[2] <= hi * scale
               and c.bbox[1] >= h - (ry + SECOND_SIZE + 2) * scale and c.bbox[3] <= h - (ry - 2) * scale]
    assert len(in_rect) == 1, (f"{name}: second stamp's QR not inside [{rx},{ry},{SECOND_SIZE},{SECOND_SIZE}]: "
                               f"{[(c.text, c.bbox) for c in codes]} on {w}x{h} px at {QR_DPI} dpi")
    ids = {QR_URL_RE.match(c.text).group(1) for c in ours}
    assert len(ours) == 2 and len(ids) == 2, f"{name}: expected two distinct Sahih QR codes, got {[c.text for c in codes]}"


# --------------------------------------------------------------------------------------------
# invisible signatures, other key types, PAdES profile
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["reportlab.pdf", "libreoffice.pdf", "presigned.pdf", "form.pdf"])
def test_invisible(name, sahih: Sahih, official, corpus, tmp_path):
    src = corpus / name
    out = tmp_path / f"invisible-{name}"
    sahih.sign_ok(src, out, official, "--invisible")
    ps = pdfsig(out, sahih.nssdir)
    ours = latest(ps.signatures, key=lambda s: s.ranges[-1][0])
    assert ours.valid and ours.trusted and ours.total_document_signed, ps.run.describe()
    ph = pyhanko_validate(out, [sahih.root_pem, corpus / "foreign.pem"])
    for s in ph.signatures:
        assert s.bottom_line, f"{s.field}: {s.summary}\n{s.data.get('pretty') or s.data.get('error')}"
    mine = latest(ph.signatures, key=lambda s: s.byte_range[2])
    rect = mine.widget_rect
    assert rect is None or (rect[2] - rect[0]) * (rect[3] - rect[1]) == 0, \
        f"--invisible signature has a widget with area: /Rect {rect}"
    for page in range(1, page_count(out) + 1):
        codes, _ = decode_qr(render_page(out, page, QR_DPI, tmp_path / f"p{page}"))
        assert not [c for c in codes if QR_URL_RE.match(c.text)], f"QR code on page {page} of an invisible signature"
        assert page_text(out, page).count(STAMP_HEADLINE) == page_text(src, page).count(STAMP_HEADLINE)
    assert qpdf_check(out).clean
    r, rep = sahih.verify(out, *trust_for(name, sahih, corpus))
    assert r.returncode == 0, r.describe()


@pytest.mark.parametrize("key,expected", [("p256", "ec-256"), ("rsa3072", "rsa-3072")])
@pytest.mark.parametrize("name", ["reportlab.pdf", "libreoffice.pdf"])
def test_key_types(key, expected, name, sahih: Sahih, corpus, tmp_path):
    off = sahih.enroll(name=f"Pejabat {key.upper()}, S.T.", key=key)
    out = tmp_path / f"{key}-{name}"
    sahih.sign_ok(corpus / name, out, off)
    ps = pdfsig(out, sahih.nssdir)
    assert len(ps.signatures) == 1 and ps.signatures[0].valid and ps.signatures[0].trusted, ps.run.describe()
    ph = pyhanko_validate(out, [sahih.root_pem])
    s = ph.signatures[0]
    assert s.bottom_line and s.coverage == "ENTIRE_FILE", f"{s.summary}\n{s.data.get('pretty') or s.data.get('error')}"
    assert s.signer_key == expected, f"--key {key} produced a {s.signer_key} certificate"
    r, rep = sahih.verify(out)
    assert r.returncode == 0 and rep["signatures"][0]["indication"] == "TOTAL_PASSED", r.describe()


def test_pades_baseline_b_profile(sahih: Sahih, official, corpus, tmp_path):
    """PAdES B-B: ETSI.CAdES.detached, ESS signing-certificate-v2, /M, no signing-time
    attribute; certificate with digitalSignature + nonRepudiation naming the official."""
    out = tmp_path / "profile.pdf"
    sahih.sign_ok(corpus / "reportlab.pdf", out, official, "--reason", "Menyetujui isi surat",
                  "--location", "Kota Contoh")
    s = pyhanko_validate(out, [sahih.root_pem]).signatures[0]
    assert s.subfilter == "/ETSI.CAdES.detached", s.subfilter
    assert "signing_certificate_v2" in s.signed_attrs, s.signed_attrs
    assert "signing_time" not in s.signed_attrs, f"PAdES forbids the signing-time attribute: {s.signed_attrs}"
    assert {"content_type", "message_digest"} <= set(s.signed_attrs), s.signed_attrs
    assert s.has_M, "no /M (signing time) in the signature dictionary"
    assert s.md_algorithm == "sha256", s.md_algorithm
    assert {"digital_signature", "non_repudiation"} <= set(s.key_usage), s.key_usage
    assert "key_cert_sign" not in s.key_usage, s.key_usage
    assert "Budi Santoso" in s.signer_subject, s.signer_subject
    assert official.nik in s.signer_subject or official.nip in s.signer_subject, \
        f"neither NIK nor NIP in the subject: {s.signer_subject}"
    assert s.reason == "Menyetujui isi surat", s.reason
    assert s.location == "Kota Contoh", s.location


def test_qr_ids_are_unique(sahih: Sahih, official, corpus, tmp_path):
    ids = []
    for i in range(2):
        out = tmp_path / f"u{i}.pdf"
        sahih.sign_ok(corpus / "reportlab.pdf", out, official)
        codes, _ = decode_qr(render_page(out, 1, QR_DPI, tmp_path / f"u{i}"))
        m = [QR_URL_RE.match(c.text) for c in codes]
        m = [x for x in m if x]
        assert len(m) == 1, [c.text for c in codes]
        ids.append(m[0].group(1))
    assert ids[0] != ids[1], f"two signings got the same QR id {ids[0]}"


def test_form_fields_survive(sahih: Sahih, official, corpus, tmp_path):
    """The existing /AcroForm /Fields are merged, not replaced."""
    from pypdf import PdfReader

    out = tmp_path / "form-signed.pdf"
    sahih.sign_ok(corpus / "form.pdf", out, official)
    before = PdfReader(corpus / "form.pdf").get_fields() or {}
    after = PdfReader(out).get_fields() or {}
    for fname, f in before.items():
        assert fname in after, f"form field {fname!r} lost by signing; fields now {sorted(after)}"
        assert after[fname].get("/V") == f.get("/V"), f"value of {fname!r} changed"
    sig_fields = [n for n, f in after.items() if f.get("/FT") == "/Sig"]
    assert len(sig_fields) == 1, f"expected one new signature field, got {sig_fields}"
    assert len(after) == len(before) + 1, sorted(after)


# --------------------------------------------------------------------------------------------
# the product's default level, B-LT, over the whole corpus
# --------------------------------------------------------------------------------------------

PYHANKO = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko"


@pytest.fixture(scope="module")
def signed_blt(sahih: Sahih, official, corpus, tmp_path_factory):
    """name -> B-LT output (the level `sahih sign` and the APIs produce by default)."""
    outdir = tmp_path_factory.mktemp("signed-blt")
    cache: dict[str, tuple] = {}

    def get(name: str) -> Path:
        if name not in cache:
            out = outdir / f"blt-{name}"
            cache[name] = (out, sahih.sign(corpus / name, out, official, "--level", "B-LT"))
        out, r = cache[name]
        if r.returncode != 0 or not out.exists():
            pytest.fail(f"sahih sign --level B-LT {name} failed:\n{r.describe()}", pytrace=False)
        return out

    return get


@pytest.mark.parametrize("name", CORPUS_POSITIVE)
def test_b_lt_validates_offline_in_pyhanko_pdfsig_qpdf_and_sahih(name, signed_blt, sahih: Sahih, corpus):
    """Issue 20: the corpus matrix signed at B-B only; B-LT, the default, was checked against
    outside validators on one or two files. Every producer's file, signed at B-LT, must pass
    pyHanko's AdES validation from the embedded data alone, pdfsig, qpdf and Sahih itself."""
    out = signed_blt(name)
    assert qpdf_check(out).clean, f"{name}: qpdf --check is not clean"
    ps = pdfsig(out, sahih.nssdir)
    ours = latest(ps.signatures, key=lambda s: s.ranges[-1][0] if s.ranges else -1)
    assert ours.valid and ours.trusted, f"{name}:\n{ps.run.describe()}"
    trust = ["--trust", str(sahih.root_pem)]
    if name == "presigned.pdf":
        trust += ["--trust", str(corpus / "foreign.pem")]
    # hybrid.pdf has hybrid-reference xrefs, which pyHanko validates only when told to (the
    # B-B matrix's library call reads with strict=False likewise).
    lenient = ["--no-strict-syntax"] if name == "hybrid.pdf" else []
    v = run([PYHANKO, "sign", "adesverify", *lenient, *trust, "--trust-replace", out])
    assert v.returncode == 0, f"{name}:\n{v.describe()}"
    assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>" in v.stdout, f"{name}:\n{v.describe()}"
    r, j = sahih.verify(out, *trust_for(name, sahih, corpus))
    assert r.returncode == 0 and j is not None, r.describe()
    mine = [s for s in j["signatures"] if s.get("level") == "B-LT"]
    assert mine and j["ltv_enabled"] is True, j
