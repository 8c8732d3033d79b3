#!/usr/bin/env bash
# Load test of the real server (issue 15): a fresh database with the demo partnership, CASES
# cases seeded through the JSON API by WRITERS concurrent writers (writes a second minute by
# minute, every failure counted), then wrk on the JSON case list and a case (2 and 16
# connections), then the server's resident memory.
#
#   benches/load.sh [sqlite|postgres]
#   env: CASES=10000 WRITERS=8 SEED_SECONDS=(no limit) DURATION=20 WARMUP=3 CONNECTIONS="2 16"
#        BIN=target/release/lcspr-tracker PORT=(a free one) PG=postgres://postgres@127.0.0.1:5432
#        LOG_FILTER=warn (the server's log.filter) KEEP_LOG=(a path to copy the server's log to)
#        TARGETS="list case list-page case-page" (which of the four wrk runs)
#        PERF=(a folder: `perf record` of the server during each wrk run, one file each;
#        PERF_CALL_GRAPH=fp, or dwarf for whole stacks through code without frame pointers;
#        PERF_SYSTEM=1 records every process, PostgreSQL's too, not only the server)
#        ALSO="bin2 bin3 ..." (after BIN's runs, the same wrk runs against each of these builds
#        in turn on the same database, for an A/B/A comparison in one window)
#
# Needs wrk (apt-get install wrk) and python3. The machine is shared: read the figures as
# ratios, measured in one window.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
BIN=${BIN:-target/release/lcspr-tracker}
CASES=${CASES:-10000}
WRITERS=${WRITERS:-8}
SEED_SECONDS=${SEED_SECONDS:-1000000}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-2 16}
PORT=${PORT:-$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
work=$(mktemp -d)
db=""
pid=""
cleanup() {
  [ -n "${KEEP_LOG:-}" ] && cp "$work/serve.log" "$KEEP_LOG" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$db" ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$backend" = postgres ]; then
  db=lcspr_load_$$
  psql -q "$PG/postgres" -c "CREATE DATABASE $db"
  export DATABASE_URL="$PG/$db"
  # PostgreSQL needs a master key for encryption at rest (SQLite makes one beside its file).
  "$BIN" keys generate --to "$work/master.key" >/dev/null
  export LCSPR__SECURITY__MASTER_KEY_FILE="$work/master.key"
else
  export DATABASE_URL="sqlite://$work/load.db"
fi
# Mail as a default installation sends it (files; the memory transport of the tests would keep
# every message in the process). glibc's allocator set as the container image sets it.
export LCSPR__MAIL__TRANSPORT=file LCSPR__MAIL__OUTBOX_DIR="$work/outbox" LCSPR__LOG__FILTER="${LOG_FILTER:-warn}"
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-131072}
"$BIN" demo >/dev/null
base="http://127.0.0.1:$PORT"
serve() {
  "$1" serve --bind "127.0.0.1:$PORT" >>"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
  kill -0 "$pid" || { cat "$work/serve.log"; exit 1; }
}
serve "$BIN"
# The demo programme manager, with the demo's published TOTP key.
token=$(python3 - "$base" <<'PY'
import base64, hashlib, hmac, json, struct, sys, time, urllib.request
key = base64.b32decode("DEMOLCSPRTRACKERDEMOLCSPRTRACKER")
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
otp = "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)
body = json.dumps({"email": "pm@demo.example", "password": "demo-password-2026", "otp": otp}).encode()
req = urllib.request.Request(sys.argv[1] + "/api/v1/auth/token", data=body,
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])
PY
)
echo "== $backend: seeding $CASES cases with $WRITERS writers"
python3 benches/load.py "$base" "$token" "$CASES" "$WRITERS" "$SEED_SECONDS" || echo "(seeding had failures)"
# As an operator's autovacuum would (statistics, and the visibility map index-only scans
# need); the service itself also refreshes its statistics hourly.
if [ "$backend" = postgres ]; then psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"; fi
auth="Authorization: Bearer $token"
case_id=$(curl -fs -H "$auth" "$base/api/v1/cases?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cases"][0]["id"])')
list_bytes=$(curl -fs -H "$auth" "$base/api/v1/cases?per_page=25" | wc -c)
echo "rss after seeding: $(grep -E "VmRSS|RssAnon|RssFile" /proc/$pid/status | tr -s " \t\n" " ")"
# The pages too, signed in as a person is (password, then the authenticator's code).
cookie="Cookie: $(python3 benches/web_session.py "$base" pm@demo.example demo-password-2026 DEMOLCSPRTRACKERDEMOLCSPRTRACKER)"
page_bytes=$(curl -fs -H "$cookie" "$base/cases/$case_id" | wc -c)
TARGETS=${TARGETS:-list case list-page case-page}
[ -n "${PERF:-}" ] && mkdir -p "$PERF"
# CPU ticks used so far: "server,postgres" (utime + stime of the server, and of every process
# named postgres).
cpu_ticks() {
  python3 - "$pid" <<'PY'
import os, sys
def ticks(p):
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0
def name(p):
    try:
        return open(f"/proc/{p}/comm").read().strip()
    except OSError:
        return ""
pg = sum(ticks(p) for p in os.listdir("/proc") if p.isdigit() and name(p) == "postgres")
print(f"{ticks(sys.argv[1])},{pg}")
PY
}
measure() {
  label=${1##*/}
  for c in $CONNECTIONS; do
    for target in "list|$auth|/api/v1/cases?per_page=25" "case|$auth|/api/v1/cases/$case_id" \
                  "list-page|$cookie|/cases" "case-page|$cookie|/cases/$case_id"; do
      name=${target%%|*} rest=${target#*|}
      header=${rest%%|*} path=${rest#*|}
      case " $TARGETS " in *" $name "*) ;; *) continue ;; esac
      echo "== $backend${label:+ ($label)}: wrk -c$c $path"
      # Unreported first seconds: caches, the statement cache, the first statistics.
      wrk -t2 -c"$c" -d"${WARMUP}s" -H "$header" "$base$path" >/dev/null
      perf_pid=""
      if [ -n "${PERF:-}" ]; then
        if [ -n "${PERF_SYSTEM:-}" ]; then who=(-a); else who=(-p "$pid"); fi
        perf record --call-graph "${PERF_CALL_GRAPH:-fp}" -q "${who[@]}" -o "$PERF/$backend-$label$name-c$c.data" -- sleep "$DURATION" &
        perf_pid=$!
      fi
      cpu_before=$(cpu_ticks)
      wrk -t2 -c"$c" -d"${DURATION}s" --timeout 10s --latency -H "$header" "$base$path" >"$work/wrk.out" || true
      cpu_after=$(cpu_ticks)
      grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" "$work/wrk.out" || true
      # CPU per request: the server's, and PostgreSQL's (every postgres process) on PostgreSQL.
      python3 - "$cpu_before" "$cpu_after" "$(grep -oE '^ *[0-9]+ requests in' "$work/wrk.out" | grep -oE '[0-9]+')" "$(getconf CLK_TCK)" <<'PY'
import sys
b, a, n, hz = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3] or 0), int(sys.argv[4])
if n:
    ms = lambda i: (int(a[i]) - int(b[i])) * 1000 / hz / n
    print(f"  cpu per request: server {ms(0):.3f} ms, postgres {ms(1):.3f} ms ({n} requests)")
PY
      [ -n "$perf_pid" ] && wait "$perf_pid"
    done
    echo "rss after $c connections: $(grep -E "VmRSS|RssAnon|RssFile" /proc/$pid/status | tr -s " \t\n" " ")"
  done
}
measure ""
for other in ${ALSO:-}; do
  kill "$pid" && wait "$pid" 2>/dev/null || true
  serve "$other"
  measure "$other"
done
echo "list answer: $list_bytes bytes for 25 cases; case page: $page_bytes bytes"
