"""Where the stamp lands: --page/--rect on rotated and cropped pages (as the reader sees the
page), and --anchor on text from real producers (Identity-H, custom-encoded subsets, Type 1).

Pages are rendered with pdftoppm at 288 dpi (4 px per point) and the QR code is located with
zxing-cpp; positions are converted back to points of the page as seen (origin bottom-left for
--rect, top-left for pdftotext -bbox)."""

from __future__ import annotations

import pytest

from conftest import ANCHOR, QR_URL_RE, Sahih
from validators import decode_qr, find_phrase, page_count, pdftotext_bbox, pyhanko_validate, render_page

DPI = 288
SCALE = DPI / 72  # pixels per point
TOL = 1.5  # points of slack for anti-aliasing / rounding
RECT = (100, 150, 120, 120)  # X, Y, W, H in points from the lower-left of the page as seen
MIN_QR_SIDE = 30  # points (~1 cm): smaller is not reliably scannable by a phone

# File -> (width, height) of page 1 as seen (after /Rotate, CropBox applied).
PLACEMENT_CASES = {
    "reportlab.pdf": (595, 842),
    "rotated.pdf": (842, 595),
    "rotated270.pdf": (842, 595),
    "cropped.pdf": (495, 722),
    "rotated-cropped.pdf": (722, 495),
}

# Files with the anchor text; page = where pdftotext finds it in the original.
ANCHOR_CASES = ["libreoffice.pdf", "chromium.pdf", "pdftex.pdf", "ghostscript.pdf",
                "qpdf-linearized.pdf", "book36.pdf"]
# The default stamp (points) and where its QR code sits in it: a square of side h - 2 pad at
# the left, pad = 4% of the height (crates/pdf/src/stamp.rs).
STAMP_W, STAMP_H = 220.0, 80.0
QR_CENTRE_IN_STAMP = (STAMP_H * 0.04 + (STAMP_H - 2 * STAMP_H * 0.04) / 2, STAMP_H / 2)
# The stamp is centred on the anchor: its QR code must be where that puts it, within 5 pt
# (measured: 0.1 pt on every file; the QR centre is read from a 288 dpi rendering).
ANCHOR_DX, ANCHOR_DY = 5.0, 5.0


def sahih_qrs(png):
    codes, size = decode_qr(png)
    return [c for c in codes if QR_URL_RE.match(c.text)], codes, size


def upright(orientation: int) -> bool:
    return abs(orientation) <= 5 or abs(abs(orientation) - 360) <= 5


@pytest.mark.parametrize("name", list(PLACEMENT_CASES))
def test_rect_on_rotated_and_cropped_pages(name, sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / f"placed-{name}"
    x, y, w, h = RECT
    sahih.sign_ok(corpus / name, out, official, "--page", "1", "--rect", f"{x},{y},{w},{h}")
    png = render_page(out, 1, DPI, tmp_path / "p1")
    ours, codes, (img_w, img_h) = sahih_qrs(png)
    exp_w, exp_h = PLACEMENT_CASES[name]
    assert abs(img_w - exp_w * SCALE) <= 2 and abs(img_h - exp_h * SCALE) <= 2, \
        f"{name}: rendered page is {img_w}x{img_h} px, expected {exp_w}x{exp_h} pt as seen (harness check)"
    assert len(ours) == 1, f"{name}: expected one Sahih QR code on page 1, found {[(c.text, c.bbox) for c in codes]}"
    qr = ours[0]
    # Pixel box -> points as seen, origin lower-left.
    x0, y0_img, x1, y1_img = (v / SCALE for v in qr.bbox)
    qx0, qx1 = x0, x1
    qy0, qy1 = exp_h - y1_img, exp_h - y0_img
    where = (f"{name}: QR at x {qx0:.1f}..{qx1:.1f}, y {qy0:.1f}..{qy1:.1f} (pt, as seen), "
             f"requested rect x {x}..{x + w}, y {y}..{y + h}")
    assert qx0 >= x - TOL and qx1 <= x + w + TOL, where
    assert qy0 >= y - TOL and qy1 <= y + h + TOL, where
    assert min(qx1 - qx0, qy1 - qy0) >= MIN_QR_SIDE, f"{where}: QR smaller than {MIN_QR_SIDE} pt"
    assert upright(qr.orientation), f"{name}: QR not upright as seen (zxing orientation {qr.orientation})"
    # And the signature is still a good one.
    s = pyhanko_validate(out, [sahih.root_pem]).signatures[0]
    assert s.bottom_line, f"{s.summary}\n{s.data.get('pretty') or s.data.get('error')}"


@pytest.mark.parametrize("page_arg,expected", [("first", 1), ("5", 5), ("last", 36)])
def test_page_selection(page_arg, expected, sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / f"book-{page_arg}.pdf"
    sahih.sign_ok(corpus / "book36.pdf", out, official, "--page", page_arg, "--rect", "60,60,120,120")
    for page in sorted({1, 5, 36}):
        ours, codes, _ = sahih_qrs(render_page(out, page, 100, tmp_path / f"p{page}"))
        if page == expected:
            assert len(ours) == 1, f"--page {page_arg}: no QR on page {page}"
        else:
            assert not ours, f"--page {page_arg}: unexpected QR on page {page}"


def test_page_out_of_range_is_refused(sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / "nope.pdf"
    r = sahih.sign(corpus / "reportlab.pdf", out, official, "--page", "9", "--rect", "60,60,120,120")
    assert r.returncode != 0, f"--page 9 on a 1-page file was accepted:\n{r.describe()}"
    assert not out.exists(), "output file written although signing failed"
    assert "panicked" not in r.stderr


@pytest.mark.parametrize("name", ANCHOR_CASES)
def test_anchor(name, sahih: Sahih, official, corpus, tmp_path):
    src = corpus / name
    found = find_phrase(pdftotext_bbox(src), ANCHOR)
    assert found is not None, f"harness: anchor not found in {name} by pdftotext"
    page, (ax0, ay0, ax1, ay1) = found
    acx, acy = (ax0 + ax1) / 2, (ay0 + ay1) / 2  # points, top-left origin
    text_page = pdftotext_bbox(src)[page - 1]
    pw, ph = text_page.width, text_page.height
    # Centred on the anchor, pushed back inside the page (as crates/pdf/src/place.rs does).
    sx = min(max(acx - STAMP_W / 2, 0), pw - STAMP_W)
    sy = min(max(acy - STAMP_H / 2, 0), ph - STAMP_H)
    ex, ey = sx + QR_CENTRE_IN_STAMP[0], sy + QR_CENTRE_IN_STAMP[1]
    out = tmp_path / f"anchor-{name}"
    sahih.sign_ok(src, out, official, "--anchor", ANCHOR)

    ours, codes, _ = sahih_qrs(render_page(out, page, DPI, tmp_path / f"p{page}"))
    assert len(ours) == 1, (f"{name}: expected the stamp on page {page} (where the anchor is); "
                            f"QR codes there: {[c.text for c in codes]}")
    qx, qy = (v / SCALE for v in ours[0].center)
    assert abs(qx - ex) <= ANCHOR_DX and abs(qy - ey) <= ANCHOR_DY, (
        f"{name}: QR centre ({qx:.0f},{qy:.0f}) pt, expected ({ex:.0f},{ey:.0f}) for a stamp "
        f"centred on the anchor ({acx:.0f},{acy:.0f}) pt on page {page} "
        f"(allowed dx {ANCHOR_DX}, dy {ANCHOR_DY})")
    assert upright(ours[0].orientation), ours[0].orientation
    for other in range(1, page_count(out) + 1):
        if other == page or other not in (1, page_count(out)):
            continue
        extra, _, _ = sahih_qrs(render_page(out, other, 100, tmp_path / f"o{other}"))
        assert not extra, f"{name}: a stamp also appeared on page {other}"


def test_anchor_not_found_is_refused(sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / "noanchor.pdf"
    r = sahih.sign(corpus / "reportlab.pdf", out, official, "--anchor", "Teks yang tidak ada di surat")
    assert r.returncode != 0, f"an anchor that is not in the document was accepted:\n{r.describe()}"
    assert not out.exists(), "output file written although signing failed"
    assert "panicked" not in r.stderr
