"""CLI surface around signing: master key from the environment, passphrase from the
environment, report languages."""

from __future__ import annotations

import re

from conftest import BASE_URL, ORG, PASSPHRASE, Sahih, assert_no_panic

MASTER_KEY = "3f" * 32


def test_master_key_from_environment(sahih_bin, corpus, tmp_path):
    s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
    env = {"SAHIH_MASTER_KEY": MASTER_KEY}
    r = s.run("init", "--data", s.data, "--org", ORG, "--base-url", BASE_URL, env=env)
    assert r.returncode == 0, r.describe()
    assert not (s.data / "master.key").exists(), "SAHIH_MASTER_KEY given, yet a master.key file was written"
    enroll = ["enroll", "--data", s.data, "--nik", "3171012501850003", "--nip", "198501252010011003",
              "--name", "Budi Santoso", "--email", "budi@contoh.go.id", "--position", "Kepala Dinas",
              "--unit", "Dinas Komunikasi dan Informatika"]
    # Without the master key the CA keys cannot be opened: a clear refusal.
    r = s.run(*enroll, env={"SAHIH_PASSPHRASE": PASSPHRASE})
    assert r.returncode != 0, f"enroll worked without the master key:\n{r.describe()}"
    assert_no_panic(r)
    assert re.search(r"master|induk", r.stdout + r.stderr, re.I), r.describe()
    # With it, enrollment and signing work (passphrase from SAHIH_PASSPHRASE).
    r = s.run(*enroll, env={**env, "SAHIH_PASSPHRASE": PASSPHRASE})
    assert r.returncode == 0, r.describe()
    out = tmp_path / "signed.pdf"
    r = s.run("sign", corpus / "reportlab.pdf", "-o", out, "--nik", "3171012501850003", "--data", s.data,
              env={**env, "SAHIH_PASSPHRASE": PASSPHRASE})
    assert r.returncode == 0 and out.exists(), r.describe()
    r = s.run("verify", out, "--data", s.data, env=env)
    assert r.returncode == 0, r.describe()


def test_wrong_master_key_is_refused(sahih: Sahih, official, corpus, tmp_path):
    """A data directory with master.key, opened with a different SAHIH_MASTER_KEY."""
    pf = official.passfile
    r = sahih.run("enroll", "--data", sahih.data, "--nik", "3171012501859001", "--nip", "198501252010011901",
                  "--name", "Uji Kunci", "--email", "uji@contoh.go.id", "--position", "Staf",
                  "--unit", "Sekretariat", "--passphrase-file", pf, env={"SAHIH_MASTER_KEY": "00" * 32})
    assert r.returncode != 0, f"enroll worked with a wrong master key:\n{r.describe()}"
    assert_no_panic(r)


def test_report_languages(sahih: Sahih, official, corpus, tmp_path):
    out = tmp_path / "lang.pdf"
    sahih.sign_ok(corpus / "reportlab.pdf", out, official)
    r_id = sahih.run("verify", out, "--data", sahih.data)
    r_en = sahih.run("verify", out, "--data", sahih.data, "--lang", "en")
    assert r_id.returncode == 0 and r_en.returncode == 0, r_id.describe() + r_en.describe()
    assert re.search(r"tanda tangan", r_id.stdout, re.I), f"default report is not Indonesian:\n{r_id.stdout}"
    assert re.search(r"signature", r_en.stdout, re.I) and not re.search(r"tanda tangan", r_en.stdout, re.I), \
        f"--lang en report is not English:\n{r_en.stdout}"
    for r in (r_id, r_en):
        assert "TOTAL_PASSED" in r.stdout, r.stdout


def _modes(root):
    import os
    import stat
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    out["."] = stat.S_IMODE(os.lstat(root).st_mode)
    return out


def test_data_directory_is_private_whatever_the_umask(sahih_bin, corpus, tmp_path):
    """Security finding 6: under a normal umask the database (outbox, sealed keys), config and
    documents/ (e-KTP scans, signed letters) were world-readable."""
    import os
    old = os.umask(0o022)
    try:
        s = Sahih(sahih_bin, tmp_path / "data", tmp_path)
        assert s.init().returncode == 0
        off_env = {"SAHIH_PASSPHRASE": PASSPHRASE}
        r = s.run("enroll", "--data", s.data, "--nik", "3171012501850003", "--nip", "198501252010011003",
                  "--name", "Budi Santoso", "--email", "budi@contoh.go.id", "--position", "Kepala Dinas",
                  "--unit", "Dinas Komunikasi dan Informatika", env=off_env)
        assert r.returncode == 0, r.describe()
        r = s.run("sign", corpus / "reportlab.pdf", "-o", tmp_path / "out.pdf", "--nik", "3171012501850003",
                  "--data", s.data, env=off_env)
        assert r.returncode == 0, r.describe()
        modes = _modes(s.data)
        assert modes["."] == 0o700, oct(modes["."])
        loose = {k: oct(m) for k, m in modes.items() if m & 0o077}
        assert not loose, f"readable by others: {loose}"
        # An existing directory left open (an older install, a restored backup) is tightened
        # by the next command.
        os.chmod(s.data, 0o755)
        os.chmod(s.data / "sahih.db", 0o644)
        os.chmod(s.data / "config.toml", 0o644)
        assert s.run("client", "list", "--data", s.data).returncode == 0
        modes = _modes(s.data)
        assert modes["."] == 0o700 and modes["sahih.db"] == 0o600 and modes["config.toml"] == 0o600
    finally:
        os.umask(old)
