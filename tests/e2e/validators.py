"""Outside validators and inspection tools, wrapped for the end-to-end tests.

Everything here runs a tool nobody on this project wrote (poppler, pyHanko, qpdf, zxing-cpp)
and returns plain data, with the raw output kept for readable assertion messages.

pyHanko runs in a child process (``python validators.py pyhanko FILE --trust PEM ...``) so a
hostile file cannot hang or crash the test process, and every call has a timeout.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import dataclasses
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = int(os.environ.get("SAHIH_TOOL_TIMEOUT", "600"))


@dataclass
class Run:
    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (f"$ {' '.join(map(str, self.cmd))}\n-> exit {self.returncode}\n"
                f"--- stdout ---\n{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-6000:]}")


def run(cmd: list, *, timeout: int = TIMEOUT, env: dict | None = None, input: bytes | None = None) -> Run:
    cmd = [str(c) for c in cmd]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=full_env, input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        raise AssertionError(f"timed out after {timeout}s: {' '.join(cmd)}\n{out[-3000:]}\n{err[-3000:]}") from e
    return Run(cmd, p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# poppler pdfsig
# --------------------------------------------------------------------------------------------

@dataclass
class PdfsigSignature:
    number: int
    field: str | None = None
    common_name: str | None = None
    signature_type: str | None = None
    signature_validation: str | None = None
    certificate_validation: str | None = None
    ranges: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    total_document_signed: bool | None = None

    @property
    def valid(self) -> bool:
        return self.signature_validation == "Signature is Valid."

    @property
    def trusted(self) -> bool:
        return self.certificate_validation == "Certificate is Trusted."


@dataclass
class PdfsigResult:
    run: Run
    signatures: list[PdfsigSignature]

    def by_field(self, name: str) -> PdfsigSignature:
        for s in self.signatures:
            if s.field == name:
                return s
        raise AssertionError(f"pdfsig lists no field {name!r}:\n{self.run.describe()}")


def pdfsig(path: Path, nssdir: Path | None = None) -> PdfsigResult:
    """Run pdfsig and parse every signature.

    Not with -no-ocsp: poppler 22.12 then reports every chain, even a trusted one, as
    "Unknown issue with Certificate or corrupted data" (checked with a plain two-level chain
    that `certutil -V -u S` accepts)."""
    cmd = ["pdfsig"]
    if nssdir is not None:
        cmd += ["-nssdir", f"sql:{nssdir}"]
    cmd.append(str(path))
    r = run(cmd)
    return PdfsigResult(r, parse_pdfsig(r.stdout))


def parse_pdfsig(text: str) -> list[PdfsigSignature]:
    sigs: list[PdfsigSignature] = []
    cur: PdfsigSignature | None = None
    for line in text.splitlines():
        m = re.match(r"^Signature #(\d+):", line)
        if m:
            cur = PdfsigSignature(number=int(m.group(1)))
            sigs.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("- "):
            s = s[2:]
        if s.startswith("Signature Field Name:"):
            cur.field = s.split(":", 1)[1].strip()
        elif s.startswith("Signer Certificate Common Name:"):
            cur.common_name = s.split(":", 1)[1].strip()
        elif s.startswith("Signature Type:"):
            cur.signature_type = s.split(":", 1)[1].strip()
        elif s.startswith("Signature Validation:"):
            cur.signature_validation = s.split(":", 1)[1].strip()
        elif s.startswith("Certificate Validation:"):
            cur.certificate_validation = s.split(":", 1)[1].strip()
        elif s.startswith("Signed Ranges:"):
            cur.ranges = [(int(a), int(b)) for a, b in re.findall(r"\[(\d+) - (\d+)\]", s)]
        elif s == "Total document signed":
            cur.total_document_signed = True
        elif s == "Not total document signed":
            cur.total_document_signed = False
    return sigs


# --------------------------------------------------------------------------------------------
# pyHanko (library API, in a child process)
# --------------------------------------------------------------------------------------------

@dataclass
class PyhankoSignature:
    field: str
    data: dict

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError as e:
            raise AttributeError(name) from e


@dataclass
class PyhankoResult:
    run: Run
    signatures: list[PyhankoSignature]

    def by_field(self, name: str) -> PyhankoSignature:
        for s in self.signatures:
            if s.field == name:
                return s
        raise AssertionError(f"pyHanko lists no field {name!r}:\n{self.run.describe()}")


def pyhanko_validate(path: Path, trust_pems: list[Path] | Path, *, timeout: int = TIMEOUT) -> PyhankoResult:
    """Validate every embedded signature with pyHanko, trusting exactly ``trust_pems``
    (the library equivalent of ``pyhanko sign validate --trust X --trust-replace``)."""
    if isinstance(trust_pems, (str, Path)):
        trust_pems = [trust_pems]
    cmd = [sys.executable, __file__, "pyhanko", str(path)]
    for t in trust_pems:
        cmd += ["--trust", str(t)]
    r = run(cmd, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"pyHanko validation crashed:\n{r.describe()}")
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"pyHanko helper printed no JSON:\n{r.describe()}") from e
    return PyhankoResult(r, [PyhankoSignature(d["field"], d) for d in data["signatures"]])


def _pyhanko_main(path: str, trust: list[str]) -> int:
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = list(load_certs_from_pemder(trust))
    out = {"signatures": []}
    with open(path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        for sig in reader.embedded_signatures:
            entry = {"field": sig.field_name}
            try:
                vc = ValidationContext(trust_roots=roots, allow_fetching=False,
                                       revocation_mode="soft-fail")
                st = validate_pdf_signature(sig, vc)
                ml = st.modification_level
                entry.update({
                    "intact": bool(st.intact),
                    "valid": bool(st.valid),
                    "trusted": bool(st.trusted),
                    "revoked": bool(st.revoked),
                    "coverage": st.coverage.name if st.coverage is not None else None,
                    "modification_level": ml.name if ml is not None else None,
                    "docmdp_ok": st.docmdp_ok,
                    "bottom_line": bool(st.bottom_line),
                    "md_algorithm": st.md_algorithm,
                    "signer_subject": st.signing_cert.subject.human_friendly,
                    "signed_at": st.signer_reported_dt.isoformat() if st.signer_reported_dt else None,
                    "summary": st.summary(),
                    "pretty": st.pretty_print_details(),
                    "byte_range": [int(x) for x in sig.sig_object["/ByteRange"]],
                    "signer_key": _key_desc(st.signing_cert),
                    "key_usage": sorted(st.signing_cert.key_usage_value.native)
                    if st.signing_cert.key_usage_value is not None else [],
                    "signed_attrs": [a["type"].native for a in sig.signer_info["signed_attrs"]],
                    "has_M": "/M" in sig.sig_object,
                    "reason": str(sig.sig_object.get("/Reason")) if "/Reason" in sig.sig_object else None,
                    "location": str(sig.sig_object.get("/Location")) if "/Location" in sig.sig_object else None,
                    "widget_rect": _widget_rect(sig),
                    "subfilter": str(sig.sig_object.get("/SubFilter")),
                    "error": None,
                })
            except Exception as e:  # noqa: BLE001 - reported, the test decides
                entry.update({"intact": False, "valid": False, "trusted": False, "revoked": False,
                              "coverage": None, "modification_level": None, "docmdp_ok": None,
                              "bottom_line": False, "error": f"{type(e).__name__}: {e}"})
            out["signatures"].append(entry)
    print(json.dumps(out, indent=1))
    return 0


def _key_desc(cert) -> str:
    pk = cert.public_key
    return f"{pk.algorithm}-{pk.bit_size}"


def _widget_rect(sig) -> list[float] | None:
    fld = sig.sig_field
    widget = fld
    if "/Rect" not in fld and "/Kids" in fld:
        widget = fld["/Kids"][0].get_object()
    rect = widget.get("/Rect")
    return [float(x) for x in rect] if rect is not None else None


# --------------------------------------------------------------------------------------------
# qpdf, poppler rendering / text, zxing-cpp
# --------------------------------------------------------------------------------------------

@dataclass
class QpdfCheck:
    run: Run

    @property
    def clean(self) -> bool:
        out = self.run.stdout + self.run.stderr
        return (self.run.returncode == 0 and "WARNING" not in out
                and "No syntax or stream encoding errors found" in out)


def qpdf_check(path: Path) -> QpdfCheck:
    return QpdfCheck(run(["qpdf", "--check", str(path)]))


def render_page(path: Path, page: int, dpi: int, out_prefix: Path) -> Path:
    """Render one page (1-based) as PNG, page as seen (rotation and CropBox applied)."""
    r = run(["pdftoppm", "-cropbox", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
             "-singlefile", str(path), str(out_prefix)])
    png = Path(str(out_prefix) + ".png")
    if r.returncode != 0 or not png.exists():
        raise AssertionError(f"pdftoppm failed:\n{r.describe()}")
    return png


@dataclass
class QrCode:
    text: str
    corners: list[tuple[int, int]]  # top-left, top-right, bottom-right, bottom-left (pixels)
    orientation: int  # degrees, 0 = upright

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        xs = [c[0] for c in self.corners]
        ys = [c[1] for c in self.corners]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2, (y0 + y1) / 2


def decode_qr(png: Path) -> tuple[list[QrCode], tuple[int, int]]:
    """All QR codes in the image and the image size (width, height) in pixels."""
    import zxingcpp
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("L")
        size = im.size
        found = zxingcpp.read_barcodes(im, formats=zxingcpp.BarcodeFormat.QRCode)
    codes = []
    for b in found:
        p = b.position
        corners = [(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                   (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)]
        codes.append(QrCode(b.text, corners, int(b.orientation)))
    return codes, size


def find_blank_rect(path: Path, page: int, size: float, out_prefix: Path, margin: float = 20) -> tuple[int, int] | None:
    """Lower-left corner (points, page as seen, origin bottom-left) of a size x size square
    with nothing drawn in it (plus a small safety border), searching from the bottom-left
    corner rightwards then upwards; None if the page has no such space."""
    from PIL import Image

    dpi = 36  # 0.5 px per point
    k = dpi / 72
    png = render_page(path, page, dpi, out_prefix)
    with Image.open(png) as im:
        g = im.convert("L")
        w, h = g.size
        px = g.load()
        # integral image of "ink" pixels
        integ = [[0] * (w + 1) for _ in range(h + 1)]
        for y in range(h):
            row, acc = integ[y + 1], 0
            prev = integ[y]
            for x in range(w):
                acc += 1 if px[x, y] < 245 else 0
                row[x + 1] = prev[x + 1] + acc
    pad = 6  # points of clear border around the square
    side = int((size + 2 * pad) * k) + 1
    step = 10
    y_pt = margin
    while (y_pt + size + pad) * k <= h:
        x_pt = margin
        while (x_pt + size + pad) * k <= w:
            x0 = max(0, int((x_pt - pad) * k))
            y1 = h - max(0, int((y_pt - pad) * k))  # image rows grow downwards
            y0 = max(0, y1 - side)
            x1 = min(w, x0 + side)
            ink = integ[y1][x1] - integ[y0][x1] - integ[y1][x0] + integ[y0][x0]
            if ink == 0:
                return int(x_pt), int(y_pt)
            x_pt += step
        y_pt += step
    return None


@dataclass
class Word:
    text: str
    x0: float
    y0: float  # from the top of the page, as pdftotext -bbox reports
    x1: float
    y1: float


@dataclass
class TextPage:
    number: int  # 1-based
    width: float
    height: float
    words: list[Word]


def pdftotext_bbox(path: Path) -> list[TextPage]:
    r = run(["pdftotext", "-bbox", str(path), "-"])
    if r.returncode != 0:
        raise AssertionError(f"pdftotext -bbox failed:\n{r.describe()}")
    pages: list[TextPage] = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', r.stdout, re.S):
        words = [Word(html.unescape(w.group(5)), float(w.group(1)), float(w.group(2)),
                      float(w.group(3)), float(w.group(4)))
                 for w in re.finditer(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" '
                                      r'yMax="([\d.-]+)">(.*?)</word>', m.group(3))]
        pages.append(TextPage(len(pages) + 1, float(m.group(1)), float(m.group(2)), words))
    return pages


def find_phrase(pages: list[TextPage], phrase: str) -> tuple[int, tuple[float, float, float, float]] | None:
    """First occurrence of a phrase as consecutive words: (page, (x0, y0, x1, y1) top-down)."""
    target = phrase.split()
    for page in pages:
        texts = [w.text for w in page.words]
        for i in range(len(texts) - len(target) + 1):
            if texts[i:i + len(target)] == target:
                ws = page.words[i:i + len(target)]
                return page.number, (min(w.x0 for w in ws), min(w.y0 for w in ws),
                                     max(w.x1 for w in ws), max(w.y1 for w in ws))
    return None


def page_text(path: Path, page: int) -> str:
    """pdftotext of one page (annotation appearances included), whitespace collapsed."""
    r = run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"])
    if r.returncode != 0:
        raise AssertionError(f"pdftotext failed:\n{r.describe()}")
    return " ".join(r.stdout.split())


def page_count(path: Path) -> int:
    r = run(["pdfinfo", str(path)])
    m = re.search(r"^Pages:\s+(\d+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise AssertionError(f"pdfinfo failed:\n{r.describe()}")
    return int(m.group(1))


def eof_count(path: Path) -> int:
    return Path(path).read_bytes().count(b"%%EOF")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["pyhanko"])
    ap.add_argument("file")
    ap.add_argument("--trust", action="append", default=[])
    a = ap.parse_args()
    sys.exit(_pyhanko_main(a.file, a.trust))
