"""One signing pipeline for every door (issue 11): the command line is refused by the
institution's policy exactly as the API is (same message, same audit entry), and every signature
or failed unlock it makes is audited, with the operating-system user as the client
(`cli:<user>`). Runs on SQLite and on PostgreSQL + S3."""

from __future__ import annotations

import hashlib
import json
import os
import pwd

import pytest

from conftest import REPO, assert_no_panic
from ecs_support import BACKENDS, b64, ecs_error, http, make_deployment

# The audit names the account the process runs as, from the system, whatever $USER says.
OS_USER = pwd.getpwuid(os.getuid()).pw_name
FINANCE_TEXT = "Dokumen Pencairan Dana"


@pytest.fixture(scope="module", params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"pipeline-{request.param}"), request.param)
    d.official = d.sahih.enroll()
    d.credential = d.add_client("eoffice")
    r = d.run("policy", "load", REPO / "policies" / "kota-larangan-keuangan.toml")
    assert r.returncode == 0, r.describe()
    yield d
    d.close()


def cli_sign(dep, src, out, *extra, passfile=None):
    return dep.sahih.run("sign", src, "-o", out, "--nik", dep.official.nik, "--level", "B-B",
                         "--passphrase-file", passfile or dep.official.passfile, *extra,
                         "--data", dep.sahih.data, env={**dep.env, "USER": "someone-else", "LOGNAME": "someone-else"})


def audit(dep) -> list[dict]:
    r = dep.run("audit", "export")
    assert r.returncode == 0, r.describe()
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_cli_is_refused_by_policy_exactly_like_the_api(dep, corpus, tmp_path):
    letter = corpus / "libreoffice.pdf"
    api = http("POST", dep.servers[0].url + "/api/v2/sign/pdf", credential=dep.credential,
               json_body={"nik": dep.official.nik, "passphrase": dep.official.passfile.read_text().strip(),
                          "file": [b64(letter.read_bytes())], "kelasDokumen": "dokumen-pencairan"})
    assert api.status == 403, api.body[:300]
    code, api_text = ecs_error(api)
    assert code == 2041 and FINANCE_TEXT in api_text, api_text

    out = tmp_path / "pencairan-ttd.pdf"
    r = cli_sign(dep, letter, out, "--class", "dokumen-pencairan")
    assert_no_panic(r)
    assert r.returncode != 0, f"the CLI signed a class the policy forbids:\n{r.describe()}"
    assert not out.exists(), "a refused signature left an output file"
    cli_text = r.stderr.strip().removeprefix("Galat:").strip()
    assert FINANCE_TEXT in cli_text and "Pasal" in cli_text, r.describe()
    # The same rule, in the same words, through both doors.
    assert cli_text in api_text, f"CLI said {cli_text!r}, the API said {api_text!r}"

    refused = [e for e in audit(dep) if e["action"] == "sign.refused"]
    by_client = {e["client"]: e for e in refused}
    assert {"eoffice", f"cli:{OS_USER}"} <= by_client.keys(), refused
    cli_entry, api_entry = by_client[f"cli:{OS_USER}"], by_client["eoffice"]
    assert cli_entry["detail"] == api_entry["detail"], (cli_entry, api_entry)
    assert cli_entry["actor"] == api_entry["actor"] == f"nik:{dep.official.nik}"
    assert cli_entry["result"] == "refused"


def test_cli_unknown_class_is_refused(dep, corpus, tmp_path):
    out = tmp_path / "x.pdf"
    r = cli_sign(dep, corpus / "libreoffice.pdf", out, "--class", "tidak-ada")
    assert_no_panic(r)
    assert r.returncode != 0 and not out.exists(), r.describe()
    assert "tidak-ada" in r.stderr, r.describe()


def test_cli_signature_is_audited_with_the_os_user(dep, corpus, tmp_path):
    before = len(audit(dep))
    out = tmp_path / "surat-ttd.pdf"
    r = cli_sign(dep, corpus / "libreoffice.pdf", out, "--class", "surat-dinas")
    assert r.returncode == 0 and out.exists(), r.describe()
    new = audit(dep)[before:]
    signs = [e for e in new if e["action"] == "sign"]
    assert len(signs) == 1, new
    entry = signs[0]
    assert entry["client"] == f"cli:{OS_USER}" and entry["actor"] == f"nik:{dep.official.nik}", entry
    assert entry["document_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest(), entry
    assert "class=surat-dinas" in entry["detail"] and "level=B-B" in entry["detail"], entry
    # The policy's default class applies when none is named.
    out2 = tmp_path / "surat-default.pdf"
    r = cli_sign(dep, corpus / "libreoffice.pdf", out2)
    assert r.returncode == 0, r.describe()
    last = [e for e in audit(dep) if e["action"] == "sign"][-1]
    assert "class=surat-dinas" in last["detail"] and last["client"] == f"cli:{OS_USER}", last


def test_cli_wrong_passphrase_is_audited_and_counts_towards_the_lockout(dep, corpus, tmp_path):
    wrong = tmp_path / "salah.txt"
    wrong.write_text("Bukan-Passphrase-2026!\n")
    wrong.chmod(0o600)
    out = tmp_path / "y.pdf"
    r = cli_sign(dep, corpus / "libreoffice.pdf", out, passfile=wrong)
    assert r.returncode != 0 and not out.exists(), r.describe()
    entries = audit(dep)
    wrong_entries = [e for e in entries if e["action"] == "passphrase.wrong"]
    assert wrong_entries and wrong_entries[-1]["client"] == f"cli:{OS_USER}", wrong_entries
    assert "remaining=" in wrong_entries[-1]["detail"]
    # The same counter as the API: the API now reports one attempt fewer than the maximum.
    api = http("POST", dep.servers[0].url + "/api/v2/sign/pdf", credential=dep.credential,
               json_body={"nik": dep.official.nik, "passphrase": "Bukan-Passphrase-2026!",
                          "file": [b64((corpus / "libreoffice.pdf").read_bytes())]})
    assert api.status == 400
    api_entry = [e for e in audit(dep) if e["action"] == "passphrase.wrong"][-1]
    cli_remaining = int(wrong_entries[-1]["detail"].split("remaining=")[1].split()[0])
    api_remaining = int(api_entry["detail"].split("remaining=")[1].split()[0])
    assert api_remaining == cli_remaining - 1, (wrong_entries[-1], api_entry)
    # A right passphrase resets the counter (through either door).
    ok = tmp_path / "z.pdf"
    assert cli_sign(dep, corpus / "libreoffice.pdf", ok).returncode == 0
