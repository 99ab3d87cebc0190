# A private CA and the certificates, keys and credentials the test registries use.
# Everything lives under $REGISTRIES_DIR so that tests can read it; nothing is
# regenerated while it is still valid (re-runs keep the same CA and password).
# shellcheck shell=bash

REGISTRIES_DIR="$STATE_DIR/registries"
TLS_DIR="$REGISTRIES_DIR/tls"
AUTH_DIR="$REGISTRIES_DIR/auth"
TEST_HOST=registry.test
# The names a client may use for the TLS registries; the server certificate covers all.
SERVER_SANS="DNS:$TEST_HOST,DNS:localhost,IP:127.0.0.1"
TEST_USER=repro-test
READONLY_USER=repro-reader

# cert_valid CERT : the certificate exists and is valid for at least another 30 days.
cert_valid() {
  [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend $((30 * 86400)) >/dev/null 2>&1
}

new_ec_key() {  # new_ec_key KEY
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# self_signed BASE CN EXTENSION_ARGS... : BASE.key and a 10-year self-signed BASE.crt.
self_signed() {
  local base=$1 cn=$2; shift 2
  new_ec_key "$base.key"
  openssl req -x509 -new -key "$base.key" -sha256 -days 3650 -subj "/O=repro tests/CN=$cn" \
    "$@" -out "$base.crt" 2>/dev/null
}

ensure_ca() {
  if cert_valid "$TLS_DIR/ca.crt" && [ -s "$TLS_DIR/ca.key" ]; then
    info "private CA exists ($TLS_DIR/ca.crt)"
    return 0
  fi
  info "generating a private CA ($TLS_DIR/ca.crt)"
  self_signed "$TLS_DIR/ca" "repro test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  # A new CA invalidates every leaf it did not sign.
  rm -f "$TLS_DIR"/server.crt "$TLS_DIR"/wrong-name.crt "$TLS_DIR"/expired.crt
}

# leaf_extensions SANS : an x509v3 extension file for a TLS server certificate.
leaf_extensions() {
  local ext; ext=$(mktemp)
  cat > "$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EXT
  echo "$ext"
}

# issue_leaf NAME CN SANS : $TLS_DIR/NAME.{key,crt}, signed by the CA, valid 2 years.
issue_leaf() {
  local name=$1 cn=$2 sans=$3 ext csr
  if cert_valid "$TLS_DIR/$name.crt" && [ -s "$TLS_DIR/$name.key" ]; then return 0; fi
  info "issuing $TLS_DIR/$name.crt ($sans)"
  ext=$(leaf_extensions "$sans"); csr=$(mktemp)
  new_ec_key "$TLS_DIR/$name.key"
  openssl req -new -key "$TLS_DIR/$name.key" -subj "/O=repro tests/CN=$cn" -out "$csr" 2>/dev/null
  openssl x509 -req -in "$csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -CAserial "$TLS_DIR/ca.srl" -sha256 -days 730 -extfile "$ext" \
    -out "$TLS_DIR/$name.crt" 2>/dev/null
  rm -f "$ext" "$csr"
}

# A certificate for the right names that expired in 2020: `openssl x509` cannot backdate,
# `openssl ca` can (-startdate/-enddate), given a throwaway database.
issue_expired_leaf() {
  [ -s "$TLS_DIR/expired.crt" ] && [ -s "$TLS_DIR/expired.key" ] && return 0
  info "issuing $TLS_DIR/expired.crt (expired 2020-01-02)"
  local work ext
  work=$(mktemp -d); ext=$(leaf_extensions "$SERVER_SANS")
  touch "$work/index.txt"; echo 1000 > "$work/serial"
  cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
certificate = $TLS_DIR/ca.crt
private_key = $TLS_DIR/ca.key
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
organizationName = optional
CNF
  new_ec_key "$TLS_DIR/expired.key"
  openssl req -new -key "$TLS_DIR/expired.key" -subj "/O=repro tests/CN=$TEST_HOST" \
    -out "$work/req.csr" 2>/dev/null
  openssl ca -batch -config "$work/ca.cnf" -notext -startdate 20200101000000Z \
    -enddate 20200102000000Z -extfile "$ext" -in "$work/req.csr" \
    -out "$TLS_DIR/expired.crt" >/dev/null 2>&1 || die "could not issue the expired certificate"
  rm -rf "$work" "$ext"
}

# The key whose certificate the token registry trusts (rootcertbundle) and the token
# issuer in tests/support signs JWTs with. Self-signed: the bundle holds exactly it.
ensure_token_signing_key() {
  if cert_valid "$AUTH_DIR/token-signing.crt" && [ -s "$AUTH_DIR/token-signing.key" ]; then
    return 0
  fi
  info "generating the token signing key ($AUTH_DIR/token-signing.crt)"
  self_signed "$AUTH_DIR/token-signing" "repro test token issuer" \
    -addext "keyUsage=critical,digitalSignature"
}

# Credentials: a random password per machine, kept in credentials.json (0600) for tests;
# htpasswd holds their bcrypt hashes for the htpasswd registry.
ensure_credentials() {
  apt_install apache2-utils
  local creds="$AUTH_DIR/credentials.json"
  if [ ! -s "$creds" ]; then
    info "generating test credentials ($creds)"
    local password reader_password
    password=$(openssl rand -hex 16); reader_password=$(openssl rand -hex 16)
    (umask 077; cat > "$creds" <<JSON
{
  "username": "$TEST_USER",
  "password": "$password",
  "readonly_username": "$READONLY_USER",
  "readonly_password": "$reader_password"
}
JSON
)
    rm -f "$AUTH_DIR/htpasswd"
  fi
  if [ ! -s "$AUTH_DIR/htpasswd" ]; then
    local user pass
    user=$(json_field "$creds" username); pass=$(json_field "$creds" password)
    htpasswd -Bbn "$user" "$pass" > "$AUTH_DIR/htpasswd"
    user=$(json_field "$creds" readonly_username); pass=$(json_field "$creds" readonly_password)
    htpasswd -Bbn "$user" "$pass" >> "$AUTH_DIR/htpasswd"
    chmod 600 "$AUTH_DIR/htpasswd"
  fi
}

json_field() {  # json_field FILE KEY
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

ensure_tls_material() {
  mkdir -p "$TLS_DIR" "$AUTH_DIR"
  chmod 700 "$TLS_DIR" "$AUTH_DIR"
  ensure_ca
  issue_leaf server "$TEST_HOST" "$SERVER_SANS"
  issue_leaf wrong-name other.test "DNS:other.test"
  issue_expired_leaf
  ensure_token_signing_key
  ensure_credentials
  # A directory holding the CA alone, for `skopeo --cert-dir` and the like (tls/ has keys).
  install_if_changed "$TLS_DIR/ca.crt" "$REGISTRIES_DIR/ca/ca.crt"
  # Keys and passwords stay root's (tests run as root); logs and the CA may be read by all.
  chmod 755 "$REGISTRIES_DIR" "$REGISTRIES_DIR/ca"
  info "TLS material ready in $TLS_DIR, credentials in $AUTH_DIR/credentials.json"
}

# /etc/hosts: registry.test -> 127.0.0.1, so clients take the non-loopback path.
ensure_hosts_entry() {
  if grep -Eq "^[[:space:]]*127\.0\.0\.1[[:space:]]+([^#]*[[:space:]])?$TEST_HOST([[:space:]]|$)" /etc/hosts; then
    info "/etc/hosts maps $TEST_HOST to 127.0.0.1"
    return 0
  fi
  info "adding '127.0.0.1 $TEST_HOST' to /etc/hosts"
  printf '127.0.0.1 %s\n' "$TEST_HOST" >> /etc/hosts
}

# install_if_changed SRC DEST : copy only when the content differs.
install_if_changed() {
  mkdir -p "$(dirname "$2")"
  cmp -s "$1" "$2" || cp "$1" "$2"
}

# Docker (certs.d/<host:port>/ca.crt) and skopeo/podman (/etc/containers/certs.d) trust
# the private CA for each TLS registry address. Both read these per request: no restart.
ensure_ca_trust() {  # ensure_ca_trust PORT...
  local port host
  for port in "$@"; do
    for host in "$TEST_HOST" localhost 127.0.0.1; do
      install_if_changed "$TLS_DIR/ca.crt" "/etc/docker/certs.d/$host:$port/ca.crt"
      install_if_changed "$TLS_DIR/ca.crt" "/etc/containers/certs.d/$host:$port/ca.crt"
    done
  done
  info "docker and skopeo trust the private CA for $TEST_HOST, localhost, 127.0.0.1 on ports $*"
}
