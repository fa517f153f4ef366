"""A tiny PDF writer for hostile test files: exact control over object numbers, duplicate
definitions, cross-reference tables or streams, object streams and incremental updates.

Only what the attack generators need; every byte is written here so an attack is exactly the
one described, not whatever a library chose to emit.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

TABLE = "table"
STREAM = "stream"


def obj(num: int, body: bytes, gen: int = 0) -> bytes:
    return b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n"


def stream_body(dict_entries: bytes, data: bytes) -> bytes:
    return b"<< " + dict_entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


@dataclass
class Entry:
    kind: str  # "n" (offset), "c" (container, index), "f" (free)
    a: int = 0
    b: int = 0


@dataclass
class Trailer:
    root: int
    size: int
    info: int | None = None
    startxref: int = 0
    kind: str = TABLE


def last_trailer(data: bytes) -> Trailer:
    """Root, Size, Info and the kind of the newest cross-reference section."""
    m = list(re.finditer(rb"startxref\s+(\d+)", data))
    if not m:
        raise ValueError("no startxref")
    start = int(m[-1].group(1))
    head = data[start:start + 8]
    if head.startswith(b"xref"):
        t = data.index(b"trailer", start)
        d = data[t:data.index(b"startxref", t)]
        kind = TABLE
    else:
        d = data[start:data.index(b"stream", start)]
        kind = STREAM
    root = int(re.search(rb"/Root\s+(\d+)\s+\d+\s+R", d).group(1))
    size = int(re.search(rb"/Size\s+(\d+)", d).group(1))
    info = re.search(rb"/Info\s+(\d+)\s+\d+\s+R", d)
    return Trailer(root, size, int(info.group(1)) if info else None, start, kind)


def offsets_of(data: bytes, num: int) -> list[int]:
    """Every offset where "num 0 obj" is written (all definitions, in file order)."""
    return [m.start() for m in re.finditer(rb"(?<![0-9])%d 0 obj" % num, data)]


def consecutive_runs(entries: dict[int, Entry]) -> list[list[int]]:
    """Object numbers grouped into runs of consecutive numbers (one xref subsection each)."""
    runs: list[list[int]] = []
    for n in sorted(entries):
        if runs and runs[-1][-1] + 1 == n:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def xref_table(entries: dict[int, Entry], trailer: bytes) -> bytes:
    out = [b"xref\n"]
    for run in consecutive_runs(entries):
        out.append(b"%d %d\n" % (run[0], len(run)))
        for n in run:
            e = entries[n]
            if e.kind == "n":
                out.append(b"%010d %05d n \n" % (e.a, e.b))
            else:
                out.append(b"%010d %05d f \n" % (0, 65535 if n == 0 else 1))
    out.append(b"trailer\n" + trailer + b"\n")
    return b"".join(out)


def xref_stream(num: int, entries: dict[int, Entry], trailer_entries: bytes) -> bytes:
    runs = consecutive_runs(entries)
    rows = []
    for run in runs:
        for n in run:
            e = entries[n]
            t = {"f": 0, "n": 1, "c": 2}[e.kind]
            rows.append(bytes([t]) + e.a.to_bytes(4, "big") + e.b.to_bytes(2, "big"))
    index = b" ".join(b"%d %d" % (r[0], len(r)) for r in runs)
    data = zlib.compress(b"".join(rows))
    return obj(num, stream_body(b"/Type /XRef /W [1 4 2] /Index [" + index + b"] "
                                + trailer_entries + b" /Filter /FlateDecode", data))


def object_stream(num: int, members: list[tuple[int, bytes]]) -> bytes:
    header = []
    body = b""
    for n, b in members:
        header.append(b"%d %d" % (n, len(body)))
        body += b + b"\n"
    head = b" ".join(header) + b"\n"
    data = head + body
    return obj(num, stream_body(b"/Type /ObjStm /N %d /First %d" % (len(members), len(head)), data))


@dataclass
class Doc:
    """A whole file: definitions in file order (duplicates allowed; the xref names the last
    one unless `point` says otherwise)."""
    defs: list[tuple[int, bytes]] = field(default_factory=list)
    version: str = "1.7"

    def add(self, num: int, body: bytes) -> None:
        self.defs.append((num, body))

    def build(self, kind: str, root: int, *, info: int | None = None,
              in_objstm: list[int] = (), objstm_num: int | None = None,
              extra_objstm: list[tuple[int, list[tuple[int, bytes]]]] = (),
              point: dict[int, int] | None = None, undefined: list[int] = ()) -> bytes:
        """`point`: object number -> index into that number's definitions (0 = first)."""
        out = b"%PDF-" + self.version.encode() + b"\n%\xe2\xe3\xcf\xd3\n"
        entries: dict[int, Entry] = {0: Entry("f")}
        seen: dict[int, list[int]] = {}
        packed = [(n, b) for n, b in self.defs if n in in_objstm]
        for n, b in self.defs:
            if n in in_objstm:
                continue
            seen.setdefault(n, []).append(len(out))
            out += obj(n, b)
        for n, offs in seen.items():
            i = (point or {}).get(n, -1)
            entries[n] = Entry("n", offs[i])
        if packed:
            assert kind == STREAM and objstm_num is not None
            entries[objstm_num] = Entry("n", len(out))
            out += object_stream(objstm_num, packed)
            for i, (n, _) in enumerate(packed):
                entries[n] = Entry("c", objstm_num, i)
        for cnum, members in extra_objstm:
            entries[cnum] = Entry("n", len(out))
            out += object_stream(cnum, members)
        for n in undefined:
            entries[n] = Entry("f")
        size = max(max(entries), *(undefined or [0])) + 1
        tr = b"/Root %d 0 R" % root + (b" /Info %d 0 R" % info if info else b"")
        start = len(out)
        if kind == TABLE:
            out += xref_table(entries, b"<< /Size %d " % size + tr + b" >>")
        else:
            xnum = size
            entries[xnum] = Entry("n", start)
            out += xref_stream(xnum, entries, b"/Size %d " % (xnum + 1) + tr)
        out += b"startxref\n%d\n%%%%EOF\n" % start
        return out


def append_revision(data: bytes, objs: list[tuple[int, bytes]], *, kind: str | None = None,
                    entries: dict[int, Entry] | None = None, prev: int | None | bool = True,
                    root: int | None = None, info: int | None = None,
                    extra_trailer: bytes = b"") -> bytes:
    """An incremental update: `objs` appended, plus explicit `entries` (re-pointing, freeing).
    `prev=False` writes a section without /Prev; an int names another /Prev."""
    t = last_trailer(data)
    kind = kind or t.kind
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    ents: dict[int, Entry] = dict(entries or {})
    for n, b in objs:
        ents[n] = Entry("n", len(out))
        out += obj(n, b)
    size = max([t.size, *(n + 1 for n in ents)])
    tr = b"/Root %d 0 R" % (root or t.root)
    if info or t.info:
        tr += b" /Info %d 0 R" % (info or t.info)
    if prev is True:
        tr += b" /Prev %d" % t.startxref
    elif isinstance(prev, int) and prev is not False:
        tr += b" /Prev %d" % prev
    tr += extra_trailer
    start = len(out)
    if kind == TABLE:
        out += xref_table(ents, b"<< /Size %d " % size + tr + b" >>")
    else:
        xnum = size
        ents[xnum] = Entry("n", start)
        out += xref_stream(xnum, ents, b"/Size %d " % (xnum + 1) + tr)
    out += b"startxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def object_body(data: bytes, num: int) -> bytes:
    """The body of the newest uncompressed definition of `num` (between "obj" and "endobj")."""
    offs = offsets_of(data, num)
    if not offs:
        raise ValueError(f"object {num} not written uncompressed")
    start = data.index(b"obj", offs[-1]) + 3
    end = data.index(b"endobj", start)
    return data[start:end].strip()


def catalog_body(data: bytes) -> bytes:
    return object_body(data, last_trailer(data).root)
