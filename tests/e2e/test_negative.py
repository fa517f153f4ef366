"""What must fail, and how: tampering, hostile /ByteRange, revocation, untrusted roots, wrong
passphrases and lockout, unreadable input, invalid identity fields. Each case checks the exit
code, the indication, that nothing panicked and that no output file was left behind."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

import pytest

from conftest import CORPUS_NEGATIVE, PASSPHRASE, Sahih, assert_no_panic, make_sahih
from validators import pdfsig, pyhanko_validate

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

BR_RE = re.compile(rb"/ByteRange\s*\[([^\]]*)\]")


def last_byte_range(data: bytes) -> tuple[re.Match, list[int]]:
    matches = list(BR_RE.finditer(data))
    assert matches, "no /ByteRange in the signed file"
    m = matches[-1]
    nums = [int(x) for x in m.group(1).split()]
    assert len(nums) == 4, f"unexpected /ByteRange {m.group(0)!r}"
    return m, nums


def with_byte_range(data: bytes, nums: list[int]) -> bytes:
    """Rewrite the last /ByteRange in place: same total length, so no offset moves. The
    numbers may use the array's padding and any whitespace right after its closing bracket."""
    m, _ = last_byte_range(data)
    start = m.start(1)
    end = m.end(0)  # just past "]"
    while end < len(data) and data[end:end + 1] in (b" ", b"\t") :
        end += 1
    leading = m.group(1)[: len(m.group(1)) - len(m.group(1).lstrip())]
    new = (leading + b" ".join(str(n).encode() for n in nums) + b"]").ljust(end - start)
    assert len(new) == end - start, \
        f"harness: {nums} does not fit in the {end - start}-byte /ByteRange field {m.group(0)!r}"
    return data[:start] + new + data[end:]


def single_sig(rep: dict | None, r) -> dict:
    assert rep is not None, f"verify --json printed no JSON:\n{r.describe()}"
    sigs = rep.get("signatures", [])
    assert len(sigs) == 1, r.describe()
    return sigs[0]


def message(r) -> str:
    return (r.stdout + r.stderr).strip()


@pytest.fixture(scope="module")
def signed(sahih: Sahih, official, corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("neg") / "signed.pdf"
    sahih.sign_ok(corpus / "reportlab.pdf", out, official)
    r, rep = sahih.verify(out)
    assert r.returncode == 0, f"harness: the untouched signed file must verify:\n{r.describe()}"
    return out


# --------------------------------------------------------------------------------------------
# tampering
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["first-range", "second-range"])
def test_changed_byte_in_signed_range(where, signed, sahih: Sahih, tmp_path):
    data = bytearray(signed.read_bytes())
    _, (a, b, c, d) = last_byte_range(bytes(data))
    if where == "first-range":
        pos = bytes(data).find(b"Undangan Rapat Koordinasi SPBE")
        assert 0 <= pos < b, "harness: title not inside the first signed range"
        data[pos] = ord("V")
    else:
        pos = len(data) - 1
        if data[pos] in b"\r\n ":
            data[pos] = ord(" ") if data[pos] != ord(" ") else ord("\n")
        else:
            pos = bytes(data).rfind(b"%%EOF") + 4
            data[pos] = ord("G")
        assert c <= pos < c + d, "harness: byte not inside the second signed range"
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(data))
    r, rep = sahih.verify(bad)
    assert r.returncode == 1, f"a changed byte at offset {pos} was not detected:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["indication"] == "TOTAL_FAILED", r.describe()
    assert s["integrity"] is False, r.describe()
    ps = pdfsig(bad, sahih.nssdir)
    assert ps.signatures and not ps.signatures[0].valid, f"harness: pdfsig still says valid:\n{ps.run.describe()}"


def test_appended_data_without_revision(signed, sahih: Sahih, tmp_path):
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(signed.read_bytes() + b"\n99 0 obj\n(tambahan tanpa tanda tangan)\nendobj\n")
    r, rep = sahih.verify(bad)
    assert r.returncode == 1, f"unsigned trailing data accepted:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["covers_whole_document"] is False, r.describe()
    assert s["indication"] != "TOTAL_PASSED", r.describe()
    ps = pdfsig(bad, sahih.nssdir)
    assert ps.signatures[0].total_document_signed is False, ps.run.describe()
    ph = pyhanko_validate(bad, [sahih.root_pem]).signatures[0]
    assert ph.coverage != "ENTIRE_FILE", ph.summary


def test_later_revision_changes_page_content(signed, sahih: Sahih, tmp_path):
    """A valid incremental update after the signature that replaces the page content."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    w = PdfWriter(str(signed), incremental=True)
    page = w.pages[0]
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 28 Tf 80 700 Td (SURAT INI TELAH DIUBAH) Tj ET")
    page[NameObject("/Contents")] = w._add_object(stream)
    bad = tmp_path / "changed-later.pdf"
    with open(bad, "wb") as f:
        w.write(f)
    assert bad.read_bytes().startswith(signed.read_bytes()), "harness: pypdf did not append"

    ph = pyhanko_validate(bad, [sahih.root_pem]).signatures[0]
    assert ph.intact and ph.coverage == "ENTIRE_REVISION", ph.summary
    assert ph.modification_level == "OTHER" and not ph.docmdp_ok and not ph.bottom_line, \
        f"harness: pyHanko accepts the change ({ph.summary})"

    r, rep = sahih.verify(bad)
    assert r.returncode == 1, f"changed page content after signing was accepted:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["indication"] == "TOTAL_FAILED", f"pyHanko says {ph.summary}; sahih:\n{r.describe()}"
    assert s["integrity"] is True, f"the signed revision itself is intact:\n{r.describe()}"
    assert s["covers_whole_document"] is False, r.describe()


HOSTILE = {
    # gap wider than /Contents: 40 bytes before the hex string go unsigned
    "skips-content": lambda a, b, c, d: [0, b - 40, c, d],
    "overlapping": lambda a, b, c, d: [0, c + 10, c, d],
    "beyond-eof": lambda a, b, c, d: [0, b, c, d + 1_000_000],
    "not-from-zero": lambda a, b, c, d: [7, b - 7, c, d],
    "short-of-eof": lambda a, b, c, d: [0, b, c, d - 10],
    "reversed": lambda a, b, c, d: [c, d, 0, b],
    "zero-lengths": lambda a, b, c, d: [0, 0, 0, 0],
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_byte_range(case, signed, sahih: Sahih, tmp_path):
    data = signed.read_bytes()
    _, nums = last_byte_range(data)
    bad = tmp_path / f"hostile-{case}.pdf"
    bad.write_bytes(with_byte_range(data, HOSTILE[case](*nums)))
    r, rep = sahih.verify(bad)
    assert r.returncode == 1, f"hostile /ByteRange ({case}) not rejected with exit 1:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["indication"] in ("TOTAL_FAILED", "INDETERMINATE"), r.describe()
    assert not (s["integrity"] and s["covers_whole_document"]), r.describe()


# --------------------------------------------------------------------------------------------
# trust and revocation
# --------------------------------------------------------------------------------------------

def test_revoked_signer(sahih: Sahih, corpus, tmp_path):
    off = sahih.enroll(name="Pejabat Dicabut, S.H.")
    out = tmp_path / "before-revocation.pdf"
    sahih.sign_ok(corpus / "reportlab.pdf", out, off)
    r = sahih.run("revoke", "--nik", off.nik, "--data", sahih.data, "--reason", "keyCompromise")
    assert r.returncode == 0, r.describe()
    r, rep = sahih.verify(out)
    assert r.returncode == 1, f"signature of a revoked signer passed:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["revoked"] is True, r.describe()
    assert s["indication"] != "TOTAL_PASSED", r.describe()
    # A revoked official can no longer sign.
    out2 = tmp_path / "after-revocation.pdf"
    r = sahih.sign(corpus / "reportlab.pdf", out2, off)
    assert r.returncode != 0, f"revoked official could sign:\n{r.describe()}"
    assert not out2.exists(), "output written although signing was refused"
    assert_no_panic(r)


def test_revoke_unknown_nik(sahih: Sahih):
    r = sahih.run("revoke", "--nik", "3171012501859999", "--data", sahih.data, "--reason", "superseded")
    assert r.returncode != 0, r.describe()
    assert_no_panic(r)


def test_untrusted_root(signed, sahih_bin, sahih: Sahih, tmp_path):
    other = make_sahih(sahih_bin, tmp_path / "other")
    r, rep = sahih.verify(signed, data=other.data)
    assert r.returncode == 1, f"signature from another installation's CA accepted:\n{r.describe()}"
    s = single_sig(rep, r)
    assert s["indication"] == "INDETERMINATE", r.describe()
    assert s["trusted"] is False and s["integrity"] is True, r.describe()
    # Trusting the first installation's root explicitly makes it pass.
    r, rep = sahih.verify(signed, "--trust", sahih.root_pem, data=other.data)
    assert r.returncode == 0, r.describe()


# --------------------------------------------------------------------------------------------
# passphrases and lockout
# --------------------------------------------------------------------------------------------

def wrong_passfile(tmp_path: Path) -> Path:
    p = tmp_path / "wrong.txt"
    p.write_text("bukan-kata-sandi-yang-benar\n", encoding="utf-8")
    return p


def test_wrong_passphrase_writes_nothing(sahih: Sahih, corpus, tmp_path):
    off = sahih.enroll(name="Pejabat Salah Sandi")
    out = tmp_path / "wrong.pdf"
    r = sahih.sign(corpus / "reportlab.pdf", out, off, passfile=wrong_passfile(tmp_path))
    assert r.returncode != 0, r.describe()
    assert not out.exists(), "output written with a wrong passphrase"
    assert message(r), "no message for a wrong passphrase"
    assert PASSPHRASE not in message(r)
    assert_no_panic(r)


def _lock_times_ok(text: str, now: dt.datetime) -> bool:
    """Some HH:MM in the message is ~15 minutes from now, in WIB, UTC or local time."""
    target = now + dt.timedelta(minutes=15)
    zones = [dt.timezone(dt.timedelta(hours=7)), dt.timezone.utc, None]
    for hh, mm in re.findall(r"\b(\d{1,2})[:.](\d{2})\b", text):
        for z in zones:
            t = target.astimezone(z) if z else target.astimezone()
            diff = abs((int(hh) * 60 + int(mm)) - (t.hour * 60 + t.minute)) % (24 * 60)
            if min(diff, 24 * 60 - diff) <= 3:
                return True
    return False


def test_lockout_after_five_consecutive_wrong_passphrases(sahih: Sahih, official, corpus, tmp_path):
    off = sahih.enroll(name="Pejabat Terkunci")
    wrong = wrong_passfile(tmp_path)
    src = corpus / "reportlab.pdf"

    def attempt(i: int, passfile: Path | None) -> tuple:
        out = tmp_path / f"attempt-{i}.pdf"
        r = sahih.sign(src, out, off, passfile=passfile)
        assert_no_panic(r)
        return r, out

    n = 0
    # Four wrong, then the right one: success resets the counter (it is "consecutive").
    for _round in range(2):
        for _ in range(4):
            n += 1
            r, out = attempt(n, wrong)
            assert r.returncode != 0 and not out.exists(), r.describe()
        n += 1
        r, out = attempt(n, None)
        assert r.returncode == 0 and out.exists(), f"right passphrase after 4 wrong ones refused:\n{r.describe()}"
    # Five consecutive wrong: locked, even for the right passphrase, in a new process.
    for _ in range(5):
        n += 1
        r, out = attempt(n, wrong)
        assert r.returncode != 0 and not out.exists(), r.describe()
    now = dt.datetime.now(dt.timezone.utc)
    n += 1
    r, out = attempt(n, None)
    assert r.returncode != 0, f"6th attempt (right passphrase) after 5 wrong was accepted:\n{r.describe()}"
    assert not out.exists()
    text = message(r)
    assert re.search(r"terkunci", text, re.I) and re.search(r"sampai", text, re.I), \
        f"lockout message must say 'terkunci ... sampai <time>':\n{r.describe()}"
    assert _lock_times_ok(text, now), f"no time ~15 minutes from now ({now:%H:%M} UTC) in:\n{text}"
    # The lock is per official: another official still signs.
    out = tmp_path / "other-official.pdf"
    sahih.sign_ok(src, out, official)


# --------------------------------------------------------------------------------------------
# unreadable input
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CORPUS_NEGATIVE)
def test_sign_refuses_bad_input(name, sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / f"out-{name}"
    r = sahih.sign(corpus / name, out, official)
    assert r.returncode != 0, f"sahih signed {name}:\n{r.describe()}"
    assert not out.exists(), f"{name}: output file left behind after a failed sign"
    assert list(tmp_path.iterdir()) == [], f"{name}: leftovers in the output directory: {list(tmp_path.iterdir())}"
    assert message(r), f"{name}: no error message"
    assert_no_panic(r)
    if name == "encrypted.pdf":
        assert re.search(r"enkrip|encrypt|kata sandi|password", message(r), re.I), \
            f"the message must say the PDF is encrypted:\n{r.describe()}"


@pytest.mark.parametrize("name", CORPUS_NEGATIVE)
def test_verify_refuses_bad_input(name, sahih: Sahih, corpus):
    r, _ = sahih.verify(corpus / name)
    assert r.returncode == 2, f"verify {name} must exit 2 (unreadable input):\n{r.describe()}"
    assert message(r), f"{name}: no error message"


def test_verify_missing_file(sahih: Sahih, tmp_path):
    r, _ = sahih.verify(tmp_path / "tidak-ada.pdf")
    assert r.returncode == 2, r.describe()


def test_verify_unsigned_pdf(sahih: Sahih, corpus):
    r, rep = sahih.verify(corpus / "reportlab.pdf")
    assert r.returncode == 1, f"a PDF without signatures must exit 1:\n{r.describe()}"
    assert rep is None or rep.get("signatures") == [], r.describe()


def test_sign_unknown_nik(sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / "unknown.pdf"
    r = sahih.run("sign", corpus / "reportlab.pdf", "-o", out, "--nik", "3171012501859998",
                  "--data", sahih.data, "--passphrase-file", official.passfile)
    assert r.returncode != 0 and not out.exists(), r.describe()
    assert "3171012501859998" in message(r) or re.search(r"NIK", message(r)), r.describe()
    assert_no_panic(r)


# --------------------------------------------------------------------------------------------
# enrollment and init
# --------------------------------------------------------------------------------------------

INVALID_IDS = {
    "nik-15-digits": ("317101250185000", "198501252010011003", "NIK"),
    "nik-17-digits": ("31710125018500031", "198501252010011003", "NIK"),
    "nik-letters": ("31710125018500AB", "198501252010011003", "NIK"),
    "nip-17-digits": ("3171012501850003", "19850125201001100", "NIP"),
    "nip-letters": ("3171012501850003", "1985012520100110XY", "NIP"),
}


@pytest.mark.parametrize("case", list(INVALID_IDS))
def test_enroll_rejects_invalid_ids(case, sahih: Sahih, tmp_path):
    nik, nip, field = INVALID_IDS[case]
    pf = tmp_path / "p.txt"
    pf.write_text(PASSPHRASE + "\n", encoding="utf-8")
    r = sahih.run("enroll", "--data", sahih.data, "--nik", nik, "--nip", nip, "--name", "Uji Salah",
                  "--email", "uji@contoh.go.id", "--position", "Staf", "--unit", "Sekretariat",
                  "--passphrase-file", pf)
    assert r.returncode == 2, f"{case}: invalid {field} must exit 2:\n{r.describe()}"
    assert field in message(r), f"{case}: the message must name the {field} field:\n{r.describe()}"
    assert_no_panic(r)


def test_init_refuses_existing_data_dir(sahih: Sahih):
    key = sahih.data / "master.key"
    before = key.read_bytes() if key.exists() else None
    r = sahih.init()
    assert r.returncode != 0, f"init overwrote an existing data directory:\n{r.describe()}"
    if before is not None:
        assert key.read_bytes() == before, "master key changed by a refused init"


def test_master_key_file_is_private(sahih: Sahih):
    key = sahih.data / "master.key"
    assert key.exists(), f"no master.key in {sorted(p.name for p in sahih.data.iterdir())}"
    mode = stat.S_IMODE(os.stat(key).st_mode)
    assert mode == 0o600, f"master.key has mode {oct(mode)}, expected 0o600"


def test_passphrase_not_stored(sahih: Sahih, official):
    """Neither the passphrase nor its bytes appear anywhere in the data directory."""
    needle = PASSPHRASE.encode()
    for p in sahih.data.rglob("*"):
        if p.is_file():
            assert needle not in p.read_bytes(), f"passphrase found in {p}"
