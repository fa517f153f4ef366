#!/usr/bin/env bash
# Sourced by the benchmarks: an RSA-2048 signer under an RSA-3072 two-level chain made with
# OpenSSL for the pyHanko peer (Sahih never exports keys). Needs $W; sets PEER=(...).
P="$W/peer"; mkdir -p "$P"
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$P/root.key" -out "$P/root.pem" -days 3650 \
  -subj "/CN=Peer Root/O=Peer/C=ID" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout "$P/ca.key" -out "$P/ca.csr" -subj "/CN=Peer CA/O=Peer/C=ID" 2>/dev/null
printf "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n" > "$P/ca.ext"
openssl x509 -req -in "$P/ca.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -CAcreateserial -days 3650 \
  -extfile "$P/ca.ext" -out "$P/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$P/signer.key" -out "$P/signer.csr" -subj "/CN=Peer Signer/O=Peer/C=ID" 2>/dev/null
printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n" > "$P/signer.ext"
openssl x509 -req -in "$P/signer.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 700 \
  -extfile "$P/signer.ext" -out "$P/signer.pem" 2>/dev/null
PEER=(--key "$P/signer.key" --cert "$P/signer.pem" --chain "$P/ca.pem" --root "$P/root.pem")
