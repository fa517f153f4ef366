"""The audit chain's TSA anchors pin it (issue 20): someone who can write the database cannot
rewrite history, drop the anchors, truncate the tail or slip in a token from another TSA
without `sahih audit verify` naming it. Each attack is made directly in the database, on SQLite
and on PostgreSQL; anchors are made every second and must cover entries older than two.
"""
from __future__ import annotations

import hashlib
import struct
import subprocess
import time

import pytest

from ecs_support import BACKENDS, http, make_deployment

FAST_ANCHORS = {"audit_anchor_secs": 1, "audit_anchor_grace_secs": 1}


@pytest.fixture(scope="module")
def foreign(sahih_bin, tmp_path_factory):
    """Another installation, with its own CA and TSA."""
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp("lain"), "sqlite")
    yield d
    d.close()


@pytest.fixture(params=BACKENDS)
def dep(request, sahih_bin, tmp_path_factory):
    d = make_deployment(sahih_bin, tmp_path_factory.mktemp(f"anchors-{request.param}"),
                        request.param, config_edits=FAST_ANCHORS)
    for i in range(4):
        d.add_client(f"aplikasi-{i}")
    wait_anchored(d)
    yield d
    d.close()


def head(dep) -> tuple[int, str]:
    seq, hash_ = dep.sql("SELECT seq, hash FROM audit_head").split("|")
    return int(seq), hash_


def anchored_seqs(dep) -> list[int]:
    out = dep.sql("SELECT seq FROM audit_anchors ORDER BY seq")
    return [int(x) for x in out.split()] if out else []


def wait_anchored(dep):
    """Until the server has anchored the current head."""
    for _ in range(100):
        seqs = anchored_seqs(dep)
        if seqs and seqs[-1] == head(dep)[0]:
            return
        time.sleep(0.2)
    raise AssertionError(f"head {head(dep)} never anchored: {anchored_seqs(dep)}")


def stop_anchoring(dep):
    """The attacker's changes are made with the servers down (else they would anchor them)."""
    for s in dep.servers:
        s.stop()
    dep.servers.clear()


def token_hex(dep, seq: int) -> str:
    fn = "hex(token_der)" if dep.backend == "sqlite" else "encode(token_der, 'hex')"
    return dep.sql(f"SELECT {fn} FROM audit_anchors WHERE seq = {seq}").lower()


def set_token(dep, seq: int, hex_: str):
    value = f"X'{hex_}'" if dep.backend == "sqlite" else f"decode('{hex_}', 'hex')"
    dep.sql(f"UPDATE audit_anchors SET token_der = {value} WHERE seq = {seq}")


def verify(dep):
    return dep.run("audit", "verify")


def assert_named(dep, seq: int, words: str):
    r = verify(dep)
    assert r.returncode == 1, r.describe()
    assert f"#{seq}" in r.stderr and words in r.stderr, r.describe()


def entry_hash(prev: str, seq: int, at_micros: int, action, actor, client, document, result,
               detail) -> str:
    """The chain's hash, as docs/ARCHITECTURE.md describes it (an attacker can recompute it)."""
    h = hashlib.sha256()
    for field in (b"sahih-audit-v1", prev.encode(), struct.pack(">q", seq),
                  struct.pack(">q", at_micros), action.encode(), actor.encode(),
                  (client or "\0").encode(), (document or "\0").encode(), result.encode(),
                  detail.encode()):
        h.update(struct.pack(">Q", len(field)))
        h.update(field)
    return h.hexdigest()


def rewrite_from(dep, seq: int, new_detail: str):
    """Edits entry `seq` and rehashes it and every later entry, and the head: a consistent
    forgery of the chain itself."""
    rows = dep.sql("SELECT seq, at_micros, action, actor, coalesce(client, ''), "
                   "coalesce(document_sha256, ''), result, detail, prev_hash "
                   "FROM audit_log ORDER BY seq").splitlines()
    prev = None
    for row in rows:
        s, at, action, actor, client, document, result, detail, prev_hash = row.split("|")
        s, at = int(s), int(at)
        if s < seq:
            prev = dep.sql(f"SELECT hash FROM audit_log WHERE seq = {s}")
            continue
        if s == seq:
            detail = new_detail
        prev = prev or prev_hash
        h = entry_hash(prev, s, at, action, actor, client or None, document or None, result, detail)
        escaped = detail.replace("'", "''")
        dep.sql(f"UPDATE audit_log SET detail = '{escaped}', prev_hash = '{prev}', hash = '{h}' "
                f"WHERE seq = {s}")
        prev = h
    last = int(rows[-1].split("|")[0])
    dep.sql(f"UPDATE audit_head SET seq = {last}, hash = '{prev}'")


def test_an_intact_chain_is_pinned_by_its_own_tsa(dep):
    r = verify(dep)
    assert r.returncode == 0, r.describe()
    assert "TSA instansi ini" in r.stdout and "cocok dengan berkas saksi" in r.stdout, r.stdout
    witness = (dep.sahih.data / "audit-witness.log").read_text().split()
    assert str(anchored_seqs(dep)[-1]) in witness
    assert (dep.sahih.data / "audit-witness.log").stat().st_mode & 0o077 == 0


def test_a_token_from_another_tsa_or_a_garbled_one_is_named(dep, foreign, tmp_path):
    stop_anchoring(dep)
    seq = anchored_seqs(dep)[-1]
    hash_ = dep.sql(f"SELECT hash FROM audit_anchors WHERE seq = {seq}")
    original = token_hex(dep, seq)
    # The other installation's TSA stamps exactly the anchored hash: a well-formed token
    # whose signature and imprint are right, from the wrong TSA.
    query, reply, token = tmp_path / "q.tsq", tmp_path / "r.tsr", tmp_path / "t.der"
    subprocess.run(["openssl", "ts", "-query", "-digest", hash_, "-sha256", "-cert", "-out", query],
                   check=True, capture_output=True)
    r = http("POST", foreign.servers[0].url + "/tsa", data=query.read_bytes(),
             content_type="application/timestamp-query")
    assert r.status == 200
    reply.write_bytes(r.body)
    subprocess.run(["openssl", "ts", "-reply", "-in", reply, "-token_out", "-out", token],
                   check=True, capture_output=True)
    set_token(dep, seq, token.read_bytes().hex())
    assert_named(dep, seq, "bukan dari TSA instansi ini")
    # Our own token with its signature's last byte changed. (A byte inside the extra
    # certificates a token carries is not signed, and rightly changes nothing.)
    garbled = bytearray.fromhex(original)
    garbled[-1] ^= 0x01
    set_token(dep, seq, garbled.hex())
    assert_named(dep, seq, "tidak cocok")
    set_token(dep, seq, original)
    assert verify(dep).returncode == 0


def test_deleted_anchors_and_a_rewritten_chain_are_caught_by_the_witness(dep):
    stop_anchoring(dep)
    first = anchored_seqs(dep)[0]
    dep.sql("DELETE FROM audit_anchors")
    assert_named(dep, first, "berkas saksi")
    # The chain itself rewritten consistently (an edit, every later hash and the head).
    rewrite_from(dep, 2, "client=bukan-yang-sebenarnya")
    assert_named(dep, first if first >= 2 else 2, "berkas saksi")


def test_without_the_witness_an_old_unanchored_stretch_is_named(dep):
    """Someone who also removed the witness file (it should be copied off the host) still
    cannot present a rewritten chain as intact: entries past the grace period need anchors."""
    stop_anchoring(dep)
    dep.sql("DELETE FROM audit_anchors")
    rewrite_from(dep, 2, "client=bukan-yang-sebenarnya")
    (dep.sahih.data / "audit-witness.log").unlink()
    time.sleep(2.5)  # older than interval + grace (1 s + 1 s)
    assert_named(dep, 1, "belum dikunci cap waktu TSA")


def test_a_truncated_tail_is_caught(dep):
    """Deleting the newest entries, moving the head back and dropping the anchors that covered
    them leaves a chain that is consistent in itself; the witness still names the anchor."""
    for i in range(3):
        dep.add_client(f"tambahan-{i}")
    wait_anchored(dep)
    stop_anchoring(dep)
    seqs = anchored_seqs(dep)
    last, keep = seqs[-1], seqs[0]
    dep.sql(f"DELETE FROM audit_log WHERE seq > {keep}")
    kept_hash = dep.sql(f"SELECT hash FROM audit_log WHERE seq = {keep}")
    dep.sql(f"UPDATE audit_head SET seq = {keep}, hash = '{kept_hash}'")
    dep.sql(f"DELETE FROM audit_anchors WHERE seq > {keep}")
    r = verify(dep)
    assert r.returncode == 1, r.describe()
    assert "berkas saksi" in r.stderr, r.describe()
    named = [s for s in seqs if s > keep and f"#{s}" in r.stderr]
    assert named, (seqs, keep, last, r.stderr)
