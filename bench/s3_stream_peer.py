#!/usr/bin/env python3
"""The peer of crates/store/tests/blob_s3_large.rs for BENCHMARKS.md: boto3's managed transfer
(upload_file / download_file, multipart, the AWS CLI's engine) moves the same 1 GiB file through
the same moto server. Prints seconds and this process's peak RSS.

    bench/s3_stream_peer.py FILE URL   (URL of a running moto_server without authentication)"""

import resource
import sys
import time

import boto3

path, url = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="peer", aws_secret_access_key="peer")
s3.create_bucket(Bucket="peer")
start = time.monotonic()
s3.upload_file(path, "peer", "gib.bin")
s3.download_file("peer", "gib.bin", path + ".back")
elapsed = time.monotonic() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"boto3 1 GiB up and down: {elapsed:.1f} s, peak RSS {peak_kib / 1024:.0f} MB")
