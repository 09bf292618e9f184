#!/bin/sh
# Usage: make_cert.sh DIR
# Creates DIR/cert.pem and DIR/key.pem: a self-signed EC P-256 certificate
# for CN=localhost, with subjectAltName DNS:localhost and IP:127.0.0.1, valid
# for 1 day. The certificate is its own CA (basicConstraints CA:TRUE and
# keyUsage keyCertSign), so clients can trust it directly as a CA file, for
# example libcurl's CURLOPT_CAINFO or curl --cacert. OpenSSL 3 doesn't accept
# a leaf without CA:TRUE as a trust anchor.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

# Use a config of our own so the system openssl.cnf (its default extension
# sections) can't add extensions, change them, or duplicate them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = v3
prompt = no
[dn]
CN = localhost
[v3]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
EOF

# Keep quiet; show openssl's output only if it fails.
if ! openssl req -x509 -config "$tmp/openssl.cnf" \
        -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 1 -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    exit 1
fi
chmod 600 "$dir/key.pem"
