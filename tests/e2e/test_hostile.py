"""Verification that cannot be fooled: the published attack classes against PDF signatures,
each built here in xref-table and xref-stream files, must never verify as TOTAL_PASSED; the
legitimate changes other tools make after a signature must.

pyHanko validates the same files as a reference. Where it and Sahih disagree, the tables below
say which is right and why, and the test asserts pyHanko's answer too, so a change on either
side is noticed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import REPO, Sahih
from validators import page_text, pyhanko_validate, run

sys.path.insert(0, str(REPO / "tests" / "hostile"))
import attacks  # noqa: E402
import foreign  # noqa: E402
from pdfraw import STREAM, TABLE  # noqa: E402

KINDS = (TABLE, STREAM)

# Attacks pyHanko (0.38, default diff policy, as the suite calls it) lets through as a valid,
# intact signature with only allowed changes, and why Sahih is right to refuse them.
PYHANKO_MISSES = {
    "sneaky_signature_field": "pyHanko files a new signature field under form filling whether or not "
                              "it is signed; its appearance paints over the amount",
    "acroform_need_appearances": "pyHanko checks the new form dictionary's /Fields only; "
                                 "/NeedAppearances makes readers redraw every field",
    "hidden_revision": "pyHanko reads only what the xref chain reaches; a reader that rebuilds the "
                       "cross-reference data finds the revision that replaced the content",
}

RESULTS: list[dict] = []


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> foreign.ForeignPki:
    return foreign.make_pki(tmp_path_factory.mktemp("foreign-pki"))


def sign(sahih: Sahih, official, data: bytes, tmp: Path, name: str, *extra) -> bytes:
    src = tmp / f"{name}.pdf"
    out = tmp / f"{name}-signed.pdf"
    src.write_bytes(data)
    extra = extra or ("--rect", "400,60,150,60")
    sahih.sign_ok(src, out, official, *extra)
    return out.read_bytes()


def verify(sahih: Sahih, data: bytes, tmp: Path, name: str, pki) -> tuple[dict, Path]:
    path = tmp / f"{name}.pdf"
    path.write_bytes(data)
    r, rep = sahih.verify(path, "--trust", pki.root_pem)
    assert rep is not None, f"sahih verify printed no report:\n{r.describe()}"
    return rep, path


def reader_texts(path: Path) -> list[str]:
    """Page 1 as poppler and as MuPDF read it (readers differ on broken structure)."""
    mu = run(["mutool", "draw", "-F", "txt", "-o", "-", str(path), "1"])
    return [page_text(path, 1), " ".join(mu.stdout.split())]


def pyhanko_accepts(path: Path, roots: list[Path]) -> bool:
    """pyHanko's bottom line for every signature: intact, valid, trusted, changes allowed."""
    res = pyhanko_validate(path, roots)
    # Document timestamps come back as errors from the helper's signature validation.
    sigs = [s for s in res.signatures if "must be /Sig" not in (s.error or "")]
    return bool(sigs) and all(
        s.intact and s.valid and s.error is None and s.modification_level in
        ("NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS") and s.docmdp_ok is not False
        for s in sigs)


def describe(rep: dict) -> str:
    return json.dumps([{k: s.get(k) for k in ("field", "indication", "sub_indication",
                                                "modifications", "changes", "errors")}
                       for s in rep["signatures"]], indent=1)


def record(name: str, kind: str, rep: dict, ph: bool, expected_valid: bool) -> None:
    RESULTS.append({"case": name, "xref": kind, "sahih": rep["indication"],
                    "changes": sorted({c["kind"] for s in rep["signatures"] for c in s["changes"]}),
                    "pyhanko_accepts": ph, "expected_valid": expected_valid})
    out = os.environ.get("SAHIH_HOSTILE_RESULTS")
    if out:
        Path(out).write_text(json.dumps(RESULTS, indent=1))


# ----------------------------------------------------------------------------------------------
# Attacks on a Sahih signature (approval)
# ----------------------------------------------------------------------------------------------

CASES = [(a, k) for a in attacks.ATTACKS for k in a.kinds]


@pytest.mark.parametrize("attack,kind", CASES, ids=[f"{a.name}-{k}" for a, k in CASES])
def test_attack_on_approval_signature(attack, kind, sahih, official, pki, tmp_path):
    signed = sign(sahih, official, attacks.base(kind, attack.variant), tmp_path, "base")
    rep, _ = verify(sahih, signed, tmp_path, "signed", pki)
    assert rep["indication"] == "TOTAL_PASSED", f"the untouched base must verify:\n{describe(rep)}"

    bad = attack.apply(signed)
    assert bad.startswith(signed), "an attack appends; it never edits the signed bytes"
    rep, path = verify(sahih, bad, tmp_path, "attacked", pki)
    texts = reader_texts(path)
    if attack.effect == "evil":
        assert any("9.000.000" in t for t in texts), \
            f"the attack did not change what poppler or MuPDF shows:\n{texts}"
    elif attack.effect == "hide":
        assert any("1.000.000" not in t for t in texts), \
            f"the overlay still shows in poppler and MuPDF:\n{texts}"

    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    record(attack.name, kind, rep, ph, False)
    assert rep["indication"] != "TOTAL_PASSED", f"{attack.name} verified as valid:\n{describe(rep)}"
    sig = rep["signatures"][0]
    assert sig["indication"] != "TOTAL_PASSED"
    assert sig["changes"], f"the report names no change:\n{describe(rep)}"
    assert ph == (attack.name in PYHANKO_MISSES), \
        f"pyHanko {'accepts' if ph else 'rejects'} {attack.name}; the table says otherwise"


# ----------------------------------------------------------------------------------------------
# Certification signatures (pyHanko certifies; later changes by hand or by Sahih)
# ----------------------------------------------------------------------------------------------

CERTIFIED_ATTACKS = [
    ("p1_then_signature", 1, "sahih"),
    ("p1_document_timestamp_only", 1, None),  # a control: allowed at P=1
    ("p2_free_text", 2, attacks.free_text_annotation),
    ("p2_sneaky_signature_field", 2, attacks.sneaky_signature_field),
    ("p3_free_text", 3, attacks.free_text_annotation),
    ("p3_note_over_amount", 3, attacks.note_over_amount),
    ("p2_sticky_note", 2, foreign.sticky_note),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,level,change", CERTIFIED_ATTACKS, ids=[c[0] for c in CERTIFIED_ATTACKS])
def test_certified_document(name, level, change, kind, sahih, official, pki, tmp_path):
    certified = foreign.sign(attacks.base(kind, "form"), pki, "Sertifikasi", certify=level)
    rep, _ = verify(sahih, certified, tmp_path, "certified", pki)
    assert rep["indication"] == "TOTAL_PASSED", describe(rep)
    assert rep["signatures"][0]["certification"] == level

    if change == "sahih":
        later = sign(sahih, official, certified, tmp_path, "later")
    elif change is None:
        later = foreign.document_timestamp(certified, pki)
    else:
        later = change(certified)
    rep, path = verify(sahih, later, tmp_path, "later", pki)
    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    allowed = name == "p1_document_timestamp_only"
    record(name, kind, rep, ph, allowed)
    if allowed:
        assert rep["indication"] == "TOTAL_PASSED", describe(rep)
        assert ph
        return
    cert = rep["signatures"][0]
    assert cert["indication"] == "TOTAL_FAILED", describe(rep)
    assert cert["changes"], describe(rep)
    assert rep["indication"] != "TOTAL_PASSED"
    assert not ph, f"pyHanko accepts {name}"


# ----------------------------------------------------------------------------------------------
# Controls: legitimate later changes made by other tools
# ----------------------------------------------------------------------------------------------

def test_control_pyhanko_signature_after_sahih_on_pdf13(sahih, official, pki, tmp_path):
    """pyHanko raises the catalog /Version of a PDF 1.3 file when it signs it."""
    signed = sign(sahih, official, attacks.base(TABLE, "pdf13"), tmp_path, "pdf13")
    both = foreign.sign(signed, pki, "Paraf")
    assert b"/Version" in both[len(signed):], "pyHanko no longer raises /Version: the control tests nothing"
    rep, path = verify(sahih, both, tmp_path, "both", pki)
    record("control_pyhanko_signature_pdf13", TABLE, rep, pyhanko_accepts(path, [sahih.root_pem, pki.root_pem]), True)
    assert [s["indication"] for s in rep["signatures"]] == ["TOTAL_PASSED"] * 2, describe(rep)
    assert rep["signatures"][0]["modifications"] == "signatures_only"


# PDF 1.3 files too: pyHanko raises their catalog /Version when it adds what PAdES needs.
BASES = [(TABLE, "plain"), (STREAM, "plain"), (TABLE, "pdf13")]


@pytest.mark.parametrize("kind,variant", BASES)
def test_control_pyhanko_document_timestamp(kind, variant, sahih, official, pki, tmp_path):
    signed = sign(sahih, official, attacks.base(kind, variant), tmp_path, "ts")
    stamped = foreign.document_timestamp(signed, pki)
    rep, path = verify(sahih, stamped, tmp_path, "stamped", pki)
    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    record("control_pyhanko_document_timestamp", kind, rep, ph, True)
    assert rep["indication"] == "TOTAL_PASSED", describe(rep)
    assert rep["document_timestamps"] and rep["document_timestamps"][0]["intact"]
    assert ph


@pytest.mark.parametrize("kind,variant", BASES)
def test_control_pyhanko_dss_updated_in_place(kind, variant, sahih, official, pki, tmp_path):
    signed = sign(sahih, official, attacks.base(kind, variant), tmp_path, "lt", "--rect", "400,60,150,60",
                  "--level", "B-LT")
    updated = foreign.dss_update_in_place(signed, pki)
    dss = attacks.re.search(rb"/DSS\s+(\d+)\s+0\s+R", attacks.catalog_body(signed)).group(1)
    assert attacks.offsets_of(updated, int(dss))[-1] >= len(signed), \
        "pyHanko did not rewrite the DSS object in place: the control tests nothing"
    rep, path = verify(sahih, updated, tmp_path, "updated", pki)
    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    record("control_pyhanko_dss_in_place", kind, rep, ph, True)
    assert rep["indication"] == "TOTAL_PASSED", describe(rep)


@pytest.mark.parametrize("kind", KINDS)
def test_control_form_fill_after_p2(kind, sahih, pki, tmp_path):
    certified = foreign.sign(attacks.base(kind, "form"), pki, "Sertifikasi", certify=2)
    filled = foreign.fill_form(certified, "2.500.000")
    rep, path = verify(sahih, filled, tmp_path, "filled", pki)
    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    record("control_form_fill_after_p2", kind, rep, ph, True)
    assert rep["indication"] == "TOTAL_PASSED", describe(rep)
    assert ph


@pytest.mark.parametrize("kind", KINDS)
def test_control_sticky_note_after_p3(kind, sahih, pki, tmp_path):
    certified = foreign.sign(attacks.base(kind, "form"), pki, "Sertifikasi", certify=3)
    noted = foreign.sticky_note(certified)
    rep, path = verify(sahih, noted, tmp_path, "noted", pki)
    ph = pyhanko_accepts(path, [sahih.root_pem, pki.root_pem])
    record("control_sticky_note_after_p3", kind, rep, ph, True)
    assert rep["indication"] == "TOTAL_PASSED", describe(rep)
    # pyHanko is wrong here, by its own admission: its diff policy "was not designed to
    # support DocMDP level 3" and treats the new annotation as an unexplained change, while
    # ISO 32000-1 12.8.2.2 permits creating annotations at /P 3.
    assert not ph


def test_form_fill_after_approval_is_reported(sahih, official, pki, tmp_path):
    """Stricter than pyHanko by design: after an approval signature a filled-in field changes
    what the signer saw, so it is not TOTAL_PASSED."""
    signed = sign(sahih, official, attacks.base(TABLE, "form"), tmp_path, "form")
    filled = foreign.fill_form(signed, "9.000.000")
    rep, _ = verify(sahih, filled, tmp_path, "filled", pki)
    assert rep["indication"] != "TOTAL_PASSED"
    assert {c["kind"] for c in rep["signatures"][0]["changes"]} == {"form_filled"}, describe(rep)


# ----------------------------------------------------------------------------------------------
# Sahih's own multi-signature files, at every level, against pyHanko
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_sahih_signs_three_times(level, sahih, official, pki, tmp_path):
    second = sahih.enroll(name="Pejabat Kedua")
    third = sahih.enroll(name="Pejabat Ketiga")
    data = attacks.base(TABLE)
    for i, who in enumerate((official, second, third)):
        data = sign(sahih, who, data, tmp_path, f"round{i}", "--rect", f"{60 + 170 * i},60,150,60",
                    "--level", level)
    rep, path = verify(sahih, data, tmp_path, "three", pki)
    assert [s["indication"] for s in rep["signatures"]] == ["TOTAL_PASSED"] * 3, describe(rep)
    res = pyhanko_validate(path, [sahih.root_pem])
    # The helper validates document timestamps (B-LTA) as signatures, which pyHanko refuses
    # with this message; they are checked by Sahih's report above.
    sigs = [s for s in res.signatures if "must be /Sig" not in (s.error or "")]
    assert len(sigs) == 3
    for s in sigs:
        assert s.intact and s.valid and s.error is None, s.pretty
        # pyHanko files adding a signature field and signing it under FORM_FILLING.
        assert s.modification_level in ("NONE", "LTA_UPDATES", "FORM_FILLING"), \
            f"{s.field}: {s.modification_level}"
    record(f"sahih_three_signatures_{level}", TABLE, rep, True, True)
