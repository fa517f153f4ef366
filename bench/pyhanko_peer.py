#!/usr/bin/env python3
"""The same workload as `sahih bench sign|verify`, through pyHanko in-process: the peer numbers
for BENCHMARKS.md. Usage: pyhanko_peer.py sign|verify FILE --key key.pem --cert cert.pem
--chain issuing.pem --root root.pem [--n N]. Prints median / p95 ms and peak RSS."""
import argparse
import io
import resource
import statistics
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def sign_once(data: bytes, signer, timestamper=None, vc=None) -> bytes:
    """B-B, or B-LT when a timestamper and a validation context are given (pyHanko embeds the
    validation info it fetches: our TSA's chain and OCSP/CRL over HTTP)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=vc is not None, validation_context=vc,
        use_pades_lta=False)
    out = signers.sign_pdf(w, meta, signer=signer, timestamper=timestamper,
                           new_field_spec=fields.SigFieldSpec("Signature1", box=(340, 36, 560, 116)))
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["sign", "verify"])
    ap.add_argument("file")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--chain", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--tsa", help="RFC 3161 URL: sign B-LT (timestamp + embedded validation info)")
    ap.add_argument("--tsa-root", help="root certificate of the TSA's chain")
    a = ap.parse_args()
    data = open(a.file, "rb").read()
    signer = signers.SimpleSigner.load(a.key, a.cert, ca_chain_files=(a.chain,))
    times = []
    timestamper, vc = None, None
    if a.tsa:
        from pyhanko.sign.timestamps import HTTPTimeStamper
        timestamper = HTTPTimeStamper(a.tsa)
        roots = [load_cert_from_pemder(a.root)] + ([load_cert_from_pemder(a.tsa_root)] if a.tsa_root else [])
        vc = ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="soft-fail")
    if a.kind == "sign":
        for _ in range(a.n):
            t = time.perf_counter()
            sign_once(data, signer, timestamper, vc)
            times.append((time.perf_counter() - t) * 1000)
    else:
        signed = sign_once(data, signer)
        root = load_cert_from_pemder(a.root)
        for _ in range(a.n):
            t = time.perf_counter()
            r = PdfFileReader(io.BytesIO(signed))
            vc = ValidationContext(trust_roots=[root])
            st = validate_pdf_signature(r.embedded_signatures[0], vc)
            times.append((time.perf_counter() - t) * 1000)
            assert st.bottom_line, st
    times.sort()
    print(f"iterations {a.n}")
    print(f"median {statistics.median(times):.3f} ms")
    print(f"p95 {times[int(round((len(times) - 1) * 0.95))]:.3f} ms")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
