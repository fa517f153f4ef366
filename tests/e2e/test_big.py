"""The 100 MB multi-page scan: sign and verify it, and let pdfsig and pyHanko check it."""

from __future__ import annotations


import pytest

from conftest import SAHIH_BIG_TIMEOUT, Sahih
from validators import pdfsig, pyhanko_validate, qpdf_check

pytestmark = pytest.mark.slow


def _prefix_equal(big, small) -> bool:
    """Is file `small` a byte prefix of `big`? (streamed, no 2x100 MB in memory)"""
    with open(small, "rb") as a, open(big, "rb") as b:
        while True:
            x = a.read(1 << 20)
            if not x:
                return True
            if b.read(len(x)) != x:
                return False


def test_sign_and_verify_100mb_scan(sahih: Sahih, official, corpus, tmp_path):
    src = corpus / "scan100mb.pdf"
    assert src.stat().st_size >= 100 * 1024 * 1024, f"corpus scan is only {src.stat().st_size} bytes"
    out = tmp_path / "scan-signed.pdf"
    sahih.sign_ok(src, out, official, timeout=SAHIH_BIG_TIMEOUT)
    assert _prefix_equal(out, src), "the signed scan does not start with the original bytes"

    r, rep = sahih.verify(out, timeout=SAHIH_BIG_TIMEOUT)
    assert r.returncode == 0, r.describe()
    s = rep["signatures"][0]
    assert s["indication"] == "TOTAL_PASSED" and s["covers_whole_document"], r.describe()

    ps = pdfsig(out, sahih.nssdir)
    assert len(ps.signatures) == 1, ps.run.describe()
    sig = ps.signatures[0]
    assert sig.valid and sig.trusted and sig.total_document_signed, ps.run.describe()
    assert sig.ranges[-1][1] == out.stat().st_size, ps.run.describe()

    ph = pyhanko_validate(out, [sahih.root_pem], timeout=SAHIH_BIG_TIMEOUT)
    p = ph.signatures[0]
    assert p.bottom_line and p.coverage == "ENTIRE_FILE", f"{p.summary}\n{p.data.get('pretty') or p.data.get('error')}"
    # /ByteRange offsets beyond 100 MB were written in full.
    assert p.byte_range[2] + p.byte_range[3] == out.stat().st_size, p.byte_range

    assert qpdf_check(out).clean


def test_tampered_100mb_scan_is_detected(sahih: Sahih, official, corpus, tmp_path):
    """One byte changed deep inside the 100 MB signed range (in a JPEG) is found."""
    src = corpus / "scan100mb.pdf"
    out = tmp_path / "scan-signed.pdf"
    sahih.sign_ok(src, out, official, timeout=SAHIH_BIG_TIMEOUT)
    with open(out, "r+b") as f:
        f.seek(src.stat().st_size // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x01]))
    r, rep = sahih.verify(out, timeout=SAHIH_BIG_TIMEOUT)
    assert r.returncode == 1, r.describe()
    assert rep["signatures"][0]["integrity"] is False, r.describe()
