#!/usr/bin/env python3
"""Builds the end-to-end test corpus: real-world PDFs from real producers.

Usage: make_corpus.py OUTDIR [--big]

Every file carries the same short Indonesian official letter (naskah dinas) whose signature
block holds the anchor text "Kepala Dinas Komunikasi dan Informatika". Producers: pdfTeX,
LibreOffice, Chromium (Skia), Ghostscript, reportlab, qpdf rewrites (object streams,
linearization), a hand-built hybrid-xref file, pypdf incremental update, a pyHanko pre-signed
file, an AcroForm, rotated and cropped pages, PDF 2.0, a 36-page book and (with --big or
SAHIH_BIG=1) a 100 MB scan. Negative inputs: encrypted, truncated, garbage, empty.

A missing producer is an error naming the tool, never a silent skip. Writes OUTDIR/manifest.json
(file -> producer string, pages, size). Running it again rebuilds the same content.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

# Fixed timestamp so that producers which honour it write the same bytes each run.
SOURCE_DATE_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z

ANCHOR = "Kepala Dinas Komunikasi dan Informatika"
SIGNER_NAME = "Budi Santoso, S.Kom., M.T."
SIGNER_NIP = "NIP 198501252010011003"

HEAD = ["PEMERINTAH KOTA CONTOH", "DINAS KOMUNIKASI DAN INFORMATIKA"]
ADDRESS = "Jalan Merdeka Nomor 1, Kota Contoh 12345, Telepon (021) 555-0100"
META = [
    ("Nomor", "800/123/DISKOMINFO/2026"),
    ("Sifat", "Biasa"),
    ("Lampiran", "1 (satu) berkas"),
    ("Hal", "Undangan Rapat Koordinasi SPBE"),
]
RECIPIENT = ["Yth. Pimpinan Perangkat Daerah", "di Kota Contoh"]
BODY = [
    "Dalam rangka meningkatkan indeks Sistem Pemerintahan Berbasis Elektronik (SPBE) di "
    "lingkungan Pemerintah Kota Contoh, bersama ini kami mengundang Saudara untuk hadir pada "
    "rapat koordinasi yang akan dilaksanakan pada hari Senin, 12 Januari 2026, pukul 09.00 WIB, "
    "bertempat di Ruang Rapat Lantai 2 Balai Kota Contoh.",
    "Mengingat pentingnya acara tersebut, Saudara diharapkan membawa data dukung pelaksanaan "
    "tanda tangan elektronik pada perangkat daerah masing-masing. Kehadiran Saudara tidak dapat "
    "diwakilkan.",
    "Demikian undangan ini kami sampaikan. Atas perhatian dan kerja sama Saudara, kami ucapkan "
    "terima kasih.",
]
AGENDA = [f"{i}. Pembahasan butir evaluasi SPBE indikator ke-{i} dan tindak lanjutnya" for i in range(1, 31)]
PLACE_DATE = "Kota Contoh, 2 Januari 2026"
ATTACHMENT_TITLE = "LAMPIRAN: DAFTAR UNDANGAN"
ATTACHMENT = [f"{i}. Kepala Bagian Umum Perangkat Daerah Nomor {i}" for i in range(1, 16)]

POSITIVE = [
    "pdftex.pdf", "libreoffice.pdf", "chromium.pdf", "ghostscript.pdf", "reportlab.pdf",
    "qpdf-objstm.pdf", "qpdf-linearized.pdf", "hybrid.pdf", "incremental.pdf", "presigned.pdf",
    "form.pdf", "rotated.pdf", "rotated270.pdf", "cropped.pdf", "rotated-cropped.pdf",
    "pdf20.pdf", "book36.pdf",
]
BIG = ["scan100mb.pdf"]
NEGATIVE = ["encrypted.pdf", "truncated.pdf", "garbage.pdf", "empty.pdf"]


class CorpusError(RuntimeError):
    pass


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise CorpusError(f"required producer '{tool}' not found on PATH "
                          f"(install it: scripts/install-test-deps.sh)")
    return path


def run(cmd: list[str], *, cwd: Path | None = None, timeout: int = 180, env: dict | None = None) -> str:
    need(cmd[0])
    full_env = dict(os.environ)
    full_env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    full_env["FORCE_SOURCE_DATE"] = "1"
    full_env["TZ"] = "UTC"
    if env:
        full_env.update(env)
    try:
        p = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise CorpusError(f"{cmd[0]} timed out after {timeout}s: {' '.join(cmd)}") from e
    out = p.stdout.decode("utf-8", "replace")
    # qpdf exits 3 for "succeeded with warnings": treat as failure, the corpus must be clean.
    if p.returncode != 0:
        raise CorpusError(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{out[-3000:]}")
    return out


def tool_version(cmd: list[str], must_contain: str = "") -> str:
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                             stdin=subprocess.DEVNULL).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = [line.strip() for line in out.splitlines()
             if line.strip() and "ERROR:" not in line and must_contain in line]
    return lines[0] if lines else "?"


# --------------------------------------------------------------------------------------------
# Producers
# --------------------------------------------------------------------------------------------

def tex_escape(s: str) -> str:
    return (s.replace("\\", r"\textbackslash{}").replace("&", r"\&").replace("%", r"\%")
             .replace("$", r"\$").replace("#", r"\#").replace("_", r"\_")
             .replace("{", r"\{").replace("}", r"\}"))


def make_pdftex(out: Path, work: Path) -> None:
    meta = "\n".join(f"{tex_escape(k)} & : {tex_escape(v)}\\\\" for k, v in META)
    body = "\n\n".join(tex_escape(p) for p in BODY)
    tex = rf"""\documentclass[12pt,a4paper]{{article}}
\usepackage[margin=2.5cm]{{geometry}}
\pdfinfo{{/Title (Undangan Rapat Koordinasi SPBE) /Author (Dinas Komunikasi dan Informatika)}}
\pdftrailerid{{}}
\pagestyle{{empty}}
\setlength{{\parindent}}{{0pt}}
\setlength{{\parskip}}{{6pt}}
\begin{{document}}
\begin{{center}}
{{\large\bfseries {HEAD[0]}}}\\
{{\Large\bfseries {HEAD[1]}}}\\
{{\small {tex_escape(ADDRESS)}}}
\end{{center}}
\hrule
\vspace{{12pt}}
\begin{{tabular}}{{@{{}}ll}}
{meta}
\end{{tabular}}

\vspace{{6pt}}
{RECIPIENT[0]}\\
{RECIPIENT[1]}

{body}

\vspace{{12pt}}
\hspace*{{7cm}}\begin{{minipage}}[t]{{8.5cm}}\raggedright\hyphenpenalty=10000
{tex_escape(PLACE_DATE)}\\
{ANCHOR}

\vspace{{2.5cm}}
{tex_escape(SIGNER_NAME)}\\
{SIGNER_NIP}
\end{{minipage}}
\end{{document}}
"""
    (work / "letter.tex").write_text(tex, encoding="utf-8")
    run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "letter.tex"], cwd=work)
    shutil.copyfile(work / "letter.pdf", out)


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def make_libreoffice(out: Path, work: Path) -> None:
    """Flat ODT converted by LibreOffice. The agenda pushes the signature block to page 2."""
    def p(style: str, text: str) -> str:
        return f'<text:p text:style-name="{style}">{xml_escape(text)}</text:p>'

    paras = [p("Head1", HEAD[0]), p("Head2", HEAD[1]), p("Addr", ADDRESS), p("Rule", "")]
    paras += [p("Meta", f"{k}\t: {v}") for k, v in META]
    paras += [p("Body", "")] + [p("Plain", r) for r in RECIPIENT]
    paras += [p("Body", BODY[0]), p("Body", "Agenda rapat:")]
    paras += [p("Plain", a) for a in AGENDA]
    paras += [p("Body", b) for b in BODY[1:]]
    paras += [p("Sign", PLACE_DATE), p("Sign", ANCHOR), p("SignGap", ""),
              p("SignName", SIGNER_NAME), p("Sign", SIGNER_NIP)]
    fodt = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta><dc:title>Undangan Rapat Koordinasi SPBE</dc:title></office:meta>
 <office:font-face-decls>
  <style:font-face style:name="Liberation Serif" svg:font-family="'Liberation Serif'"
   xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.1cm"/>
   <style:text-properties style:font-name="Liberation Serif" fo:font-size="12pt" fo:language="id" fo:country="ID"/>
  </style:default-style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
    fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2.5cm" fo:margin-right="2cm"/>
  </style:page-layout>
  <style:style style:name="Head1" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center" fo:margin-bottom="0cm"/>
   <style:text-properties fo:font-size="14pt" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Head2" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center" fo:margin-bottom="0cm"/>
   <style:text-properties fo:font-size="16pt" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Addr" style:family="paragraph">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties fo:font-size="10pt"/>
  </style:style>
  <style:style style:name="Rule" style:family="paragraph">
   <style:paragraph-properties fo:border-bottom="1.5pt solid #000000" fo:margin-bottom="0.4cm"/>
   <style:text-properties fo:font-size="4pt"/>
  </style:style>
  <style:style style:name="Meta" style:family="paragraph">
   <style:paragraph-properties>
    <style:tab-stops><style:tab-stop style:position="2.5cm"/></style:tab-stops>
   </style:paragraph-properties>
  </style:style>
  <style:style style:name="Plain" style:family="paragraph"/>
  <style:style style:name="Body" style:family="paragraph">
   <style:paragraph-properties fo:text-align="justify" fo:margin-top="0.2cm" fo:margin-bottom="0.2cm"/>
  </style:style>
  <style:style style:name="Sign" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="8.5cm"/>
  </style:style>
  <style:style style:name="SignGap" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="8.5cm" fo:margin-bottom="2.2cm"/>
  </style:style>
  <style:style style:name="SignName" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="8.5cm"/>
   <style:text-properties fo:font-weight="bold" style:text-underline-style="solid"/>
  </style:style>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1"/>
 </office:master-styles>
 <office:body><office:text>
{chr(10).join(paras)}
 </office:text></office:body>
</office:document>
"""
    src = work / "letter.fodt"
    src.write_text(fodt, encoding="utf-8")
    profile = work / "lo-profile"
    run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(work), str(src)], cwd=work, timeout=240,
        env={"HOME": str(work)})
    produced = work / "letter.pdf"
    if not produced.exists():
        raise CorpusError("soffice reported success but wrote no letter.pdf")
    shutil.copyfile(produced, out)


def letter_html(title: str) -> str:
    meta = "".join(f"<tr><td>{xml_escape(k)}</td><td>: {xml_escape(v)}</td></tr>" for k, v in META)
    body = "".join(f"<p class=body>{xml_escape(b)}</p>" for b in BODY)
    att = "".join(f"<div>{xml_escape(a)}</div>" for a in ATTACHMENT)
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{xml_escape(title)}</title>
<style>
@page {{ size: A4; margin: 2cm 2cm 2cm 2.5cm; }}
body {{ font-family: "Liberation Serif", "DejaVu Serif", serif; font-size: 12pt; }}
.head {{ text-align: center; font-weight: bold; margin: 0; }}
.h1 {{ font-size: 14pt; }} .h2 {{ font-size: 16pt; }}
.addr {{ text-align: center; font-size: 10pt; border-bottom: 2px solid black; padding-bottom: 4pt; }}
.body {{ text-align: justify; }}
.sign {{ margin-left: 8.5cm; margin-top: 24pt; }}
.gap {{ height: 2.2cm; }}
.name {{ font-weight: bold; text-decoration: underline; }}
.att {{ page-break-before: always; }}
</style></head><body>
<p class="head h1">{HEAD[0]}</p><p class="head h2">{HEAD[1]}</p>
<p class="addr">{xml_escape(ADDRESS)}</p>
<table>{meta}</table>
<p>{RECIPIENT[0]}<br>{RECIPIENT[1]}</p>
{body}
<div class="sign"><div>{xml_escape(PLACE_DATE)}</div><div>{ANCHOR}</div><div class="gap"></div>
<div class="name">{xml_escape(SIGNER_NAME)}</div><div>{SIGNER_NIP}</div></div>
<div class="att"><p class="head h1">{ATTACHMENT_TITLE}</p>{att}</div>
</body></html>
"""


def make_chromium(out: Path, work: Path) -> None:
    """Chromium print-to-PDF (Skia). Signature on page 1, attachment on page 2."""
    src = work / "letter.html"
    src.write_text(letter_html("Undangan Rapat Koordinasi SPBE"), encoding="utf-8")
    tmp_out = work / "chromium.pdf"
    run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={work / 'chromium-profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={tmp_out}", src.as_uri()],
        cwd=work, timeout=180, env={"HOME": str(work)})
    if not tmp_out.exists() or tmp_out.stat().st_size == 0:
        raise CorpusError("chromium reported success but wrote no PDF")
    shutil.copyfile(tmp_out, out)


def ps_string(s: str) -> str:
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_ghostscript(out: Path, work: Path) -> None:
    """A hand-written PostScript letter converted by ps2pdf."""
    lines = ["%!PS-Adobe-3.0", "%%Title: Undangan Rapat Koordinasi SPBE", "%%BoundingBox: 0 0 595 842",
             "%%Pages: 1", "%%EndComments",
             "<< /PageSize [595 842] >> setpagedevice",
             "/center { /yy exch def /ss exch def 595 ss stringwidth pop sub 2 div yy moveto ss show } def",
             "%%Page: 1 1"]
    y = 780
    lines.append("/Times-Bold findfont 14 scalefont setfont")
    lines.append(f"{ps_string(HEAD[0])} {y} center")
    y -= 18
    lines.append("/Times-Bold findfont 16 scalefont setfont")
    lines.append(f"{ps_string(HEAD[1])} {y} center")
    y -= 14
    lines.append("/Times-Roman findfont 10 scalefont setfont")
    lines.append(f"{ps_string(ADDRESS)} {y} center")
    y -= 8
    lines.append(f"1.5 setlinewidth 70 {y} moveto 540 {y} lineto stroke")
    y -= 24
    lines.append("/Times-Roman findfont 12 scalefont setfont")
    for k, v in META:
        lines.append(f"70 {y} moveto {ps_string(k)} show 140 {y} moveto {ps_string(': ' + v)} show")
        y -= 15
    y -= 10
    for r in RECIPIENT:
        lines.append(f"70 {y} moveto {ps_string(r)} show")
        y -= 15
    y -= 10
    for para in BODY:
        for line in wrap(para, 82):
            lines.append(f"70 {y} moveto {ps_string(line)} show")
            y -= 15
        y -= 8
    y -= 12
    for text in (PLACE_DATE, ANCHOR):
        lines.append(f"320 {y} moveto {ps_string(text)} show")
        y -= 15
    y -= 60
    lines.append("/Times-Bold findfont 12 scalefont setfont")
    lines.append(f"320 {y} moveto {ps_string(SIGNER_NAME)} show")
    y -= 15
    lines.append("/Times-Roman findfont 12 scalefont setfont")
    lines.append(f"320 {y} moveto {ps_string(SIGNER_NIP)} show")
    lines += ["showpage", "%%EOF", ""]
    src = work / "letter.ps"
    src.write_text("\n".join(lines), encoding="latin-1")
    tmp_out = work / "gs.pdf"
    run(["ps2pdf", "-dPDFSETTINGS=/prepress", "-dOmitID", "-dOmitXMP", "-dOmitInfoDate", str(src), str(tmp_out)], cwd=work)
    shutil.copyfile(tmp_out, out)


def wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return lines


def draw_letter_reportlab(c, width: float = 595, height: float = 842) -> None:
    y = height - 62
    c.setFont("Helvetica-Bold", 14)
    c.drawCentredString(width / 2, y, HEAD[0])
    y -= 18
    c.setFont("Helvetica-Bold", 16)
    c.drawCentredString(width / 2, y, HEAD[1])
    y -= 14
    c.setFont("Helvetica", 9)
    c.drawCentredString(width / 2, y, ADDRESS)
    y -= 8
    c.setLineWidth(1.5)
    c.line(70, y, width - 55, y)
    y -= 24
    c.setFont("Helvetica", 11)
    for k, v in META:
        c.drawString(70, y, k)
        c.drawString(140, y, ": " + v)
        y -= 14
    y -= 10
    for r in RECIPIENT:
        c.drawString(70, y, r)
        y -= 14
    y -= 10
    for para in BODY:
        for line in wrap(para, 84):
            c.drawString(70, y, line)
            y -= 14
        y -= 8
    y -= 12
    for text in (PLACE_DATE, ANCHOR):
        c.drawString(320, y, text)
        y -= 14
    y -= 60
    c.setFont("Helvetica-Bold", 11)
    c.drawString(320, y, SIGNER_NAME)
    y -= 14
    c.setFont("Helvetica", 11)
    c.drawString(320, y, SIGNER_NIP)


def make_reportlab(out: Path, work: Path) -> None:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(out), pagesize=(595, 842), invariant=1)
    c.setTitle("Undangan Rapat Koordinasi SPBE")
    c.setAuthor("Dinas Komunikasi dan Informatika")
    draw_letter_reportlab(c)
    c.showPage()
    c.save()


def make_form(out: Path, work: Path) -> None:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(out), pagesize=(595, 842), invariant=1)
    c.setTitle("Formulir Permohonan Sertifikat Elektronik")
    c.setFont("Helvetica-Bold", 14)
    c.drawCentredString(297.5, 780, HEAD[0])
    c.setFont("Helvetica-Bold", 16)
    c.drawCentredString(297.5, 762, HEAD[1])
    c.setFont("Helvetica-Bold", 12)
    c.drawCentredString(297.5, 730, "FORMULIR PERMOHONAN SERTIFIKAT ELEKTRONIK")
    c.setFont("Helvetica", 11)
    form = c.acroForm
    rows = [("nama", "Nama", "Siti Rahmawati"), ("nik", "NIK", "3171012501850003"),
            ("nip", "NIP", "198501252010011003"), ("jabatan", "Jabatan", "Kepala Seksi"),
            ("unit", "Unit Kerja", "Dinas Komunikasi dan Informatika"),
            ("email", "Email", "siti@contoh.go.id")]
    y = 680
    for name, label, value in rows:
        c.drawString(70, y + 6, label)
        form.textfield(name=name, tooltip=label, x=180, y=y, width=330, height=22, value=value,
                       borderStyle="solid", forceBorder=True, fontName="Helvetica", fontSize=11)
        y -= 34
    form.checkbox(name="setuju", tooltip="Setuju", x=70, y=y - 4, size=14, checked=True)
    c.drawString(92, y, "Saya menyatakan data di atas benar.")
    y -= 50
    c.drawString(320, y, PLACE_DATE)
    c.drawString(320, y - 14, ANCHOR)
    c.setFont("Helvetica-Bold", 11)
    c.drawString(320, y - 90, SIGNER_NAME)
    c.showPage()
    c.save()


def make_book(out: Path, work: Path) -> None:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(out), pagesize=(595, 842), invariant=1)
    c.setTitle("Rencana Induk SPBE Kota Contoh 2026-2030")
    rnd = random.Random(36)
    vocab = ("pemerintah kota contoh layanan publik elektronik arsitektur data tata kelola "
             "aplikasi infrastruktur keamanan informasi evaluasi indikator kebijakan perangkat "
             "daerah integrasi manajemen risiko audit teknologi sumber daya manusia").split()
    for page in range(1, 37):
        c.setFont("Helvetica-Bold", 13)
        c.drawString(70, 780, f"BAB {page}. Rencana Induk SPBE - Bagian {page}")
        c.setFont("Times-Roman", 11)
        y = 750
        bottom = 520 if page == 36 else 200  # keep the lower part of each page free
        while y > bottom:
            line = " ".join(rnd.choice(vocab) for _ in range(13))
            c.drawString(70, y, line[0].upper() + line[1:] + ".")
            y -= 14
        c.setFont("Helvetica", 9)
        c.drawCentredString(297.5, 40, f"Halaman {page} dari 36")
        if page == 36:
            # The signature block sits mid-page, well away from the default stamp position.
            c.setFont("Times-Roman", 11)
            c.drawString(320, 470, PLACE_DATE)
            c.drawString(320, 456, ANCHOR)
            c.setFont("Times-Bold", 11)
            c.drawString(320, 390, SIGNER_NAME)
        c.showPage()
    c.save()


def make_qpdf_objstm(src: Path, out: Path) -> None:
    run(["qpdf", "--deterministic-id", "--object-streams=generate", "--compress-streams=y",
         str(src), str(out)])


def make_qpdf_linearized(src: Path, out: Path) -> None:
    run(["qpdf", "--deterministic-id", "--linearize", str(src), str(out)])


def make_rotated(src: Path, out: Path, angle: int) -> None:
    run(["qpdf", "--deterministic-id", f"--rotate=+{angle}", str(src), str(out)])


def make_pdf20(src: Path, out: Path) -> None:
    run(["qpdf", "--deterministic-id", "--force-version=2.0", str(src), str(out)])


def make_cropped(src: Path, out: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, RectangleObject
    reader = PdfReader(str(src))
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        page[NameObject("/MediaBox")] = RectangleObject([0, 0, 595, 842])
        page[NameObject("/CropBox")] = RectangleObject([50, 60, 545, 782])
    with open(out, "wb") as f:
        writer.write(f)


def make_incremental(src: Path, out: Path) -> None:
    """pypdf incremental update of reportlab.pdf: new metadata and a text annotation."""
    from pypdf import PdfWriter
    from pypdf.annotations import Text
    writer = PdfWriter(str(src), incremental=True)
    writer.add_metadata({"/Subject": "Undangan rapat (revisi metadata)", "/Keywords": "SPBE, undangan"})
    writer.add_annotation(page_number=0, annotation=Text(text="Sudah diperiksa oleh Sekretariat",
                                                        rect=(520, 790, 540, 810), open=False))
    with open(out, "wb") as f:
        writer.write(f)
    data = out.read_bytes()
    original = src.read_bytes()
    if not data.startswith(original):
        raise CorpusError("pypdf incremental write did not keep the original bytes as a prefix")
    if data.count(b"%%EOF") < 2:
        raise CorpusError(f"incremental.pdf has {data.count(b'%%EOF')} %%EOF markers, expected >= 2")


def make_foreign_cert(outdir: Path) -> tuple[Path, Path]:
    """A self-signed RSA-2048 certificate of a foreign signer (not issued by Sahih)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Instansi Luar (Korpus Uji)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Penandatangan Asing"),
    ])
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path = outdir / "foreign.pem"
    key_path = outdir / "foreign-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def make_presigned(src: Path, out: Path, outdir: Path) -> None:
    """pyHanko PAdES signature with the foreign key, visible field 'ForeignSig' on page 1."""
    from pyhanko.sign import fields, signers
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    cert_path, key_path = make_foreign_cert(outdir)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if signer is None:
        raise CorpusError("pyHanko could not load the foreign key/certificate")
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        fields.append_signature_field(
            w, fields.SigFieldSpec("ForeignSig", on_page=0, box=(380, 720, 560, 800)))
        meta = signers.PdfSignatureMetadata(
            field_name="ForeignSig", md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES, reason="Paraf instansi luar",
            location="Kota Lain")
        with open(out, "wb") as o:
            signers.sign_pdf(w, meta, signer=signer, output=o)
    if not out.read_bytes().startswith(src.read_bytes()):
        raise CorpusError("pyHanko did not sign as an incremental update")


def pdf_obj_bytes(num: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % num + body + b"\nendobj\n"


def make_hybrid(out: Path, work: Path) -> None:
    """Hand-built hybrid-reference file as Word writes them: classic xref table with compressed
    objects marked free, plus /XRefStm pointing at a cross-reference stream that holds them."""
    lines = []
    y = 780
    ops = [b"BT /F1 14 Tf 1 0 0 1 170 780 Tm (" + HEAD[0].encode() + b") Tj ET"]
    ops.append(b"BT /F2 16 Tf 1 0 0 1 130 762 Tm (" + HEAD[1].encode() + b") Tj ET")
    y = 720
    text_lines = [f"{k}: {v}" for k, v in META] + [""] + RECIPIENT + [""]
    for para in BODY:
        text_lines += wrap(para, 84) + [""]
    for tl in text_lines:
        if tl:
            esc = tl.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(b"BT /F1 11 Tf 1 0 0 1 70 %d Tm (%s) Tj ET" % (y, esc.encode("latin-1")))
        y -= 14
    y -= 12
    for tl in (PLACE_DATE, ANCHOR):
        ops.append(b"BT /F1 11 Tf 1 0 0 1 320 %d Tm (%s) Tj ET" % (y, tl.encode("latin-1")))
        y -= 14
    y -= 60
    ops.append(b"BT /F2 11 Tf 1 0 0 1 320 %d Tm (%s) Tj ET" % (y, SIGNER_NAME.encode("latin-1")))
    ops.append(b"BT /F1 11 Tf 1 0 0 1 320 %d Tm (%s) Tj ET" % (y - 14, SIGNER_NIP.encode("latin-1")))
    content = zlib.compress(b"\n".join(ops), 9)
    del lines

    # Objects 1-4 and 7-8 are plain; 5, 6 (fonts) and 9 (info) live in object stream 7.
    compressed = {
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        6: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        9: b"<< /Producer (Sahih corpus hybrid-xref writer) /Title (Undangan Rapat Koordinasi SPBE) >>",
    }
    header_parts, body_parts, off = [], [], 0
    for num, body in compressed.items():
        header_parts.append(b"%d %d" % (num, off))
        body_parts.append(body + b"\n")
        off += len(body) + 1
    objstm_header = b" ".join(header_parts) + b"\n"
    objstm_data = zlib.compress(objstm_header + b"".join(body_parts), 9)

    buf = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def emit(num: int, body: bytes) -> None:
        offsets[num] = len(buf)
        buf.extend(pdf_obj_bytes(num, body))

    emit(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    emit(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    emit(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>")
    emit(4, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
         + b"\nendstream")
    emit(7, b"<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
         % (len(compressed), len(objstm_header), len(objstm_data)) + objstm_data + b"\nendstream")
    size = 10
    # Cross-reference stream (object 8) covering every object: W [1 4 2].
    xref_stm_offset = len(buf)
    offsets[8] = xref_stm_offset
    rows = bytearray()
    for num in range(size):
        if num == 0:
            rows += bytes([0]) + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
        elif num in compressed:
            idx = list(compressed).index(num)
            rows += bytes([2]) + (7).to_bytes(4, "big") + idx.to_bytes(2, "big")
        else:
            rows += bytes([1]) + offsets[num].to_bytes(4, "big") + (0).to_bytes(2, "big")
    rows_z = zlib.compress(bytes(rows), 9)
    buf.extend(pdf_obj_bytes(8, b"<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Info 9 0 R "
                                b"/Length %d /Filter /FlateDecode >>\nstream\n" % (size, len(rows_z))
                             + rows_z + b"\nendstream"))
    # Classic table: only the plain objects, in subsections that skip the compressed ones (a
    # pre-1.5 reader never learns about them; a 1.5 reader finds them through /XRefStm).
    xref_offset = len(buf)
    buf.extend(b"xref\n")
    plain = [n for n in range(size) if n not in compressed]
    runs: list[list[int]] = []
    for n in plain:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    for r in runs:
        buf.extend(b"%d %d\n" % (r[0], len(r)))
        for num in r:
            if num == 0:
                buf.extend(b"0000000000 65535 f\r\n")
            else:
                buf.extend(b"%010d 00000 n\r\n" % offsets[num])
    ident = hashlib.md5(bytes(buf)).hexdigest().upper().encode()
    buf.extend(b"trailer\n<< /Size %d /Root 1 0 R /Info 9 0 R /XRefStm %d /ID [<%s> <%s>] >>\n"
               % (size, xref_stm_offset, ident, ident))
    buf.extend(b"startxref\n%d\n%%%%EOF\n" % xref_offset)
    out.write_bytes(bytes(buf))


def make_scan(out: Path, pages: int = 18, dpi: int = 300) -> None:
    """A multi-page 'scan': one incompressible grey-noise JPEG per A4 page at scanner
    resolution, written as a plain PDF with DCTDecode images (streamed to disk)."""
    import io
    from PIL import Image, ImageDraw

    w_px, h_px = round(8.27 * dpi), round(11.69 * dpi)
    rnd = random.Random(100)
    tmp = out.with_suffix(".part")
    with open(tmp, "wb") as f:
        pos = 0

        def write(b: bytes) -> None:
            nonlocal pos
            f.write(b)
            pos += len(b)

        offsets: dict[int, int] = {}
        write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        # 1 catalog, 2 pages, 3 info; per page i: 4+3i page, 5+3i image, 6+3i content.
        kids = b" ".join(b"%d 0 R" % (4 + 3 * i) for i in range(pages))
        for num, body in ((1, b"<< /Type /Catalog /Pages 2 0 R >>"),
                          (2, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids)),
                          (3, b"<< /Producer (Sahih corpus scan writer; Pillow JPEG) "
                              b"/Title (Pindaian arsip) >>")):
            offsets[num] = pos
            write(pdf_obj_bytes(num, body))
        for i in range(pages):
            img = Image.frombytes("L", (w_px, h_px), rnd.randbytes(w_px * h_px))
            ImageDraw.Draw(img).rectangle((150, 150, w_px - 150, 450), fill=255)
            jb = io.BytesIO()
            img.save(jb, "JPEG", quality=90)
            jpeg = jb.getvalue()
            page_no, img_no, cont_no = 4 + 3 * i, 5 + 3 * i, 6 + 3 * i
            offsets[page_no] = pos
            write(pdf_obj_bytes(page_no, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                                         b"/Resources << /XObject << /Im0 %d 0 R >> >> "
                                         b"/Contents %d 0 R >>" % (img_no, cont_no)))
            offsets[img_no] = pos
            write(b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                  b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\n"
                  b"stream\n" % (img_no, w_px, h_px, len(jpeg)))
            write(jpeg)
            write(b"\nendstream\nendobj\n")
            cont = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
            offsets[cont_no] = pos
            write(pdf_obj_bytes(cont_no, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cont), cont)))
        size = 4 + 3 * pages
        xref = pos
        write(b"xref\n0 %d\n0000000000 65535 f\r\n" % size)
        for num in range(1, size):
            write(b"%010d 00000 n\r\n" % offsets[num])
        write(b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    os.replace(tmp, out)


# --------------------------------------------------------------------------------------------

def pdfinfo(path: Path) -> dict:
    try:
        p = subprocess.run(["pdfinfo", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    info = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def check_clean(path: Path, allowed_warning: str | None = None) -> None:
    """qpdf --check must pass without warnings on every positive corpus file (except one
    documented warning of the producer, e.g. pypdf's incremental xref stream /Size)."""
    p = subprocess.run(["qpdf", "--check", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    warnings = [line for line in out.splitlines() if "WARNING" in line]
    if allowed_warning is not None:
        warnings = [w for w in warnings if allowed_warning not in w]
        ok_exit = p.returncode in (0, 3)
    else:
        ok_exit = p.returncode == 0
    clean = ("No syntax or stream encoding errors found" in out
             or (p.returncode == 3 and "operation succeeded with warnings" in out))
    if not ok_exit or warnings or not clean:
        raise CorpusError(f"qpdf --check {path.name} is not clean (exit {p.returncode}):\n{out[-2000:]}")
    # Poppler must read it without complaint too (pdftotext parses every page).
    p = subprocess.run(["pdftotext", str(path), "/dev/null"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0 or out:
        raise CorpusError(f"pdftotext {path.name} complains (exit {p.returncode}):\n{out[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--big", action="store_true", help="also build scan100mb.pdf (>= 100 MB)")
    args = ap.parse_args()
    big = args.big or os.environ.get("SAHIH_BIG") == "1"
    outdir: Path = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)

    for tool in ("pdflatex", "soffice", "chromium", "ps2pdf", "qpdf", "pdfinfo"):
        need(tool)
    versions = {
        "pdflatex": tool_version(["pdflatex", "--version"]),
        "soffice": tool_version(["soffice", "--version"]),
        "chromium": tool_version(["chromium", "--version"], "Chromium"),
        "ghostscript": "Ghostscript " + tool_version(["gs", "--version"]),
        "qpdf": tool_version(["qpdf", "--version"]),
    }

    t_start = time.monotonic()
    manifest: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="sahih-corpus-") as tmp:
        work = Path(tmp)

        def step(name: str, label: str, fn, *, positive: bool = True,
                 allowed_warning: str | None = None) -> None:
            t0 = time.monotonic()
            print(f"corpus: {name} ({label}) ...", end=" ", flush=True)
            sub = work / name.replace(".pdf", "")
            sub.mkdir(exist_ok=True)
            target = outdir / name
            try:
                fn(target, sub)
            except CorpusError:
                print("FAILED", flush=True)
                raise
            if positive:
                check_clean(target, allowed_warning)
            info = pdfinfo(target) if positive else {}
            manifest[name] = {
                "kind": "positive" if positive else "negative",
                "tool": label,
                "producer": info.get("Producer"),
                "creator": info.get("Creator"),
                "pdf_version": info.get("PDF version"),
                "pages": int(info["Pages"]) if info.get("Pages", "").isdigit() else None,
                "size": target.stat().st_size,
                "sha256": file_sha256(target),
            }
            if allowed_warning:
                manifest[name]["known_qpdf_warning"] = allowed_warning
            print(f"ok ({time.monotonic() - t0:.1f}s, {target.stat().st_size} bytes)", flush=True)

        o = outdir
        step("pdftex.pdf", versions["pdflatex"], make_pdftex)
        step("libreoffice.pdf", versions["soffice"], make_libreoffice)
        step("chromium.pdf", versions["chromium"], make_chromium)
        step("ghostscript.pdf", versions["ghostscript"], make_ghostscript)
        step("reportlab.pdf", "reportlab", make_reportlab)
        step("qpdf-objstm.pdf", versions["qpdf"] + " --object-streams=generate",
             lambda t, w: make_qpdf_objstm(o / "reportlab.pdf", t))
        step("qpdf-linearized.pdf", versions["qpdf"] + " --linearize",
             lambda t, w: make_qpdf_linearized(o / "libreoffice.pdf", t))
        step("hybrid.pdf", "hand-built hybrid xref (table + /XRefStm)", make_hybrid)
        step("incremental.pdf", "pypdf incremental update",
             lambda t, w: make_incremental(o / "reportlab.pdf", t),
             # pypdf's incremental xref stream does not list itself, so /Size is one too big.
             allowed_warning="is not one plus the highest object number")
        step("presigned.pdf", "pyHanko, foreign self-signed key",
             lambda t, w: make_presigned(o / "libreoffice.pdf", t, o))
        step("form.pdf", "reportlab AcroForm", make_form)
        step("rotated.pdf", "qpdf --rotate=+90", lambda t, w: make_rotated(o / "reportlab.pdf", t, 90))
        step("rotated270.pdf", "qpdf --rotate=+270", lambda t, w: make_rotated(o / "reportlab.pdf", t, 270))
        step("cropped.pdf", "pypdf CropBox [50 60 545 782]", lambda t, w: make_cropped(o / "reportlab.pdf", t))
        step("rotated-cropped.pdf", "qpdf --rotate=+90 of cropped.pdf",
             lambda t, w: make_rotated(o / "cropped.pdf", t, 90))
        step("pdf20.pdf", "qpdf --force-version=2.0", lambda t, w: make_pdf20(o / "reportlab.pdf", t))
        step("book36.pdf", "reportlab, 36 pages", make_book)

        if big:
            scan = outdir / "scan100mb.pdf"
            if scan.exists() and scan.stat().st_size >= 100 * 1024 * 1024 and \
                    tail_bytes(scan, 64).rstrip().endswith(b"%%EOF"):
                print(f"corpus: scan100mb.pdf (exists, {scan.stat().st_size} bytes) ... ok", flush=True)
                manifest["scan100mb.pdf"] = {"kind": "positive", "tool": "scan writer (cached)",
                                             "producer": pdfinfo(scan).get("Producer"),
                                             "size": scan.stat().st_size, "pages": 18,
                                             "sha256": file_sha256(scan)}
            else:
                step("scan100mb.pdf", "Pillow grey-noise JPEG scan, 18 pages at 300 dpi",
                     lambda t, w: make_scan(t))
            if (outdir / "scan100mb.pdf").stat().st_size < 100 * 1024 * 1024:
                raise CorpusError("scan100mb.pdf came out smaller than 100 MB")

        # Negative inputs.
        step("encrypted.pdf", "qpdf --encrypt AES-256",
             lambda t, w: run(["qpdf", "--static-id", "--encrypt", "user", "owner", "256", "--",
                               str(o / "reportlab.pdf"), str(t)]) and None, positive=False)

        def truncated(t: Path, w: Path) -> None:
            data = (o / "reportlab.pdf").read_bytes()
            t.write_bytes(data[: len(data) * 60 // 100])

        step("truncated.pdf", "first 60% of reportlab.pdf", truncated, positive=False)
        step("garbage.pdf", "random bytes",
             lambda t, w: t.write_bytes(random.Random(7).randbytes(20_000)), positive=False)
        step("empty.pdf", "0 bytes", lambda t, w: t.write_bytes(b""), positive=False)

    fonts = check_fonts(outdir)
    for name, desc in fonts.items():
        manifest[name]["fonts"] = desc
    (outdir / "manifest.json").write_text(json.dumps({
        "generated_by": "tests/corpus/make_corpus.py",
        "anchor": ANCHOR,
        "positive": [n for n in POSITIVE + (BIG if big else [])],
        "negative": NEGATIVE,
        "foreign_cert": "foreign.pem",
        "files": manifest,
    }, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(f"corpus: {len(manifest)} files in {outdir} ({time.monotonic() - t_start:.1f}s)", flush=True)
    return 0


def check_fonts(outdir: Path) -> dict[str, str]:
    """The anchor search must cope with these encodings, so make sure they are what we think:
    Chromium (Skia) writes Type0/Identity-H CID fonts with ToUnicode; LibreOffice 7.4 writes
    subset TrueType fonts with producer-private 1-byte codes, readable only via ToUnicode;
    pdfTeX writes Type 1 with builtin encodings."""
    expect = {
        "chromium.pdf": lambda rows: rows and all("Identity-H" in r and "CID" in r for r in rows),
        "libreoffice.pdf": lambda rows: rows and all(r.split()[-3:-2] == ["yes"] and "+" in r.split()[0]
                                                     for r in rows),
        "pdftex.pdf": lambda rows: rows and all("Type 1" in r for r in rows),
    }
    seen = {}
    for name, ok in expect.items():
        out = subprocess.run(["pdffonts", str(outdir / name)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60).stdout.decode("utf-8", "replace")
        rows = [r for r in out.splitlines()[2:] if r.strip()]
        if not ok(rows):
            raise CorpusError(f"{name}: unexpected fonts, pdffonts says:\n{out}")
        seen[name] = "; ".join(" ".join(r.split()[:-2]) for r in rows)
    return seen


def tail_bytes(path: Path, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - n))
        return f.read()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CorpusError as e:
        print(f"\ncorpus: ERROR: {e}", file=sys.stderr)
        sys.exit(1)
