"""Our validator against pyHanko on the long-term-validation matrix of issue 3:
levels (B-B, B-T, B-LT, B-LTA) x {valid, revoked before signing, revoked after signing,
expired after, tampered, untrusted TSA}, compared indication for indication.

pyHanko runs its ETSI EN 319 102-1 AdES validation (``ades_lta_validation``, the engine behind
``pyhanko sign adesverify``) through its library API in a child process, so its result is an
AdES indication (PASSED / FAILED / INDETERMINATE) with a sub-indication, just like ours. It
trusts exactly our root, uses the revocation data embedded in the file, and -- for validation
"now" -- may fetch OCSP/CRL online from the live `sahih serve` the certificates point at
(pyHanko's default rule NO_HISTORICAL_FETCH). The "expired after" column validates 3 years
ahead (official certificates last 730 days): our `verify --at +3y`, pyHanko a point-in-time
validation at the same instant (``adesverify --validation-time``), which does not fetch.

How the files are made:
  valid            sign, nothing else.
  revoked after    sign, then (1.1 s later: revocation times have whole seconds) revoke.
  revoked before   as "revoked after", then the revocation is back-dated by one day in the
                   database (sahih refuses to sign with a revoked certificate); the server serves
                   the back-dated time after its 2 s reload.
  expired after    sign; validate at +3 years.
  tampered         sign, then flip one byte inside a content stream of the original file (inside
                   the signed byte range).
  untrusted TSA    sign with `--tsa` pointing at a second Sahih installation's server, whose TSA
                   chains to another root; both validators trust only our root. Not applicable to
                   B-B (no timestamp).

Each cell asserts our indication (what sahih implements) and that pyHanko gives the same
indication (PASSED = TOTAL_PASSED, FAILED = TOTAL_FAILED, INDETERMINATE = INDETERMINATE;
sub-indications are printed, not compared: the two name the same situations differently).
Cells where the two disagree are marked xfail(strict=True) with the precise reason, so a change
of behaviour on either side fails the suite. (This matrix found one sahih defect: the TSA
certificate once carried no revocation pointers. It was fixed, and those cells now agree.) The xfail covers only the comparison
(raises=PyhankoDisagrees): sahih's own verdict is asserted first in every cell, and a wrong verdict
fails the cell even where the two are known to disagree. Run with -rxX -s to see each cell.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, make_sahih

VENV_PY = REPO / ".venv" / "bin" / "python"
SOURCE = "libreoffice.pdf"

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
CASES = ["valid", "revoked_before", "revoked_after", "expired_after", "tampered", "untrusted_tsa"]

# What sahih implements (issue 3): (indication, sub_indication or None when not checked).
EXPECTED = {
    ("B-B", "valid"): ("TOTAL_PASSED", None),
    ("B-B", "revoked_after"): ("INDETERMINATE", "REVOKED_NO_POE"),
    ("B-B", "revoked_before"): ("TOTAL_FAILED", "REVOKED"),
    ("B-B", "expired_after"): ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"),
    ("B-B", "tampered"): ("TOTAL_FAILED", None),
}
for _lvl in LEVELS[1:]:
    EXPECTED.update({
        (_lvl, "valid"): ("TOTAL_PASSED", None),
        (_lvl, "revoked_after"): ("TOTAL_PASSED", None),
        (_lvl, "revoked_before"): ("TOTAL_FAILED", "REVOKED"),
        (_lvl, "expired_after"): ("TOTAL_PASSED", None),
        (_lvl, "tampered"): ("TOTAL_FAILED", None),
        (_lvl, "untrusted_tsa"): ("TOTAL_PASSED", None),
    })

AHEAD_YEARS = 3

# The EN 319 102-1 validation process pyHanko runs for each level: B-B has no timestamp (basic
# signature, 5.3), B-T and B-LT have a signature timestamp but no evidence record (signature with
# time, 5.5), B-LTA has document timestamps (long-term availability and integrity, 5.6.3).
# pyHanko's 5.6.3 is not used below B-LTA: it always runs past-signature validation, which needs a
# proof of existence for the CA certificates that only a document timestamp gives, so it turns a
# passing B-LT into INDETERMINATE/NO_POE and rejects any untimestamped signature
# (SIG_CONSTRAINTS_FAILURE, "No signature timestamp present").
PROCESS = {"B-B": "basic", "B-T": "with_time", "B-LT": "with_time", "B-LTA": "lta"}

# B-LTA with a foreign TSA: the document timestamp is untrusted too, nothing proves the file.
EXPECTED[("B-LTA", "untrusted_tsa")] = ("INDETERMINATE", None)

# Cells where pyHanko and sahih disagree: (level, case) -> reason. Strict: a change on either side
# (a fix in sahih, a new pyHanko) fails the suite until the cell is reclassified.
DISAGREE: dict[tuple[str, str], str] = {
    ("B-B", "revoked_before"): (
        "sahih TOTAL_FAILED/REVOKED, pyHanko INDETERMINATE/REVOKED_NO_POE: without a timestamp "
        "sahih compares the revocation time with the claimed signing time and fails the signature; "
        "pyHanko's basic validation (EN 319 102-1 5.3) has no proof of when the signature existed "
        "and stays INDETERMINATE"),
    ("B-T", "revoked_before"): (
        "sahih TOTAL_FAILED/REVOKED (issue 3: revoked before the proven signing time is FAILED), "
        "pyHanko INDETERMINATE/REVOKED_NO_POE: as for B-LT, its validation with time (5.5) never "
        "concludes FAILED from a revocation that precedes the signature timestamp"),
    ("B-T", "expired_after"): (
        "sahih TOTAL_PASSED at +3y: the signature timestamp proves the signing time and sahih's CA "
        "database (authoritative for its own certificates) says the certificate was not revoked; "
        "pyHanko at +3y with no revocation data in the file (B-T has no DSS) and no fetching: "
        "INDETERMINATE/CERTIFICATE_CHAIN_GENERAL_FAILURE, summary INTACT:UNTRUSTED, as for B-LT"),
    ("B-T", "untrusted_tsa"): (
        "sahih ignores a timestamp from an untrusted TSA (warning timestamp_untrusted) and judges "
        "the signature as B-B now: TOTAL_PASSED; pyHanko's validation with time (5.5) does not "
        "drop the token, its chain fails: INDETERMINATE/CERTIFICATE_CHAIN_GENERAL_FAILURE"),
    ("B-LT", "untrusted_tsa"): (
        "as for B-T: sahih drops the untrusted timestamp and passes the signature as B-B now; "
        "pyHanko 5.5 fails the timestamp's chain: INDETERMINATE/CERTIFICATE_CHAIN_GENERAL_FAILURE"),
    ("B-LT", "revoked_before"): (
        "sahih TOTAL_FAILED/REVOKED (issue 3: revoked before the proven signing time is FAILED), "
        "pyHanko INDETERMINATE/REVOKED_NO_POE: its validation with time (5.5) only upgrades to "
        "PASSED when the POE precedes the revocation, it never concludes FAILED from a revocation "
        "that precedes the signature timestamp"),
    ("B-LTA", "revoked_before"): (
        "sahih TOTAL_FAILED/REVOKED from its CA database (authoritative, consulted before the "
        "file's data), pyHanko PASSED: its past-signature validation (5.6.2.4) relies on the OCSP "
        "response embedded at signing time ('good', with POE from the document timestamp) and not "
        "on the fresh 'revoked' response. The back-dated revocation contradicts that earlier signed "
        "OCSP response, which only this test's database surgery can produce"),
    ("B-LT", "expired_after"): (
        "sahih TOTAL_PASSED at +3y (signing time proven by the timestamp, revocation data in the "
        "DSS), pyHanko's point-in-time validation at +3y (no fetching) INDETERMINATE/"
        "CERTIFICATE_CHAIN_GENERAL_FAILURE, summary INTACT:UNTRUSTED: its 5.5 process validates "
        "the chain at the validation time, when the signer certificate (730 days) has expired, and "
        "it cannot use the signature timestamp as proof of existence: the TSA's revocation data "
        "in the file (nextUpdate +7 days) is not 'recent' at +3y and nothing is fetched ('OCSP "
        "response is not recent enough' in pyHanko's log); sahih judges the TSA by its own CA "
        "database and the TSA certificate's validity"),
    ("B-LTA", "expired_after"): (
        "sahih TOTAL_PASSED at +3y, pyHanko's 5.6.3 at +3y INDETERMINATE/"
        "CERTIFICATE_CHAIN_GENERAL_FAILURE ('Validation of signature at current time failed ... "
        "Past validation not applicable'): that sub-indication is not in the set pyHanko continues "
        "with past validation from, so the document timestamp is never used as POE: its TSA's "
        "embedded revocation data (nextUpdate +7 days) is not 'recent' at +3y and nothing is "
        "fetched ('OCSP response is not recent enough'); at +5 days pyHanko accepts the same "
        "file (test_trust_services)"),
}


class PyhankoDisagrees(Exception):
    """pyHanko's indication differs from ours."""


def _cells():
    for level in LEVELS:
        for case in CASES:
            if (level, case) not in EXPECTED:
                continue
            marks = []
            if (level, case) in DISAGREE:
                # raises=: only the pyHanko comparison may fail; a change in sahih's own verdict
                # (an AssertionError before it) is still a real failure.
                marks.append(pytest.mark.xfail(strict=True, raises=PyhankoDisagrees,
                                               reason=DISAGREE[(level, case)]))
            yield pytest.param(level, case, id=f"{level}-{case}", marks=marks)


# --------------------------------------------------------------------------------------------
# pyHanko's AdES validation, in a child process
# --------------------------------------------------------------------------------------------

PYHANKO_ADES = r'''
import asyncio, dataclasses, json, sys
from datetime import datetime
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import LocalKnowledge, PdfSignatureValidationSpec, SignatureValidationSpec
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy, FreshnessReqType
from pyhanko_certvalidator.registry import SimpleTrustManager

path, root, process, when = sys.argv[1:5]
# The policy of `pyhanko sign adesverify --trust ROOT --trust-replace [--validation-time T]`.
policy = CertValidationPolicySpec(
    trust_manager=SimpleTrustManager.build(trust_roots=list(load_certs_from_pemder([root]))),
    revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO, freshness=None,
                                      freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION),
)
spec = SignatureValidationSpec(cert_validation_policy=policy)
if when:
    t = datetime.fromisoformat(when)
    timing = ValidationTimingInfo(t, t, point_in_time_validation=True)
else:
    timing = ValidationTimingInfo.now()
out = []
with open(path, "rb") as f:
    reader = PdfFileReader(f, strict=False)
    for sig in reader.embedded_regular_signatures:
        try:
            if process == "lta":  # EN 319 102-1 5.6.3 (document timestamps as evidence record)
                coro = ades.ades_lta_validation(
                    sig, PdfSignatureValidationSpec(signature_validation_spec=spec, diff_policy=DEFAULT_DIFF_POLICY),
                    timing_info=timing)
            else:
                # The DSS's certificates, OCSP responses and CRLs as local knowledge, as the LTA
                # process does it.
                dss = ades._dss_to_local_knowledge(reader=reader)
                local = dataclasses.replace(spec, local_knowledge=LocalKnowledge(
                    known_certs=dss.known_certs, known_ocsps=dss.known_ocsps, known_crls=dss.known_crls))
                if process == "basic":  # 5.3 (integrity: the digest over the byte range)
                    coro = ades.ades_basic_validation(sig.signed_data, local, timing_info=timing,
                                                      raw_digest=sig.compute_digest())
                else:  # 5.5
                    sig.compute_integrity_info(DEFAULT_DIFF_POLICY)
                    coro = ades.ades_with_time_validation(
                        sig.signed_data, local, timing_info=timing, raw_digest=sig.compute_digest(),
                        extra_status_kwargs=sig.summarise_integrity_info(), status_cls=PdfSignatureStatus)
            res = asyncio.run(coro)
            st = res.api_status
            out.append({"field": sig.field_name, "status": res.ades_subindic.status.name,
                        "subindic": res.ades_subindic.name, "failure": res.failure_msg,
                        "summary": st.summary() if st is not None else None})
        except Exception as e:
            out.append({"field": sig.field_name, "status": "ERROR", "subindic": None,
                        "failure": f"{type(e).__name__}: {e}", "summary": None})
print(json.dumps(out))
'''

TO_OURS = {"PASSED": "TOTAL_PASSED", "FAILED": "TOTAL_FAILED", "INDETERMINATE": "INDETERMINATE"}


def pyhanko_ades(path: Path, root: Path, process: str, when: datetime | None) -> dict:
    p = subprocess.run([str(VENV_PY), "-c", PYHANKO_ADES, str(path), str(root), process,
                        when.isoformat() if when else ""],
                       capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, f"pyHanko helper failed (exit {p.returncode}):\n{out}\n{err}"
    sigs = json.loads(out)
    assert len(sigs) == 1, f"expected exactly one signature, pyHanko saw {sigs}"
    assert sigs[0]["status"] in TO_OURS, f"pyHanko could not validate: {sigs[0]}\n{err}"
    return sigs[0]


# --------------------------------------------------------------------------------------------
# Producing the files
# --------------------------------------------------------------------------------------------

def tamper(src: Path, dst: Path, original_len: int) -> None:
    data = bytearray(src.read_bytes())
    at = data.find(b"stream", 0, original_len)
    assert 0 < at < original_len - 64, "no content stream in the original part"
    at += len(b"stream") + 16  # well inside the stream data, inside the first signed range
    data[at] ^= 0x01
    dst.write_bytes(bytes(data))


def wait_for_ocsp(s, nik: str, want: str, deadline: float) -> str:
    text = ""
    while time.time() < deadline:
        r = s.run("ocsp", "check", "--nik", nik, "--data", s.data, "--url", f"{s.base_url}/ocsp")
        text = r.stdout + r.stderr
        if want in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"the responder did not report {want!r} in time: {text}")


@pytest.fixture(scope="module")
def matrix(sahih_bin, corpus, tmp_path_factory):
    """All files of the matrix, made up front so the revocation cells share their waits."""
    base = tmp_path_factory.mktemp("ltv-matrix")
    s = make_sahih(sahih_bin, base / "ours")
    other = make_sahih(sahih_bin, base / "other")  # another root: its TSA is untrusted for us
    src = corpus / SOURCE
    files: dict[tuple[str, str], Path] = {}
    officials = {}
    for level, case in EXPECTED:
        if case == "tampered":
            continue  # made from the "valid" file below
        official = s.enroll()
        officials[(level, case)] = official
        out = base / f"{level}-{case}.pdf"
        extra = ["--tsa", f"{other.base_url}/tsa"] if case == "untrusted_tsa" else []
        r = s.sign(src, out, official, "--level", level, *extra)
        assert r.returncode == 0 and out.exists(), f"sign {level} {case} failed:\n{r.describe()}"
        assert f"PAdES {level}" in r.stdout, r.describe()
        files[(level, case)] = out
    for level in LEVELS:
        bad = base / f"{level}-tampered.pdf"
        tamper(files[(level, "valid")], bad, src.stat().st_size)
        files[(level, "tampered")] = bad

    revoked = [k for k in files if k[1] in ("revoked_before", "revoked_after")]
    time.sleep(1.1)
    for key in revoked:
        r = s.run("revoke", "--nik", officials[key].nik, "--reason", "keyCompromise", "--data", s.data)
        assert r.returncode == 0, r.describe()
    before = [officials[k].nik for k in revoked if k[1] == "revoked_before"]
    with sqlite3.connect(s.data / "sahih.db") as db:
        for nik in before:
            n = db.execute("UPDATE certificates SET revoked_at = revoked_at - 86400 WHERE status = 'REVOKE' "
                           "AND official_id = (SELECT id FROM officials WHERE nik = ?)", (nik,)).rowcount
            assert n == 1, f"back-dating the revocation of {nik} changed {n} rows"
    db.close()
    # The server reloads every 2 s; wait until it reports every revocation.
    deadline = time.time() + 20
    for key in revoked:
        wait_for_ocsp(s, officials[key].nik, "revoked", deadline)
    time.sleep(3)  # and one more reload for the back-dated times
    return {"s": s, "other": other, "files": files}


# --------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------



@pytest.mark.parametrize("level,case", list(_cells()))
def test_matrix(matrix, level, case):
    s, path = matrix["s"], matrix["files"][(level, case)]
    ahead = case == "expired_after"
    r, j = s.verify(path, *(["--at", f"+{AHEAD_YEARS}y"] if ahead else []))
    assert j is not None, f"verify printed no JSON:\n{r.describe()}"
    sig = j["signatures"][0] if j.get("signatures") else {}
    when = datetime.now(timezone.utc) + timedelta(days=365 * AHEAD_YEARS + 1) if ahead else None
    ph = pyhanko_ades(path, s.root_pem, PROCESS[level], when)
    print(f"\n{level} {case}: sahih {j['indication']}/{sig.get('sub_indication')} "
          f"level={sig.get('level')} revoked={sig.get('revoked')} warnings={sig.get('warnings')}; "
          f"pyHanko {ph['status']}/{ph['subindic']} summary={ph['summary']} failure={ph['failure']}")

    want, want_sub = EXPECTED[(level, case)]
    assert j["indication"] == want, f"sahih: {j}"
    if want_sub:
        assert sig.get("sub_indication") == want_sub, f"sahih: {j}"
    assert r.returncode == (0 if want == "TOTAL_PASSED" else 1), r.describe()
    if case == "untrusted_tsa":
        assert "timestamp_untrusted" in json.dumps(j), f"sahih should warn about the TSA: {j}"
    if case.startswith("revoked"):
        assert sig.get("revoked") is True, sig

    if TO_OURS[ph["status"]] != j["indication"]:
        raise PyhankoDisagrees(f"pyHanko {ph} disagrees with sahih "
                               f"{j['indication']}/{sig.get('sub_indication')}")
