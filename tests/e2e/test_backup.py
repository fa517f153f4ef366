"""The backup and restore drill (issue 14, section 5), on SQLite + a local directory and on
PostgreSQL + S3 (moto):

1. letters are signed at B-B, B-T, B-LT and B-LTA, and an RA request puts evidence in the blob
   store;
2. `sahih backup` runs while letters keep being signed and the server anchors the audit chain
   every second;
3. after the backup the deployment goes on (more letters, another official, CRLs): everything
   it hands out from then on is lost with the data, but may exist in the world;
4. the data is destroyed (data directory deleted, database dropped, a new empty S3 server);
5. `sahih restore` rebuilds it;
6. every letter still verifies, every QR page answers, `sahih audit verify` passes with its
   anchors, and new certificates, TSA tokens, CRLs and document ids never repeat one handed
   out before the data was lost (not even one from after the backup).
"""
from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from conftest import assert_no_panic
from ecs_support import BACKENDS, Moto, http, make_deployment, pg_admin_url, psql, wait_for

UNIT = "Dinas Komunikasi dan Informatika"
LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
# Anchors every second (so the witness file grows while the backup runs); a generous grace, so
# entries made while no server runs are not yet "unanchored too long".
ANCHORS = {"audit_anchor_secs": 1, "audit_anchor_grace_secs": 600}
REQ_ID_RE = re.compile(r"\breq-[a-z0-9]{10,}\b")


def letter(path: Path, text: str) -> Path:
    c = canvas.Canvas(str(path))
    c.drawString(72, 760, "PEMERINTAH KOTA CONTOH")
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return path


def jpeg(path: Path, rgb: tuple[int, int, int]) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), rgb).save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def tsa_serials(path: Path) -> list[int]:
    """Serial numbers of every RFC 3161 token in a PDF: signature timestamps and document
    timestamps."""
    out = []
    with open(path, "rb") as f:
        for s in PdfFileReader(f, strict=False).embedded_signatures:
            sd = s.signed_data
            eci = sd["encap_content_info"]
            if eci["content_type"].native == "tst_info":
                out.append(eci["content"].parsed["serial_number"].native)
            for si in sd["signer_infos"]:
                attrs = si["unsigned_attrs"]
                if attrs.native is None:
                    continue
                for attr in attrs:
                    if attr["type"].native == "signature_time_stamp_token":
                        for token in attr["values"]:
                            tst = token["content"]["encap_content_info"]["content"].parsed
                            out.append(tst["serial_number"].native)
    return out


def sign(dep, official, out: Path, level: str, text: str) -> Path:
    src = letter(out.with_suffix(".src.pdf"), text)
    r = dep.sahih.sign(src, out, official, "--level", level)
    assert r.returncode == 0, r.describe()
    return out


def crl_number(dep, workdir: Path, name: str) -> int:
    out = workdir / f"{name}.crl"
    r = dep.run("crl", "-o", out)
    assert r.returncode == 0, r.describe()
    return asn1_crl.CertificateList.load(out.read_bytes()).crl_number_value.native


def column(dep, sql: str) -> set[str]:
    text = dep.sql(sql)
    return set(text.split()) if text else set()


def counters(dep) -> dict[str, int]:
    rows = dep.sql("SELECT name, value FROM counters")
    return {n: int(v) for n, v in (line.split("|") for line in rows.splitlines() if line)}


@pytest.fixture(params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"backup-{request.param}"),
                        request.param, config_edits=ANCHORS)
    yield d
    d.close()


def test_backup_restore_drill(dep, tmp_path):
    """README "Backup and restore": a backup taken while signing goes on restores into a
    deployment where every signature verifies, every QR page answers, the audit chain verifies
    with its anchors, and no serial, counter or document id is handed out twice."""
    s = dep.sahih
    official = s.enroll()
    work = tmp_path / "letters"
    work.mkdir()

    # 1. Letters at every level, and evidence in the blob store.
    letters = [sign(dep, official, work / f"{lv}.pdf", lv, f"Surat tingkat {lv}") for lv in LEVELS]
    dep.add_client("op-kominfo", "--role", "operator", "--unit", UNIT)
    files = {"surat_permohonan": letter(work / "permohonan.pdf", "Permohonan sertifikat"),
             "ktp": jpeg(work / "ktp.jpg", (10, 120, 200)),
             "sk_jabatan": letter(work / "sk.pdf", "SK Jabatan")}
    r = dep.run("ra", "submit", "--as", "op-kominfo", "--kind", "enroll",
                "--nik", "3573010101800077", "--nip", "198001012005011077",
                "--name", "Siti Aminah", "--email", "siti.aminah@contoh.go.id",
                "--position", "Kepala Seksi Persandian", "--unit", UNIT,
                *[a for k, p in files.items() for a in ("--evidence", f"{k}={p}")])
    assert r.returncode == 0, r.describe()
    request_id = REQ_ID_RE.findall(r.stdout)[0]

    # 2. The backup, while a second process keeps signing.
    backed_up_ids = column(dep, "SELECT id FROM signed_documents")
    backup = tmp_path / "sahih.backup"
    stop = threading.Event()
    during: list[Path] = []
    errors: list[str] = []

    def keep_signing():
        i = 0
        while not stop.is_set() or i < 2:
            out = work / f"during-{i}.pdf"
            src = letter(work / f"during-{i}.src.pdf", f"Surat saat pencadangan {i}")
            r = s.sign(src, out, official, "--level", "B-LT")
            if r.returncode != 0:
                errors.append(r.describe())
                return
            during.append(out)
            i += 1

    signer = threading.Thread(target=keep_signing)
    signer.start()
    wait_for(lambda: during or errors, "the first letter signed by the second process")
    args = ["backup", "-o", backup]
    if dep.backend == "sqlite":
        args.append("--with-master-key")
    r = dep.run(*args, timeout=600)
    stop.set()
    signer.join(timeout=300)
    assert not errors, errors[0]
    assert r.returncode == 0, r.describe()
    assert_no_panic(r)
    assert "PERINGATAN" in r.stderr and "kunci master" in r.stderr, r.stderr
    assert ("BERISI kunci master" in r.stderr) == (dep.backend == "sqlite"), r.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    listing = subprocess.run(["tar", "tf", backup], capture_output=True, text=True, check=True)
    names = listing.stdout.split()
    assert "sahih-backup/config.toml" in names and "sahih-backup/manifest.json" in names, names
    assert sum(n.startswith("sahih-backup/blobs/") for n in names) == 3, names
    assert ("sahih-backup/master.key" in names) == (dep.backend == "sqlite"), names
    # The English message is the same warning.
    assert dep.run("backup", "-o", backup, "--lang", "en").returncode == 2
    r = dep.run("backup", "-o", tmp_path / "en.backup", "--lang", "en")
    assert r.returncode == 0 and "WARNING: the master key is NOT in this backup" in r.stderr, r.stderr

    # 3. The deployment goes on after the backup: all of this is lost with the data.
    after = [sign(dep, official, work / f"after-{i}.pdf", "B-LTA", f"Surat setelah cadangan {i}")
             for i in range(3)]
    lost_official = s.enroll(name="Dewi Lestari, S.H.")
    crl_before = max(crl_number(dep, tmp_path, f"crl-before-{i}") for i in range(3))
    issued_serials = column(dep, "SELECT serial_hex FROM certificates")
    issued_doc_ids = column(dep, "SELECT id FROM signed_documents")
    counters_before = counters(dep)
    old_tsa = {n for p in letters + during + after for n in tsa_serials(p)}
    assert len(old_tsa) == sum(len(tsa_serials(p)) for p in letters + during + after)
    assert lost_official and len(issued_doc_ids) > len(backed_up_ids)

    # 4. Destroy everything.
    master_key = (s.data / "master.key").read_bytes()
    for server in dep.servers:
        server.stop()
    dep.servers.clear()
    shutil.rmtree(s.data)
    if dep.backend == "postgres-s3":
        psql(pg_admin_url(), f"DROP DATABASE {dep.db_name} WITH (FORCE)")
        psql(pg_admin_url(), f"CREATE DATABASE {dep.db_name}")
        old = dep.moto
        dep.moto = Moto()  # a new, empty S3 server
        old.stop()
        dep.env["SAHIH_BLOB_URL"] = dep.env["SAHIH_BLOB_URL"].replace(old.url, dep.moto.url)

    # 5. Restore.
    r = dep.run("restore", backup, timeout=600)
    assert r.returncode == 0, r.describe()
    assert_no_panic(r)
    assert "Dipulihkan" in r.stdout, r.stdout
    if dep.backend == "postgres-s3":
        # Without the master key the restore says what to do, and the key is copied by hand.
        assert "sahih audit anchor" in r.stderr, r.stderr
        (s.data / "master.key").write_bytes(master_key)
        os.chmod(s.data / "master.key", 0o600)
        r = dep.run("audit", "anchor")
        assert r.returncode == 0, r.describe()
    else:
        assert (s.data / "master.key").read_bytes() == master_key
    # A second restore over the restored directory is refused.
    again = dep.run("restore", backup)
    assert again.returncode == 2 and "--force" in again.stderr, again.describe()

    # 6a. Every signature verifies; every QR page of the backup answers.
    for p in letters + during + after:
        r, report = s.verify(p)
        assert r.returncode == 0, f"{p.name}:\n{r.describe()}"
    restored_ids = column(dep, "SELECT id FROM signed_documents")
    assert backed_up_ids <= restored_ids and len(backed_up_ids) >= len(LEVELS)
    server = dep.start_server()
    for doc_id in restored_ids:
        resp = http("GET", f"{server.url}/v/{doc_id}")
        assert resp.status == 200, (doc_id, resp.status)
    # The evidence came back, byte for byte (its SHA-256 is checked on every read).
    dep.add_client("verif-1", "--role", "verifikator", "--person-nik", "3573014404800009")
    got = tmp_path / "ktp-back.jpg"
    r = dep.run("ra", "evidence", "--as", "verif-1", request_id, "ktp", "-o", got)
    assert r.returncode == 0, r.describe()
    assert got.read_bytes() == files["ktp"].read_bytes()

    # 6b. The audit chain verifies with its anchors (the restore itself is an entry).
    assert "backup.restore" in dep.sql("SELECT action FROM audit_log")
    r = dep.run("audit", "verify")
    assert r.returncode == 0, r.describe()
    anchors = int(re.search(r"(\d+) cap waktu TSA", r.stdout).group(1))
    assert anchors >= 1, r.stdout

    # 6c. Fresh serials: counters, TSA tokens, certificates, document ids, CRL numbers.
    raised = counters(dep)
    for name, value in counters_before.items():
        assert raised[name] > value, (name, value, raised[name])
    new = [sign(dep, official, work / f"new-{lv}.pdf", lv, f"Surat baru {lv}") for lv in LEVELS]
    new += [sign(dep, official, work / f"new-more-{i}.pdf", "B-LTA", f"Lagi {i}") for i in range(2)]
    new_tsa = [n for p in new for n in tsa_serials(p)]
    assert len(new_tsa) >= 6 and len(set(new_tsa)) == len(new_tsa)
    assert not set(new_tsa) & old_tsa, "a TSA serial was issued twice"
    s.enroll(name="Rudi Hartono, S.T.")
    new_serials = column(dep, "SELECT serial_hex FROM certificates") - issued_serials
    assert len(new_serials) == 1, new_serials  # the new official's, unlike any issued before
    new_doc_ids = column(dep, "SELECT id FROM signed_documents") - restored_ids
    assert len(new_doc_ids) == len(new) and not new_doc_ids & issued_doc_ids
    assert crl_number(dep, tmp_path, "crl-after") > crl_before
    for p in new:
        r, _ = s.verify(p)
        assert r.returncode == 0, r.describe()
    r = dep.run("audit", "anchor")
    assert r.returncode == 0, r.describe()
    r = dep.run("audit", "verify")
    assert r.returncode == 0, r.describe()


def test_restore_refuses_a_damaged_file(sahih_bin, tmp_path):
    """A backup whose bytes changed is refused before anything is written."""
    dep = make_deployment(sahih_bin, tmp_path / "dep", "sqlite")
    try:
        backup = tmp_path / "b.backup"
        r = dep.run("backup", "-o", backup)
        assert r.returncode == 0, r.describe()
        raw = bytearray(backup.read_bytes())
        raw[512 + 10] ^= 0x01  # inside the first entry's data
        bad = tmp_path / "bad.backup"
        bad.write_bytes(bytes(raw))
        target = tmp_path / "restored"
        r = dep.sahih.run("restore", bad, "--data", target, env=dep.env)
        assert r.returncode == 1 and "SHA-256" in r.stderr, r.describe()
        assert not target.exists() or not any(target.iterdir())
    finally:
        dep.close()
