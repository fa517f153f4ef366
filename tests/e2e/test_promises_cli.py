"""Promises of README.md, docs/RA.md and docs/ECS.md about the command line (the registration
authority's `sahih ra ...` and `sahih activate`, `sahih demo`, `sahih bench`,
`SAHIH_MASTER_KEY_FILE` and the master key file's mode) and two RA guarantees over HTTP
(evidence changed in storage, concurrent duplicate submissions) that no other test proved.

Each test goes through the door a user takes (the `sahih` command, or HTTP of `sahih serve`)
and its docstring quotes the sentence it proves. Where the database or the blob store matters
the test runs on SQLite + local directory and on PostgreSQL + S3 (moto).
"""
from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import ORG, PASSPHRASE, Sahih, _clean_env, assert_no_panic, free_port
from ecs_support import (BACKENDS, S3_KEY_ID, S3_SECRET, ecs_error, http, make_deployment, multipart,
                         wait_for)

UNIT = "Dinas Komunikasi dan Informatika"
OTHER_UNIT = "Dinas Kesehatan"
VERIF_NIK = "3573014404800009"
VERIF2_NIK = "3573019902800002"
REQ_ID_RE = re.compile(r"\breq-[a-z0-9]{10,}\b")
LINK_RE = re.compile(r"https?://\S+/aktivasi/[A-Za-z0-9_-]{20,}")


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"promises-cli-{request.param}"),
                        request.param)
    d.operator = d.add_client("op-kominfo", "--role", "operator", "--unit", UNIT)
    d.other_operator = d.add_client("op-dinkes", "--role", "operator", "--unit", OTHER_UNIT)
    d.verifikator = d.add_client("verif-1", "--role", "verifikator", "--person-nik", VERIF_NIK)
    d.verifikator2 = d.add_client("verif-2", "--role", "verifikator", "--person-nik", VERIF2_NIK)
    yield d
    d.close()


def jpeg(rgb: tuple[int, int, int]) -> bytes:
    """A complete JPEG; each colour gives different bytes, so a test can find its own blob."""
    out = io.BytesIO()
    Image.new("RGB", (320, 200), rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def evidence_files(corpus: Path, workdir: Path, rgb: tuple[int, int, int]) -> dict[str, Path]:
    """The three enrolment files on disk: request letter, e-KTP scan (unique), SK jabatan."""
    workdir.mkdir(parents=True, exist_ok=True)
    ktp = workdir / "ktp.jpg"
    ktp.write_bytes(jpeg(rgb))
    return {"surat_permohonan": corpus / "reportlab.pdf", "ktp": ktp,
            "sk_jabatan": corpus / "libreoffice.pdf"}


def official(nik: str, name: str, position: str = "Kepala Seksi Persandian", unit: str = UNIT) -> dict:
    local = re.sub(r"[^a-z]", ".", name.lower())
    return {"nik": nik, "nip": "19800101" + "200501" + "1" + nik[-3:], "name": name,
            "email": f"{local}@contoh.go.id", "position": position, "unit": unit}


def cli_submit(dep, account: str, o: dict, files: dict[str, Path]):
    args = ["ra", "submit", "--as", account, "--kind", "enroll", "--nik", o["nik"], "--nip", o["nip"],
            "--name", o["name"], "--email", o["email"], "--position", o["position"], "--unit", o["unit"]]
    for kind, path in files.items():
        args += ["--evidence", f"{kind}={path}"]
    return dep.run(*args)


def cli_submit_ok(dep, account: str, o: dict, files: dict[str, Path]) -> str:
    r = cli_submit(dep, account, o, files)
    assert r.returncode == 0, r.describe()
    assert_no_panic(r)
    ids = REQ_ID_RE.findall(r.stdout)
    assert len(ids) == 1, f"expected one request id in the output:\n{r.describe()}"
    line = next(l for l in r.stdout.splitlines() if ids[0] in l)
    assert "WAITING_FOR_VERIFICATION" in line and o["nik"] in line, r.stdout
    return ids[0]


def cli_list(dep, account: str, *extra) -> dict[str, str]:
    """`sahih ra list --as ACCOUNT`: request id -> its line."""
    r = dep.run("ra", "list", "--as", account, *extra)
    assert r.returncode == 0, r.describe()
    rows = {}
    for line in r.stdout.splitlines():
        m = REQ_ID_RE.search(line)
        if m:
            rows[m.group(0)] = line
    return rows


def cli_status(dep, nik: str) -> str:
    r = dep.run("status", nik)
    assert r.returncode == 0, r.describe()
    return r.stdout


def audit(dep) -> list[dict]:
    r = dep.run("audit", "export")
    assert r.returncode == 0, r.describe()
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def passfile(directory: Path, name: str, passphrase: str) -> Path:
    p = directory / name
    p.write_text(passphrase + "\n", encoding="utf-8")
    os.chmod(p, 0o600)
    return p


# --------------------------------------------------------------------------------------------
# 1. The registration authority from the command line
# --------------------------------------------------------------------------------------------

def test_ra_cli_operator_submits_verifikator_approves_official_activates_and_signs(dep, corpus, tmp_path):
    """README: "`sahih ra submit|list|evidence|approve|reject --as ACCOUNT ...`, `sahih activate
    LINK`, `sahih status NIK`: the registration authority: an OPD operator submits a request with
    evidence ..., a Diskominfo verifikator approves or rejects it ..., the official opens the
    single-use 24-hour activation link and chooses their passphrase; only then are the key and
    certificate made." docs/RA.md: "`sahih ra list --as NAME [--state S]`" (operators see their
    unit), "`sahih ra evidence --as NAME ID KIND -o FILE`", "The page asks for the passphrase
    ... and checks it before using the link up ..., so a refused passphrase can be corrected",
    "Staff act as one of their named accounts (`--as`), so ... the audit log names them"."""
    files = evidence_files(corpus, tmp_path / "ev", (201, 181, 151))
    o = official("3573012101800101", "Rina Wulandari")
    rid = cli_submit_ok(dep, "op-kominfo", o, files)
    assert "WAITING_FOR_VERIFICATION" in cli_status(dep, o["nik"])

    # The verifikator's queue has it; the filing unit's operator sees it; another unit's does not.
    assert rid in cli_list(dep, "verif-1", "--state", "WAITING_FOR_VERIFICATION")
    assert rid in cli_list(dep, "op-kominfo")
    assert rid not in cli_list(dep, "op-dinkes")
    assert rid not in cli_list(dep, "verif-1", "--state", "APPROVED")

    # The verifikator saves each evidence file: the very bytes the operator gave.
    for kind, path in files.items():
        out = tmp_path / f"got-{kind}"
        r = dep.run("ra", "evidence", "--as", "verif-1", rid, kind, "-o", out)
        assert r.returncode == 0, r.describe()
        assert out.read_bytes() == path.read_bytes(), kind

    # Not signing before activation: there is no key yet.
    pp = "Kopi-Tubruk-Alun-Alun-2026"
    good = passfile(tmp_path, "pp.txt", pp)
    doc = corpus / "libreoffice.pdf"
    r = dep.run("sign", doc, "-o", tmp_path / "early.pdf", "--nik", o["nik"], "--passphrase-file", good)
    assert r.returncode != 0 and not (tmp_path / "early.pdf").exists(), r.describe()
    assert_no_panic(r)

    r = dep.run("ra", "approve", "--as", "verif-1", rid)
    assert r.returncode == 0, r.describe()
    assert "NO_CERTIFICATE" in cli_status(dep, o["nik"])
    assert rid in cli_list(dep, "verif-1", "--state", "APPROVED")

    # The activation link from the e-mail (the outbox).
    out = dep.run("outbox", o["email"])
    assert out.returncode == 0, out.describe()
    links = LINK_RE.findall(out.stdout)
    assert links, out.stdout
    link = links[-1]

    # A refused passphrase leaves the link usable; the accepted one uses it up.
    r = dep.run("activate", link, "--passphrase-file", passfile(tmp_path, "weak.txt", "password123"))
    assert r.returncode != 0, r.describe()
    assert_no_panic(r)
    assert "NO_CERTIFICATE" in cli_status(dep, o["nik"])
    r = dep.run("activate", link, "--passphrase-file", good)
    assert r.returncode == 0, r.describe()
    assert "ISSUE" in cli_status(dep, o["nik"])
    r = dep.run("activate", link, "--passphrase-file", passfile(tmp_path, "pp2.txt", "Nasi-Rawon-Setan-2026"))
    assert r.returncode != 0, f"an activation link worked twice:\n{r.describe()}"

    # The official signs with the passphrase only they chose; the signature verifies.
    signed = tmp_path / "signed.pdf"
    r = dep.run("sign", doc, "-o", signed, "--nik", o["nik"], "--passphrase-file", good)
    assert r.returncode == 0 and signed.exists(), r.describe()
    r = dep.run("verify", signed, "--json", "--trust", dep.sahih.root_pem)
    assert r.returncode == 0, r.describe()
    report = json.loads(r.stdout)
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["signer_name"] == o["name"], report["signatures"][0]
    assert "title=Kepala Seksi Persandian" in report["signatures"][0]["signer_subject"]

    # The audit log names the staff accounts that acted.
    events = audit(dep)
    def acted(action, actor):
        return any(e["action"] == action and e["actor"] == actor and e["result"] == "ok"
                   and o["nik"] in (e.get("detail") or "") for e in events)
    assert acted("ra.submit", "op-kominfo"), [e for e in events if e["action"].startswith("ra.")]
    assert acted("ra.approve", "verif-1"), [e for e in events if e["action"].startswith("ra.")]
    assert any(e["action"] == "ra.activate" and o["nik"] in (e.get("detail") or "") for e in events)
    assert pp not in json.dumps(events)


def test_ra_cli_a_verifikator_cannot_decide_their_own_submission_or_one_about_themselves(dep, corpus, tmp_path):
    """docs/RA.md: "a verifikator never decides a request they submitted, nor one about
    themselves (`--person-nik` names the person behind a staff account)" ... "Separation of
    duties, enforced in `sahih-core` (`ra.rs`) and audited when refused"; README: "(never their
    own or one about themselves)". Here through `sahih ra approve --as`: the same person behind a
    second (operator) account submits, and an operator files a request about the verifikator."""
    files = evidence_files(corpus, tmp_path / "ev", (90, 160, 90))
    # One person (VERIF_NIK), two accounts: verif-1 (verifikator) and this operator account.
    dep.add_client("op-same-person", "--role", "operator", "--unit", UNIT, "--person-nik", VERIF_NIK)
    own = cli_submit_ok(dep, "op-same-person", official("3573012202800102", "Agus Salim"), files)
    r = dep.run("ra", "approve", "--as", "verif-1", own)
    assert r.returncode != 0, f"a verifikator approved their own submission:\n{r.describe()}"
    assert_no_panic(r)
    assert re.search(r"sendiri|submitted", r.stderr + r.stdout), r.describe()
    assert "WAITING_FOR_VERIFICATION" in cli_list(dep, "verif-1")[own]

    # A request about the verifikator themselves.
    me = official(VERIF_NIK, "Dewi Verifikator", position="Pranata Komputer")
    about_me = cli_submit_ok(dep, "op-kominfo", me, files)
    r = dep.run("ra", "approve", "--as", "verif-1", about_me)
    assert r.returncode != 0, f"a verifikator approved a request about themselves:\n{r.describe()}"
    assert re.search(r"dirinya sendiri|themselves", r.stderr + r.stdout), r.describe()
    r = dep.run("ra", "reject", "--as", "verif-1", about_me, "--reason", "menolak diri sendiri")
    assert r.returncode != 0, f"a verifikator rejected a request about themselves:\n{r.describe()}"
    assert "WAITING_FOR_VERIFICATION" in cli_list(dep, "verif-1")[about_me]
    assert "WAITING_FOR_VERIFICATION" in cli_status(dep, VERIF_NIK)

    # Both refusals are audited under verif-1.
    refused = [e for e in audit(dep) if e["actor"] == "verif-1" and e["result"] == "refused"
               and e["action"] in ("ra.approve", "ra.reject")]
    details = " ".join(e.get("detail") or "" for e in refused)
    assert own in details and about_me in details, refused

    # Another verifikator (another person) may decide both.
    for rid in (own, about_me):
        r = dep.run("ra", "approve", "--as", "verif-2", rid)
        assert r.returncode == 0, r.describe()
    assert "NO_CERTIFICATE" in cli_status(dep, VERIF_NIK)


def test_ra_cli_reject_records_the_reason_and_tells_the_official(dep, corpus, tmp_path):
    """docs/RA.md: "`sahih ra reject --as VERIFIKATOR ID --reason ..`"; "`/reject` (`{"reason":
    "..."}`, required to reject)"; "A rejection e-mails the reason to the official";
    "WAITING_FOR_VERIFICATION --reject (reason)--> NEW (the operator may submit again)"; "Every
    transition is an audit event `ra.<action>` with `from=` and `to=`"."""
    files = evidence_files(corpus, tmp_path / "ev", (40, 70, 200))
    o = official("3573012303800103", "Budi Hartono")
    rid = cli_submit_ok(dep, "op-kominfo", o, files)

    # No reason, no rejection.
    r = dep.run("ra", "reject", "--as", "verif-2", rid, "--reason", "  ")
    assert r.returncode != 0, f"rejected without a reason:\n{r.describe()}"
    assert_no_panic(r)
    # In Indonesian, with no English inside (the default language of every message).
    assert "alasan" in r.stderr and "needs a reason" not in r.stderr, r.describe()
    assert "WAITING_FOR_VERIFICATION" in cli_list(dep, "verif-2")[rid]

    reason = "Scan e-KTP tidak terbaca, mohon unggah ulang"
    r = dep.run("ra", "reject", "--as", "verif-2", rid, "--reason", reason)
    assert r.returncode == 0, r.describe()
    line = cli_list(dep, "verif-2", "--state", "REJECTED")[rid]
    assert reason in line, line
    assert "NEW" in cli_status(dep, o["nik"])
    # The same record over HTTP.
    got = http("GET", dep.servers[0].url + f"/api/v1/ra/requests/{rid}", credential=dep.verifikator2)
    assert got.status == 200, got.body[:300]
    assert got.json()["state"] == "REJECTED" and got.json()["reason"] == reason, got.json()
    assert got.json()["decided_by"] == "verif-2", got.json()
    # The official is told why.
    out = dep.run("outbox", o["email"])
    assert out.returncode == 0 and reason in out.stdout, out.describe()
    # Audited with the reason and the transition.
    ev = [e for e in audit(dep) if e["action"] == "ra.reject" and rid in (e.get("detail") or "")]
    assert len(ev) == 1 and ev[0]["actor"] == "verif-2" and ev[0]["result"] == "ok", ev
    assert reason in ev[0]["detail"] and "from=WAITING_FOR_VERIFICATION" in ev[0]["detail"] \
        and "to=NEW" in ev[0]["detail"], ev[0]
    # The operator may submit again; it goes back to verification.
    again = cli_submit_ok(dep, "op-kominfo", o, files)
    assert again != rid


# --------------------------------------------------------------------------------------------
# 2. sahih demo
# --------------------------------------------------------------------------------------------

def _verify_with_trust_only(sahih_bin: Path, pdf: Path, root: Path, cwd: Path):
    """`sahih verify FILE --trust ROOT` with no data directory: only --trust anchors count."""
    nodata = cwd / "no-such-data-dir"
    p = subprocess.run([str(sahih_bin), "verify", str(pdf), "--json", "--trust", str(root),
                        "--data", str(nodata)], capture_output=True, text=True, timeout=120,
                       env=_clean_env(), cwd=cwd)
    assert not nodata.exists()
    return p


def test_demo_no_serve_finishes_with_a_signed_letter_that_verifies_against_its_root(sahih_bin, tmp_path):
    """README: "`sahih demo [--listen ADDR] [--no-serve]`: a fresh `./sahih-demo`: institution,
    official, sample letter, signed (PAdES B-LT) and verified"; "`--no-serve` stops after the
    letter"; `sahih verify`: "exit 0 when all are TOTAL_PASSED ... Works without a data directory
    too (then only `--trust` anchors count)"."""
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    p = subprocess.run([str(sahih_bin), "demo", "--no-serve"], capture_output=True, text=True,
                       timeout=300, env=_clean_env(), cwd=cwd, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "panicked" not in p.stdout + p.stderr
    demo = cwd / "sahih-demo"
    assert demo.is_dir(), sorted(x.name for x in cwd.iterdir())
    signed, root = demo / "surat-undangan-ttd.pdf", demo / "root-ca.pem"
    assert signed.is_file() and root.is_file(), sorted(x.name for x in demo.iterdir())
    assert b"-----BEGIN CERTIFICATE-----" in root.read_bytes()
    assert "TOTAL_PASSED" in p.stdout, p.stdout[-2000:]

    v = _verify_with_trust_only(sahih_bin, signed, root, cwd)
    assert v.returncode == 0, v.stdout[-2000:] + v.stderr
    report = json.loads(v.stdout)
    assert report["indication"] == "TOTAL_PASSED" and len(report["signatures"]) == 1, report
    assert report["signatures"][0]["level"] == "B-LT" and report["ltv_enabled"] is True, report
    # Not trusted without its root: the verdict rests on the anchor.
    p2 = subprocess.run([str(sahih_bin), "verify", str(signed), "--data", str(cwd / "none")],
                        capture_output=True, text=True, timeout=120, env=_clean_env(), cwd=cwd)
    assert p2.returncode == 1, p2.stdout[-1500:] + p2.stderr


def test_demo_serves_the_api_with_the_printed_credential_until_interrupted(sahih_bin, tmp_path):
    """README Quick start: "The demo signs and verifies a sample letter in `./sahih-demo`, then
    starts `sahih serve` ... and prints an API client credential and `curl` commands to try the
    ECS-compatible API: the Swagger UI of the native API is at `/api/v1/docs/`. `--listen ADDR`
    picks another address"; the demo's server runs until Ctrl-C."""
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stderr_log = tmp_path / "demo-stderr.log"
    with open(stderr_log, "wb") as errfile:
        proc = subprocess.Popen([str(sahih_bin), "demo", "--listen", f"127.0.0.1:{port}", "--lang", "en"],
                                stdout=subprocess.PIPE, stderr=errfile, stdin=subprocess.DEVNULL,
                                env=_clean_env(), cwd=cwd, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        def healthy():
            if proc.poll() is not None:
                raise AssertionError(f"demo exited ({proc.returncode}) before serving:\n"
                                     + "".join(lines)[-3000:] + stderr_log.read_text(errors="replace"))
            try:
                return http("GET", base + "/healthz", timeout=5).body == b"ok"
            except OSError:
                return False
        wait_for(healthy, "the demo's server to answer /healthz", 300)
        cred_re = re.compile(r"^\s*(demo-app:[A-Za-z0-9]{20,})\s*$")
        cred = wait_for(lambda: next((m.group(1) for l in list(lines) if (m := cred_re.match(l))), None),
                        "the demo to print its API client credential")
        out = "".join(lines)
        assert base in out and "curl -u " + cred in out, out[-2000:]

        # The printed status command works with the printed credential.
        nik = wait_for(lambda: next(iter(re.findall(r"/api/user/status/(\d{16})", "".join(lines))), None),
                       "the demo's curl example")
        st = http("GET", base + f"/api/user/status/{nik}", credential=cred)
        assert st.status == 200, st.body[:300]
        assert "ISSUE" in st.body.decode(), st.body[:300]
        assert http("GET", base + f"/api/user/status/{nik}", credential="demo-app:wrong").status == 401
        assert http("GET", base + "/api/v1/docs/").status == 200

        # The demo's data is in ./sahih-demo and its letter verifies against its root.
        demo = cwd / "sahih-demo"
        v = _verify_with_trust_only(sahih_bin, demo / "surat-undangan-ttd.pdf", demo / "root-ca.pem", cwd)
        assert v.returncode == 0, v.stdout[-2000:] + v.stderr

        # Ctrl-C stops it cleanly.
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
        assert rc == 0, f"demo ended with {rc} on SIGINT:\n{stderr_log.read_text(errors='replace')[-2000:]}"
        assert "panicked" not in stderr_log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        reader.join(timeout=30)
        proc.stdout.close()


def test_serve_stops_gracefully_on_a_ctrl_c_sent_the_moment_it_says_so(sahih_bin, tmp_path):
    """`sahih serve` prints "Ctrl-C to stop" only once Ctrl-C is handled: a SIGINT sent the
    instant that line appears ends the process gracefully (exit 0), never by the default
    signal action (which would be exit -2). Repeated, since the gap it guards is small."""
    s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
    assert s.init().returncode == 0
    for attempt in range(5):
        proc = subprocess.Popen([str(sahih_bin), "serve", "--data", str(s.data), "--listen",
                                 f"127.0.0.1:{free_port()}", "--lang", "en"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=_clean_env(), cwd=tmp_path, text=True)
        try:
            line = proc.stdout.readline()
            assert "Ctrl-C to stop" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=60)
            err = proc.stderr.read()
            assert rc == 0, f"attempt {attempt}: serve ended with {rc} on an early SIGINT:\n{err[-2000:]}"
            assert "panicked" not in err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            proc.stdout.close()
            proc.stderr.close()


# --------------------------------------------------------------------------------------------
# 3. sahih bench
# --------------------------------------------------------------------------------------------

BENCH_LINES = [
    re.compile(r"^iterations (\d+)$"),
    re.compile(r"^median (\d+(?:\.\d+)?) ms$"),
    re.compile(r"^p95 (\d+(?:\.\d+)?) ms$"),
    re.compile(r"^peak memory (\d+(?:\.\d+)?) MiB$"),
]


def _bench_measurement(r) -> dict:
    lines = [l.strip() for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) == len(BENCH_LINES), f"unexpected bench output:\n{r.describe()}"
    values = []
    for line, pattern in zip(lines, BENCH_LINES):
        m = pattern.match(line)
        assert m, f"bench line {line!r} does not match {pattern.pattern}\n{r.describe()}"
        values.append(float(m.group(1)))
    return dict(zip(["iterations", "median", "p95", "peak_mib"], values))


def test_bench_sign_verify_and_unlock_print_a_measurement(sahih_bin, corpus, tmp_path):
    """README: "`sahih bench sign|verify|unlock FILE --nik N [--n N]`: in-process timing with the
    key unlocked once (`unlock`: the passphrase check alone)"; `bench --help`: "--n Iterations",
    "--level PAdES level to produce"."""
    s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
    assert s.init().returncode == 0
    off = s.enroll(nik="3171012501850003", nip="198501252010011003")
    letter = corpus / "reportlab.pdf"
    signed = tmp_path / "signed.pdf"
    s.sign_ok(letter, signed, off)

    runs = {
        "sign B-B": ("sign", letter),
        "sign B-LT": ("sign", letter, "--level", "B-LT"),
        "verify": ("verify", signed),
        "unlock": ("unlock", letter),
    }
    for what, (kind, path, *extra) in runs.items():
        r = s.run("bench", kind, path, "--nik", off.nik, "--n", "3", "--data", s.data,
                  "--passphrase-file", off.passfile, *extra)
        assert r.returncode == 0, f"{what}:\n{r.describe()}"
        assert_no_panic(r)
        m = _bench_measurement(r)
        assert m["iterations"] == 3, (what, m)
        assert 0 < m["median"] <= m["p95"], (what, m)
        assert m["peak_mib"] > 0, (what, m)

    # A wrong passphrase is refused, with no measurement.
    wrong = passfile(tmp_path, "wrong.txt", "bukan-passphrase-nya-2026")
    r = s.run("bench", "sign", letter, "--nik", off.nik, "--n", "3", "--data", s.data,
              "--passphrase-file", wrong)
    assert r.returncode != 0, r.describe()
    assert "median" not in r.stdout and re.search(r"[Pp]assphrase", r.stderr), r.describe()
    # An unreadable input is refused too.
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"this is not a pdf")
    r = s.run("bench", "verify", garbage, "--nik", off.nik, "--n", "3", "--data", s.data,
              "--passphrase-file", off.passfile)
    assert r.returncode != 0 and "median" not in r.stdout, r.describe()
    assert_no_panic(r)


# --------------------------------------------------------------------------------------------
# 4. Evidence changed in storage
# --------------------------------------------------------------------------------------------

class BlobStore:
    """Direct access to a deployment's blob store, around Sahih: the documents/ directory, or
    the S3 bucket on moto."""

    def __init__(self, dep):
        self.dep = dep
        if dep.backend == "postgres-s3":
            import boto3
            self.s3 = boto3.client("s3", endpoint_url=dep.moto.url, region_name="us-east-1",
                                   aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)

    def find(self, content: bytes) -> list:
        if self.dep.backend == "sqlite":
            return [p for p in (self.dep.sahih.data / "documents").rglob("*")
                    if p.is_file() and p.read_bytes() == content]
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.dep.bucket):
            for obj in page.get("Contents", []):
                if obj["Size"] == len(content):
                    body = self.s3.get_object(Bucket=self.dep.bucket, Key=obj["Key"])["Body"].read()
                    if body == content:
                        found.append(obj["Key"])
        return found

    def overwrite(self, where, content: bytes):
        if self.dep.backend == "sqlite":
            where.write_bytes(content)
        else:
            self.s3.put_object(Bucket=self.dep.bucket, Key=where, Body=content)


def test_evidence_changed_in_storage_is_reported_not_served(dep, corpus, tmp_path):
    """docs/RA.md: "Files go to the blob store (local directory or S3) under
    `evidence/<submission>/...`; the database keeps their SHA-256, and every read (and every
    approval)
    (`GET /api/v1/ra/requests/{id}/evidence/{kind}`, `sahih ra evidence`) checks it, so a file
    changed in storage is reported instead of served." `sahih ra evidence --help`: "Save an
    evidence file (checked against its recorded SHA-256)"."""
    files = evidence_files(corpus, tmp_path / "ev", (13, 117, 211))
    original = files["ktp"].read_bytes()
    rid = cli_submit_ok(dep, "op-kominfo", official("3573012404800104", "Citra Lestari"), files)
    evidence_url = dep.servers[0].url + f"/api/v1/ra/requests/{rid}/evidence"

    got = http("GET", evidence_url + "/ktp", credential=dep.verifikator)
    assert got.status == 200 and got.body == original

    store = BlobStore(dep)
    blobs = store.find(original)
    assert len(blobs) == 1, f"expected exactly one stored copy of this e-KTP scan, found {blobs}"
    assert "evidence/" in str(blobs[0])
    # Another complete, well-formed JPEG: only the hash can tell.
    forged = jpeg((250, 250, 250))
    store.overwrite(blobs[0], forged)

    r = http("GET", evidence_url + "/ktp", credential=dep.verifikator)
    assert r.status != 200, "evidence changed in storage was served"
    assert forged not in r.body and original not in r.body
    # Storage damage is the server's problem, not a bad upload: 500 with its own code and a
    # message that says so, without the storage key.
    code, text = ecs_error(r)
    assert (r.status, code) == (500, 5001), (r.status, r.body[:300])
    assert "tidak utuh" in text and "evidence/" not in r.body.decode(), text
    out = tmp_path / "ktp-saved.jpg"
    c = dep.run("ra", "evidence", "--as", "verif-1", rid, "ktp", "-o", out)
    assert c.returncode != 0, f"`sahih ra evidence` saved a changed file:\n{c.describe()}"
    assert_no_panic(c)
    assert not out.exists() or out.read_bytes() != forged, "the changed file was written out"
    assert "tidak utuh" in c.stderr + c.stdout, c.describe()
    # The check is per file: the untouched evidence of the same request is still served.
    r = http("GET", evidence_url + "/sk_jabatan", credential=dep.verifikator)
    assert r.status == 200 and r.body == files["sk_jabatan"].read_bytes()

    # Nor can it be approved: a certificate would be issued on evidence that is not what was
    # uploaded. The request stays waiting.
    c = dep.run("ra", "approve", "--as", "verif-1", rid)
    assert c.returncode != 0 and "tidak utuh" in c.stderr + c.stdout, c.describe()
    r = http("POST", dep.servers[0].url + f"/api/v1/ra/requests/{rid}/approve",
             credential=dep.verifikator, json_body={})
    assert (r.status, ecs_error(r)[0]) == (500, 5001), r.body[:300]
    assert "WAITING_FOR_VERIFICATION" in http(
        "GET", dep.servers[0].url + f"/api/v1/ra/requests/{rid}", credential=dep.verifikator).body.decode()

    # Put back, the recorded bytes are served again (it is the hash, not a flag), and the
    # request can be approved.
    store.overwrite(blobs[0], original)
    r = http("GET", evidence_url + "/ktp", credential=dep.verifikator)
    assert r.status == 200 and r.body == original
    c = dep.run("ra", "approve", "--as", "verif-1", rid)
    assert c.returncode == 0, c.describe()


# --------------------------------------------------------------------------------------------
# 5. The master key's file
# --------------------------------------------------------------------------------------------

def test_master_key_file_named_by_sahih_master_key_file_keeps_the_key_outside_the_data_directory(
        sahih_bin, corpus, tmp_path):
    """README: "CA private keys are sealed (AES-256-GCM) under a 256-bit master key taken from
    `SAHIH_MASTER_KEY` (64 hex characters), else the file named by `SAHIH_MASTER_KEY_FILE`, else
    `<data>/master.key`. ... For production, keep the key outside the data directory (environment
    or a separate file), so a copy of the data directory alone yields no CA key." And: "B-T and
    above run the institution's trust services in-process, which needs the master key; `--level
    B-B` does not." """
    keydir = tmp_path / "keys"
    keydir.mkdir(mode=0o700)
    keyfile = keydir / "sahih-master.key"
    env = {"SAHIH_MASTER_KEY_FILE": str(keyfile)}
    s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
    r = s.run("init", "--data", s.data, "--org", ORG, "--base-url", "http://127.0.0.1:9", env=env)
    assert r.returncode == 0, r.describe()
    assert keyfile.is_file(), f"init did not write the key to SAHIH_MASTER_KEY_FILE:\n{r.describe()}"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600, oct(keyfile.stat().st_mode)
    assert re.fullmatch(r"[0-9a-f]{64}\s*", keyfile.read_text()), "not a 256-bit hex key"
    assert not (s.data / "master.key").exists(), "a master.key was written into the data directory"
    key = keyfile.read_text().strip()
    assert all(key.encode() not in p.read_bytes() for p in s.data.rglob("*") if p.is_file()), \
        "the master key is stored in the data directory"

    nik = "3171012501850003"
    pp = {"SAHIH_PASSPHRASE": PASSPHRASE}
    r = s.run("enroll", "--data", s.data, "--nik", nik, "--nip", "198501252010011003", "--name",
              "Budi Santoso", "--email", "budi@contoh.go.id", "--position", "Kepala Dinas", "--unit",
              UNIT, env={**env, **pp})
    assert r.returncode == 0, r.describe()
    root = tmp_path / "root.pem"
    assert s.run("ca", "export", "-o", root, "--data", s.data, env=env).returncode == 0

    # With the key file named in the environment: B-LT signing and an audit anchor.
    lt = tmp_path / "b-lt.pdf"
    r = s.run("sign", corpus / "reportlab.pdf", "-o", lt, "--nik", nik, "--level", "B-LT",
              "--data", s.data, env={**env, **pp})
    assert r.returncode == 0 and lt.exists(), r.describe()
    r = s.run("verify", lt, "--json", "--trust", root, "--data", s.data, env=env)
    assert r.returncode == 0, r.describe()
    assert json.loads(r.stdout)["signatures"][0]["level"] == "B-LT"
    r = s.run("audit", "anchor", "--data", s.data, env=env)
    assert r.returncode == 0, r.describe()
    assert s.run("audit", "verify", "--data", s.data, env=env).returncode == 0

    # The data directory alone: B-B still signs (the official's passphrase suffices) ...
    bb = tmp_path / "b-b.pdf"
    r = s.run("sign", corpus / "reportlab.pdf", "-o", bb, "--nik", nik, "--level", "B-B",
              "--data", s.data, env=pp)
    assert r.returncode == 0 and bb.exists(), r.describe()
    # ... but nothing that needs a CA or service key works, with a clear message.
    for args in (["audit", "anchor"],
                 ["sign", corpus / "reportlab.pdf", "-o", tmp_path / "no.pdf", "--nik", nik,
                  "--level", "B-LT"]):
        r = s.run(*args, "--data", s.data, env=pp)
        assert r.returncode != 0, f"{args[0]} worked without the master key:\n{r.describe()}"
        assert_no_panic(r)
        assert re.search(r"master key|kunci induk", r.stderr, re.I), r.describe()
        assert "master.key" in r.stderr, r.describe()
    assert not (tmp_path / "no.pdf").exists()


def test_a_master_key_file_readable_by_others_is_refused(sahih_bin, corpus, tmp_path):
    """README: "A key file must have mode 0600 or Sahih refuses it." (both `<data>/master.key`
    and the file named by `SAHIH_MASTER_KEY_FILE`; `sahih serve` too)."""
    s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
    assert s.init().returncode == 0
    key = s.data / "master.key"
    assert s.run("audit", "anchor", "--data", s.data).returncode == 0

    def refused(mode, env=None):
        r = s.run("audit", "anchor", "--data", s.data, env=env)
        assert r.returncode != 0, f"a master key file with loose permissions was used:\n{r.describe()}"
        assert_no_panic(r)
        assert re.search(r"master key|kunci induk", r.stderr, re.I), r.describe()
        assert f"{mode:o}" in r.stderr and "600" in r.stderr, \
            f"the message does not name the file's mode and the one needed:\n{r.describe()}"
        # The default language is Indonesian throughout, with no English inside.
        assert "izin berkas" in r.stderr and "permissions" not in r.stderr, r.describe()
        return r

    for mode in (0o644, 0o640, 0o604):
        os.chmod(key, mode)
        r = refused(mode)
        assert str(key) in r.stderr or "master.key" in r.stderr, r.describe()
    # In English too.
    r = s.run("audit", "anchor", "--data", s.data, "--lang", "en")
    assert r.returncode != 0 and re.search(r"master key", r.stderr, re.I), r.describe()

    # The server refuses to start with it.
    port = free_port()
    p = subprocess.run([str(sahih_bin), "serve", "--data", str(s.data), "--listen", f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=120, env=_clean_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0, p.stderr[-1500:]
    assert re.search(r"master key|kunci induk", p.stderr, re.I) and "600" in p.stderr, p.stderr[-1500:]

    # The same for a key file named by SAHIH_MASTER_KEY_FILE.
    os.chmod(key, 0o600)
    elsewhere = tmp_path / "elsewhere.key"
    elsewhere.write_bytes(key.read_bytes())
    key.unlink()
    os.chmod(elsewhere, 0o644)
    r = refused(0o644, {"SAHIH_MASTER_KEY_FILE": str(elsewhere)})
    assert str(elsewhere) in r.stderr, r.describe()
    os.chmod(elsewhere, 0o600)
    r = s.run("audit", "anchor", "--data", s.data, env={"SAHIH_MASTER_KEY_FILE": str(elsewhere)})
    assert r.returncode == 0, r.describe()


# --------------------------------------------------------------------------------------------
# 6. Concurrent duplicate submissions
# --------------------------------------------------------------------------------------------

def test_concurrent_duplicate_submissions_for_one_nik_exactly_one_is_accepted(dep, corpus, tmp_path):
    """docs/RA.md: "At most one request per NIK is open (NEW, WAITING_FOR_VERIFICATION or
    APPROVED) at a time; a unique partial index enforces it in the database, so two concurrent
    submissions cannot both pass." docs/ECS.md: "409 | 4024 | "NIK telah terdaftar": an open
    request for this NIK exists". (A duplicate arriving after the winner is committed is refused
    by the state machine instead, 409 code 4091, as test_ra.py pins; both are 409.)"""
    files = evidence_files(corpus, tmp_path / "ev", (120, 30, 160))
    o = official("3573012505800105", "Wahyu Pratama")
    parts = {kind: (path.name, path.read_bytes(),
                    "image/jpeg" if path.suffix == ".jpg" else "application/pdf")
             for kind, path in files.items()}
    body, ctype = multipart({"request": json.dumps({"kind": "enroll", "officials": [o]})}, parts)
    n = 8
    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def post():
        barrier.wait()
        r = http("POST", dep.servers[0].url + "/api/v1/ra/submissions", credential=dep.operator,
                 data=body, content_type=ctype)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses.count(201) == 1, f"{statuses}: {[r.body[:200] for r in results]}"
    losers = [r for r in results if r.status != 201]
    assert len(losers) == n - 1 and all(r.status == 409 for r in losers), \
        [(r.status, r.body[:200]) for r in losers]
    codes = [ecs_error(r)[0] for r in losers]
    assert set(codes) <= {4024, 4091}, codes
    assert 4024 in codes, f"no loser got the documented 4024: {codes}"

    # One open request for the NIK, in the queue and in the official's status.
    winner = next(r for r in results if r.status == 201).json()["requests"][0]["id"]
    rows = [rid for rid, line in cli_list(dep, "verif-1").items() if o["nik"] in line]
    assert rows == [winner], rows
    assert "WAITING_FOR_VERIFICATION" in cli_status(dep, o["nik"])
    submits = [e for e in audit(dep) if e["action"] == "ra.submit" and e["result"] == "ok"
               and o["nik"] in (e.get("detail") or "")]
    assert len(submits) == 1, submits
    # The losers' files (e-KTP scans among them) are not left behind in storage.
    copies = BlobStore(dep).find(files["ktp"].read_bytes())
    assert len(copies) == 1, f"{len(copies)} stored copies of one e-KTP scan: {copies}"
