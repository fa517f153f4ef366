"""Deployments of the Sahih server for the ECS API tests, on both storage backends:

- "sqlite": the embedded defaults (sahih.db and documents/ in the data directory);
- "postgres-s3": a fresh PostgreSQL database (from SAHIH_TEST_PG_URL, which scripts/test.sh
  provides) and a bucket on a real S3-compatible server (moto_server from the venv) on loopback.

A deployment is one data directory (config and master key) plus its database and blob store; it
can run several `sahih serve` processes against the same state.
"""

from __future__ import annotations

import base64
import functools
import http.client as httpclient
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import (ORG, PASSPHRASE, REPO, Official, Sahih, _SERVERS, _clean_env, dump_for_sweep,
                      free_port, remember_secret)

BACKENDS = ["sqlite", "postgres-s3"]

S3_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def pg_admin_url() -> str | None:
    return os.environ.get("SAHIH_TEST_PG_URL") or None


def psql(url: str, sql: str) -> str:
    p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, f"psql failed: {p.stderr}"
    return p.stdout


def with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hostpart = rest.split("/", 1)[0]
    return f"{scheme}://{hostpart}/{name}" + (f"?{query}" if query else "")


def moto_binary() -> str | None:
    venv = REPO / ".venv" / "bin" / "moto_server"
    if venv.exists():
        return str(venv)
    return shutil.which("moto_server")


class Moto:
    """A moto S3 server on a free loopback port."""

    def __init__(self):
        binary = moto_binary()
        assert binary, "moto_server not installed (scripts/install-test-deps.sh installs it)"
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _SERVERS.append(self.proc)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("moto_server did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class Deployment:
    backend: str
    sahih: Sahih
    env: dict
    db_url: str | None = None
    db_name: str | None = None
    moto: Moto | None = None
    servers: list = field(default_factory=list)
    credential: str = ""

    # -- commands with this deployment's storage --------------------------------------------

    def run(self, *args, **kw):
        return self.sahih.run(*args, "--data", self.sahih.data, env=self.env, **kw)

    def start_server(self, *, port: int | None = None) -> Server:
        port = port or free_port()
        log = self.sahih.workdir / f"serve-{port}.log"
        env = _clean_env()
        env.update(self.env)
        proc = subprocess.Popen([str(self.sahih.bin), "serve", "--data", str(self.sahih.data),
                                 "--listen", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
                                stdin=subprocess.DEVNULL, env=env)
        _SERVERS.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        s = Server(proc, url, log)
                        self.servers.append(s)
                        return s
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise AssertionError(f"sahih serve did not become ready:\n{log.read_text(errors='replace')}")

    def add_client(self, name: str, *extra) -> str:
        r = self.run("client", "add", name, *extra)
        assert r.returncode == 0, r.describe()
        cred = r.stdout.strip().splitlines()[-1]
        assert cred.startswith(name + ":") and len(cred) > len(name) + 20, cred
        remember_secret(cred.split(":", 1)[1])
        return cred

    def sql(self, statement: str) -> str:
        """Runs SQL directly against the deployment's database (for tamper tests)."""
        if self.backend == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.sahih.data / "sahih.db")
            try:
                cur = con.execute(statement)
                rows = cur.fetchall()
                con.commit()
                return "\n".join("|".join(str(c) for c in row) for row in rows)
            finally:
                con.close()
        return psql(self.db_url, statement).strip()

    def close(self):
        for s in self.servers:
            s.stop()
        if self.moto:
            self.moto.stop()
        if self.db_name and pg_admin_url():
            # Kept for the secrets sweep (test_zz_secrets_sweep.py) before the database goes.
            dump_for_sweep(self.db_url, self.sahih.workdir / f"{self.db_name}.dump.sql")
            psql(pg_admin_url(), f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")


def make_deployment(binary: Path, base: Path, backend: str, *, config_edits: dict | None = None,
                    extra_env: dict | None = None, init_args: tuple = ()) -> Deployment:
    """A fresh data directory on `backend`, initialised, with the default official enrolled.

    `extra_env` (e.g. SOFTHSM2_CONF and SAHIH_HSM_PIN for a PKCS#11 key backend) is part of the
    deployment's environment from the start: `sahih init`, every CLI call and every server."""
    base.mkdir(parents=True, exist_ok=True)
    s = Sahih(binary, base / "data", base)
    port = free_port()
    s.base_url = f"http://127.0.0.1:{port}"
    env: dict = dict(extra_env or {})
    dep = Deployment(backend, s, env)
    if backend == "postgres-s3":
        admin = pg_admin_url()
        if not admin:
            print("\n!!! SKIPPED: postgres-s3 backend (SAHIH_TEST_PG_URL not set) !!!\n", flush=True)
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL not available in CI: SAHIH_TEST_PG_URL is not set")
            pytest.skip("PostgreSQL not available: SAHIH_TEST_PG_URL is not set")
        name = "sahih_e2e_" + uuid.uuid4().hex[:12]
        psql(admin, f"CREATE DATABASE {name}")
        dep.db_name = name
        dep.db_url = with_db(admin, name)
        dep.moto = Moto()
        # `sahih init` creates the bucket (the next check proves it exists).
        bucket = "sahih-" + uuid.uuid4().hex[:8]
        dep.bucket = bucket
        env.update({
            "SAHIH_DATABASE_URL": dep.db_url,
            "SAHIH_BLOB_URL": f"s3://{bucket}/docs?endpoint={dep.moto.url}&region=us-east-1",
            "AWS_ACCESS_KEY_ID": S3_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        })
    r = s.run("init", "--data", s.data, "--org", ORG, "--base-url", s.base_url, *init_args, env=env)
    assert r.returncode == 0, f"sahih init failed:\n{r.describe()}"
    if dep.moto:
        with urllib.request.urlopen(f"{dep.moto.url}/{dep.bucket}", timeout=10) as resp:
            assert resp.status == 200, "sahih init did not create the S3 bucket"
    if config_edits:
        cfg = s.data / "config.toml"
        text = cfg.read_text()
        for key, value in config_edits.items():
            text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
            assert n == 1, f"config key {key} not found"
        cfg.write_text(text)
    # The enroll helper passes --data; storage comes from the environment.
    s.run = _with_env(s.run, env)
    root = base / "root.pem"
    r = s.run("ca", "export", "-o", root, "--data", s.data)
    assert r.returncode == 0, r.describe()
    s.root_pem = root
    dep.start_server(port=port)
    return dep


def _with_env(run, extra: dict):
    def wrapped(*args, env=None, **kw):
        merged = dict(extra)
        if env:
            merged.update(env)
        return run(*args, env=merged, **kw)
    return wrapped


# -- HTTP ------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_NO_REDIRECT = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, *, credential: str | None = None, json_body=None,
         data: bytes | None = None, content_type: str | None = None, timeout: int = 600,
         headers: dict | None = None, follow: bool = True,
         source_address: tuple[str, int] | None = None) -> Response:
    """One request. With follow=False a redirect is answered as it is (status, Location,
    Set-Cookie), as a browser sees it before following. `source_address` binds the client
    socket (any 127.x.y.z works on loopback), so tests can come from several addresses."""
    headers = dict(headers or {})
    if credential is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(credential.encode()).decode()
    if json_body is not None:
        data = json.dumps(json_body).encode()
        content_type = "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.urlopen if follow else _NO_REDIRECT.open
    if source_address is not None:
        opener = urllib.request.build_opener(_FromAddress(source_address)).open
    try:
        with opener(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


class _FromAddress(urllib.request.HTTPHandler):
    """Plain HTTP from a chosen local address."""

    def __init__(self, source_address: tuple[str, int]):
        super().__init__()
        self.source_address = source_address

    def http_open(self, req):
        return self.do_open(functools.partial(httpclient.HTTPConnection,
                                              source_address=self.source_address), req)


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """multipart/form-data body; files: name -> (filename, bytes, content type), or a list of
    such tuples for a repeated part."""
    boundary = "----sahih" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode()
        out += str(value).encode() + b"\r\n"
    for name, parts in files.items():
        for filename, content, ctype in (parts if isinstance(parts, list) else [parts]):
            out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                    f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
            out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ecs_error(r: Response) -> tuple[int, str]:
    """(error code, error text) parsed the way existing ECS clients parse them: the code ends
    the `error` text."""
    body = r.json()
    assert isinstance(body.get("error"), str), body
    m = re.search(r"(\d{4})\s*$", body["error"])
    assert m, f"no ECS code at the end of the error text: {body}"
    assert body.get("status_code") == r.status, body
    return int(m.group(1)), body["error"]


def enroll_default(dep: Deployment, **kw) -> Official:
    return dep.sahih.enroll(**kw)


__all__ = [
    "BACKENDS", "Deployment", "Moto", "Response", "b64", "ecs_error", "enroll_default", "http",
    "make_deployment", "multipart", "pg_admin_url", "PASSPHRASE",
]


def wait_for(condition, what: str, seconds: float = 30.0):
    """Polls `condition` until it returns something true; fails with `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
