#!/bin/sh
# Regenerates the TLS test certificates of @seed/sockets with openssl (1.1.1 or 3.x).
#
#   sh tests/testdata/make_certs.sh [output-directory]
#
# Writes into tests/testdata/ by default. Every certificate is valid for 10 years from
# now, except expired.pem (valid from 2020-01-01 to 2021-01-01). Keys are ECDSA P-256
# in PKCS#8 PEM, which Deno (rustls), node:tls and openssl all read.
set -eu

out="${1:-$(dirname "$0")}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM
days=3650

key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# ca NAME COMMON_NAME: a self-signed certificate authority.
ca() {
  key "$out/$1.key"
  openssl req -x509 -new -key "$out/$1.key" -sha256 -days "$days" \
    -subj "/O=seed-sockets tests/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/$1.pem"
}

# leaf NAME COMMON_NAME ISSUER EXTENSIONS [openssl-ca-dates]: a certificate signed by ISSUER.
leaf() {
  key "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "/O=seed-sockets tests/CN=$2" \
    -out "$work/$1.csr"
  printf '%s\n' "$4" > "$work/$1.ext"
  if [ "$#" -ge 5 ]; then
    # openssl x509 cannot backdate before 3.4: openssl ca can, with a throwaway database.
    : > "$work/index.txt"
    cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
[anything]
commonName = supplied
organizationName = optional
CNF
    openssl rand -hex 16 > "$work/serial"
    openssl ca -batch -config "$work/ca.cnf" -notext \
      -cert "$out/$3.pem" -keyfile "$out/$3.key" \
      -extfile "$work/$1.ext" $5 \
      -in "$work/$1.csr" -out "$out/$1.pem" 2>/dev/null
  else
    openssl x509 -req -in "$work/$1.csr" -CA "$out/$3.pem" -CAkey "$out/$3.key" \
      -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$days" \
      -extfile "$work/$1.ext" -out "$out/$1.pem" 2>/dev/null
  fi
}

server_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'
client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:test-client'

ca ca "seed-sockets Test CA"
leaf server localhost ca "$server_ext"
leaf client test-client ca "$client_ext"
leaf expired localhost ca "$server_ext" "-startdate 20200101000000Z -enddate 20210101000000Z"
leaf other_name other.example ca 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:other.example'

ca untrusted_ca "seed-sockets Untrusted CA"
leaf untrusted_server localhost untrusted_ca "$server_ext"
leaf untrusted_client untrusted-client untrusted_ca "$client_ext"

# PFX (PKCS#12) exports of the client and server certificates, password "seed-sockets":
# the modern encryption (PBES2, AES-256-CBC, SHA-256 MAC: OpenSSL 3's default, Windows'
# AES256_SHA256) with the CA bundled as Windows' BuildChain does, and the legacy one (3DES key,
# RC2-40 certificates, SHA-1 MAC: `openssl pkcs12 -legacy`, close to Windows' TripleDES_SHA1).
# OpenSSL 3 needs -legacy for RC2; 1.1.1 has no such flag and needs none.
legacy=""
if openssl pkcs12 -help 2>&1 | grep -q -- '-legacy'; then legacy="-legacy"; fi
# pfx NAME FILE OPTIONS...: NAME.pem and NAME.key exported to FILE.
pfx() {
  name="$1" file="$2"
  shift 2
  openssl pkcs12 -export -in "$out/$name.pem" -inkey "$out/$name.key" -name "$name" \
    -passout pass:seed-sockets -out "$out/$file" "$@"
}
pfx client client.pfx -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 \
  -certfile "$out/ca.pem"
pfx server server.pfx -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256
# shellcheck disable=SC2086
pfx client client_legacy.pfx $legacy -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-RC2-40 -macalg sha1

echo "Wrote test certificates to $out"
