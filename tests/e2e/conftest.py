"""Fixtures for the end-to-end suite: the `sahih` binary, the real-world corpus, a data
directory per test module with an enrolled official, the exported root, and an NSS database
that trusts it (for pdfsig).

Environment:
  SAHIH_BIN      the binary (default <repo>/target/release/sahih)
  SAHIH_CORPUS   a corpus directory to use (built there if it has no manifest.json);
                 default: built once per session in a temporary directory, with --big.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from validators import Run, run

REPO = Path(__file__).resolve().parents[2]
MAKE_CORPUS = REPO / "tests" / "corpus" / "make_corpus.py"

ORG = "Pemerintah Kota Contoh"
BASE_URL = "https://sahih.contoh.go.id"
ANCHOR = "Kepala Dinas Komunikasi dan Informatika"
PASSPHRASE = "Rahasia-Negara-2026!"

# Every positive corpus file except the 100 MB scan (test_big.py has that one).
CORPUS_POSITIVE = [
    "pdftex.pdf", "libreoffice.pdf", "chromium.pdf", "ghostscript.pdf", "reportlab.pdf",
    "qpdf-objstm.pdf", "qpdf-linearized.pdf", "hybrid.pdf", "incremental.pdf", "presigned.pdf",
    "form.pdf", "rotated.pdf", "rotated270.pdf", "cropped.pdf", "rotated-cropped.pdf",
    "pdf20.pdf", "book36.pdf",
]
CORPUS_NEGATIVE = ["encrypted.pdf", "truncated.pdf", "garbage.pdf", "empty.pdf"]

# QR payload: {base_url}/v/{id}, id unguessable (>= 16 URL-safe characters). The suite's data
# directories use a live local server as base URL (see make_sahih).
LOCAL_BASE_RE = r"http://127\.0\.0\.1:\d+"
QR_URL_RE = re.compile(r"^" + LOCAL_BASE_RE + r"/v/([A-Za-z0-9_-]{16,})$")

# Secrets the suite handed out at run time (API credentials, one-time codes), for the sweep in
# test_zz_secrets_sweep.py: none of them may appear in a server log or a database in the clear.
# Passphrases and passwords are read from the test sources by the sweep itself.
RUNTIME_SECRETS: set[str] = set()


def remember_secret(secret: str) -> None:
    """Adds a secret the sweep must not find in any log or database (short ones are skipped:
    they would match by chance)."""
    if len(secret) >= 8:
        RUNTIME_SECRETS.add(secret)


def dump_for_sweep(db_url: str, out: Path) -> None:
    """A PostgreSQL database as SQL text, for the secrets sweep, before a test drops it. Without
    pg_dump the sweep covers SQLite databases and logs only (it says so)."""
    if shutil.which("pg_dump") is None:
        return
    subprocess.run(["pg_dump", "--no-owner", "--data-only", "-f", str(out), db_url],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


# Timeouts (seconds) for one sahih run; generous, tests never assert on time.
SAHIH_TIMEOUT = 120
SAHIH_BIG_TIMEOUT = 900


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: large inputs (100 MB scan); still run in CI")


# --------------------------------------------------------------------------------------------
# The binary and the corpus
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sahih_bin() -> Path:
    path = Path(os.environ.get("SAHIH_BIN", REPO / "target" / "release" / "sahih"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"sahih binary not found at {path}: build it with `cargo build --release` "
                    f"or set SAHIH_BIN", pytrace=False)
    return path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    given = os.environ.get("SAHIH_CORPUS")
    outdir = Path(given) if given else tmp_path_factory.mktemp("corpus")
    if not (outdir / "manifest.json").exists() or not (outdir / "scan100mb.pdf").exists():
        p = subprocess.run([sys.executable, str(MAKE_CORPUS), str(outdir), "--big"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            pytest.fail(f"corpus generation failed (exit {p.returncode}):\n{out}", pytrace=False)
    return outdir


@pytest.fixture(scope="session")
def manifest(corpus) -> dict:
    return json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# A Sahih installation (data dir) with helpers
# --------------------------------------------------------------------------------------------

@dataclass
class Official:
    nik: str
    nip: str
    name: str
    email: str
    position: str
    unit: str
    key: str
    passfile: Path


def _clean_env() -> dict:
    """The environment for sahih runs: none of the caller's SAHIH_* settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAHIH_")}
    env.setdefault("LANG", "C.UTF-8")
    return env


class Sahih:
    """One data directory and the commands run against it."""

    def __init__(self, binary: Path, data: Path, workdir: Path):
        self.bin = binary
        self.data = data
        self.workdir = workdir
        self.base_url = BASE_URL
        self.root_pem: Path | None = None
        self.nssdir: Path | None = None
        self._serial = 3  # 0003 is the default official's serial; fresh ones start at 0004

    def run(self, *args, env: dict | None = None, timeout: int = SAHIH_TIMEOUT) -> Run:
        full_env = _clean_env()
        if env:
            full_env.update(env)
        p = subprocess.run([str(self.bin), *map(str, args)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=full_env,
                           stdin=subprocess.DEVNULL, cwd=self.workdir)
        return Run([str(self.bin), *map(str, args)], p.returncode,
                   p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))

    # -- setup -----------------------------------------------------------------------------

    def init(self) -> Run:
        return self.run("init", "--data", self.data, "--org", ORG, "--base-url", self.base_url)

    def next_ids(self) -> tuple[str, str]:
        """A fresh consistent NIK/NIP pair: same birth date (25-01-1985), new serial."""
        self._serial += 1
        n = self._serial
        return f"317101250185{n:04d}", f"198501252010011{n:03d}"

    def enroll(self, *, name: str = "Budi Santoso, S.Kom., M.T.", key: str | None = None,
               nik: str | None = None, nip: str | None = None,
               position: str = "Kepala Dinas Komunikasi dan Informatika",
               unit: str = "Dinas Komunikasi dan Informatika",
               passphrase: str = PASSPHRASE) -> Official:
        if nik is None or nip is None:
            nik, nip = self.next_ids()
        passfile = self.workdir / f"pass-{nik}.txt"
        passfile.write_text(passphrase + "\n", encoding="utf-8")
        os.chmod(passfile, 0o600)
        email = f"pejabat{nik[-4:]}@contoh.go.id"
        args = ["enroll", "--data", self.data, "--nik", nik, "--nip", nip, "--name", name,
                "--email", email, "--position", position, "--unit", unit,
                "--passphrase-file", passfile]
        if key:
            args += ["--key", key]
        r = self.run(*args)
        assert r.returncode == 0, f"enroll failed:\n{r.describe()}"
        return Official(nik, nip, name, email, position, unit, key or "rsa2048", passfile)

    # -- operations ------------------------------------------------------------------------

    def sign(self, src: Path, out: Path, official: Official, *extra, passfile: Path | None = None,
             timeout: int = SAHIH_TIMEOUT) -> Run:
        # The signing-core suite checks PAdES B-B (a signature covering the whole file); the
        # default level is B-LT, whose DSS revision follows the signature. Tests of the other
        # levels pass --level themselves.
        level = () if "--level" in map(str, extra) else ("--level", "B-B")
        return self.run("sign", src, "-o", out, "--nik", official.nik, "--data", self.data,
                        "--passphrase-file", passfile or official.passfile, *level, *extra,
                        timeout=timeout)

    def sign_ok(self, src: Path, out: Path, official: Official, *extra, timeout: int = SAHIH_TIMEOUT) -> Run:
        r = self.sign(src, out, official, *extra, timeout=timeout)
        assert r.returncode == 0, f"sahih sign failed:\n{r.describe()}"
        assert out.exists() and out.stat().st_size > src.stat().st_size, \
            f"sahih sign exited 0 but {out} is missing or not larger than the input:\n{r.describe()}"
        assert_no_panic(r)
        return r

    def verify(self, path: Path, *extra, data: Path | None = None,
               timeout: int = SAHIH_TIMEOUT) -> tuple[Run, dict | None]:
        r = self.run("verify", path, "--data", data or self.data, "--json", *extra, timeout=timeout)
        assert_no_panic(r)
        try:
            report = json.loads(r.stdout) if r.stdout.strip() else None
        except json.JSONDecodeError:
            report = None
        return r, report


def assert_no_panic(r: Run) -> None:
    text = r.stdout + r.stderr
    assert "panicked" not in text and "RUST_BACKTRACE" not in text, f"sahih panicked:\n{r.describe()}"
    assert r.returncode not in (101, -6, -11, 134, 139), f"sahih crashed:\n{r.describe()}"


_SERVERS: list[subprocess.Popen] = []


@atexit.register
def _stop_servers() -> None:
    for p in _SERVERS:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(s: Sahih, port: int) -> subprocess.Popen:
    """`sahih serve` for this data directory: the OCSP/CRL/CA URLs in its certificates answer,
    as they must for NSS (pdfsig) to call a certificate trusted."""
    # The log goes to a file: a pipe nobody reads would stall a busy server once it fills, and
    # the secrets sweep reads the file afterwards.
    log = s.data.parent / f"serve-{port}.log"
    p = subprocess.Popen([str(s.bin), "serve", "--data", str(s.data), "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=open(log, "wb"), stdin=subprocess.DEVNULL,
                         env=_clean_env())
    _SERVERS.append(p)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                if resp.read() == b"ok":
                    return p
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.2)
    raise AssertionError(f"sahih serve did not start: {log.read_text(errors='replace')}")


def make_sahih(binary: Path, base: Path) -> Sahih:
    base.mkdir(parents=True, exist_ok=True)
    s = Sahih(binary, base / "data", base)
    port = free_port()
    s.base_url = f"http://127.0.0.1:{port}"
    r = s.init()
    assert r.returncode == 0, f"sahih init failed:\n{r.describe()}"
    start_server(s, port)
    root = base / "root.pem"
    r = s.run("ca", "export", "-o", root, "--data", s.data)
    assert r.returncode == 0 and root.exists(), f"sahih ca export failed:\n{r.describe()}"
    assert b"-----BEGIN CERTIFICATE-----" in root.read_bytes(), "exported root is not PEM"
    s.root_pem = root
    nss = base / "nss"
    nss.mkdir()
    for cmd in (["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
                ["certutil", "-A", "-d", f"sql:{nss}", "-n", "sahih-root", "-t", "C,C,C", "-i", root]):
        rr = run(cmd, timeout=60)
        assert rr.returncode == 0, f"NSS setup failed:\n{rr.describe()}"
    s.nssdir = nss
    return s


@pytest.fixture(scope="module")
def sahih(sahih_bin, tmp_path_factory) -> Sahih:
    """A fresh data directory for this test module, with the root exported and NSS set up."""
    return make_sahih(sahih_bin, tmp_path_factory.mktemp("sahih"))


@pytest.fixture(scope="module")
def official(sahih) -> Official:
    """The default official (RSA-2048) with the sample NIK/NIP."""
    return sahih.enroll(nik="3171012501850003", nip="198501252010011003")


def copy_to(src: Path, dst_dir: Path, name: str | None = None) -> Path:
    dst = dst_dir / (name or src.name)
    shutil.copyfile(src, dst)
    return dst
