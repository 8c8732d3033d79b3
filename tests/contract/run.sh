#!/usr/bin/env bash
# The API contract, fuzzed: schemathesis (PyPI, pinned, in a virtual environment this script
# makes) against the debug server with the demo partnership, every check on, bounded in time.
# Signs in as the demo's programme manager (a TOTP code from the demo's published key) and
# passes the bearer token. Fails when schemathesis finds anything.
# Environment: CONTRACT_MAX_TIME (seconds of fuzzing, default 150), CONTRACT_VENV (default
# target/contract-venv), LCSPR_BIN (default target/debug/lcspr-tracker).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

SCHEMATHESIS_VERSION=4.32.5
VENV="${CONTRACT_VENV:-$ROOT/target/contract-venv}"
BIN="${LCSPR_BIN:-$ROOT/target/debug/lcspr-tracker}"
MAX_TIME="${CONTRACT_MAX_TIME:-150}"

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "Installing schemathesis $SCHEMATHESIS_VERSION in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ ! -x "$BIN" ]; then
  echo "No debug binary yet; building it"
  cargo build --bin lcspr-tracker
fi

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
: > "$TMP/lcspr.db"
export DATABASE_URL="sqlite://$TMP/lcspr.db"
export LCSPR_CONFIG_DIR="$TMP/config"
export LCSPR__SERVICE__BASE_URL="$BASE"
export LCSPR__JOBS__ENABLED=false
export LCSPR__MAIL__OUTBOX_DIR="$TMP/outbox"
export LCSPR__DOCUMENTS__DIR="$TMP/documents"
export RUST_LOG="${RUST_LOG:-warn}"

(cd "$TMP" && "$BIN" demo > /dev/null)
(cd "$TMP" && exec "$BIN" serve --bind "127.0.0.1:$PORT") > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$BASE/api/v1/openapi.json" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log"; echo "FAIL: the server stopped" >&2; exit 1; }
  sleep 0.2
done

# The demo programme manager's token (two-step verification: RFC 6238 from the demo's key).
TOKEN="$(python3 - "$BASE" <<'PY'
import base64, hashlib, hmac, json, struct, sys, time, urllib.request
secret = base64.b32decode("DEMOLCSPRTRACKERDEMOLCSPRTRACKER")
step = int(time.time()) // 30
mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
o = mac[-1] & 0x0F
code = "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)
body = json.dumps({"email": "pm@demo.example", "password": "demo-password-2026", "otp": code}).encode()
req = urllib.request.Request(sys.argv[1] + "/api/v1/auth/token", body, {"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])
PY
)"

# Signing out would revoke the token the run uses; everything else is fuzzed but the outbox
# retry: schemathesis 4.32.5 fails inside its own data generation on it (an internal KeyError,
# every run), and it is an administrator's operation the programme manager is refused (403,
# tested in tests/it). 422 is a valid
# answer to data the schema accepts: dates are checked against today and each other, and an
# event against the case's history, which no schema can state (schemathesis.toml).
cd tests/contract
# A JSON null, number or one-item list in a multipart text field reaches the API as plain text
# it must accept; hooks.py leaves such cases out (its docstring says why and what stays fuzzed).
export SCHEMATHESIS_HOOKS="$ROOT/tests/contract/hooks.py"
fuzz() {
  "$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $TOKEN" \
    --exclude-path /api/v1/auth/logout \
    --exclude-path '/api/v1/admin/outbox/{id}/retry' \
    --max-time "$MAX_TIME" \
    --max-examples 20 \
    --workers 2 \
    --request-timeout 20 \
    --suppress-health-check all \
    --generation-database :memory: \
    --report junit --report-dir "$TMP/report"
}
set +e
fuzz
status=$?
if [ "$status" -ne 0 ]; then
  # schemathesis itself sometimes fails inside its own data generation (an internal KeyError on
  # one operation was seen): one fresh run more. A finding about the API shows again.
  echo "--- schemathesis exited $status; running it once more to tell a finding from its own error"
  fuzz
  status=$?
fi
set -e
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines)"
  tail -n 50 "$TMP/server.log"
  echo "FAIL: schemathesis found problems (exit $status)" >&2
  exit "$status"
fi
echo "contract: schemathesis found nothing"
