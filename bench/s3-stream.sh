#!/usr/bin/env bash
# 1 GiB through S3 (moto) and back: Sahih's streaming blob store (the test
# crates/store/tests/blob_s3_large.rs, which prints time and peak RSS) next to boto3's managed
# transfer (bench/s3_stream_peer.py) on the same kind of moto server, one after the other.
# Usage: bash bench/s3-stream.sh   (needs the test venv: .venv/bin/moto_server, boto3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q -p sahih-store --test blob_s3_large -- --nocapture 2>&1 | grep "1 GiB through S3"
W=$(mktemp -d)
trap 'kill $moto 2>/dev/null; rm -rf "$W"' EXIT
head -c 1073741824 /dev/urandom > "$W/gib.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.2; done
.venv/bin/python bench/s3_stream_peer.py "$W/gib.bin" "http://127.0.0.1:$port"
