#!/usr/bin/env bash
# POST .../messages over HTTP (wrk on loopback against `serve`) beside the same turns sent to the same engine in
# process, in one run, so that the HTTP layer's own cost shows. Both sides: the load configuration (the demo
# configuration with large credit balances), an H2 file, the demo model, CONNECTIONS clients in a closed loop over
# 64 conversations of one member, a 40-word message per turn, WARMUP seconds discarded, then DURATION measured.
# Needs wrk (Debian package `wrk`) and the built jar: mvn -B -q -pl samples -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/parley-samples.jar
CONFIG=samples/load/load-config.json
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-8}
CONVERSATIONS=64
PORT=${PORT:-18181}
WRK_THREADS=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "build the jar first: mvn -B -q -pl samples -am package -DskipTests" >&2; exit 1; }
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== in process: $CONNECTIONS threads, ${WARMUP}s warm-up, ${DURATION}s measured"
java -cp "$JAR" dev.parley.samples.server.InProcessLoad --data "$work/in-process" --config "$CONFIG" \
  --threads "$CONNECTIONS" --seconds "$DURATION" --warmup "$WARMUP" --conversations "$CONVERSATIONS" \
  >"$work/in-process.log" 2>&1
grep -E '^(turns|turns/s|p50_ms|p99_ms) ' "$work/in-process.log" | tee "$work/in-process.txt"

echo "== over HTTP: wrk, $CONNECTIONS connections on $WRK_THREADS threads, ${WARMUP}s warm-up, ${DURATION}s measured"
java -jar "$JAR" serve --config "$CONFIG" --port "$PORT" --data "$work/http" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
for _ in $(seq 1 "$CONVERSATIONS"); do
  curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/workspaces/support/conversations" \
    -H 'Authorization: Bearer demo-alice-token' -H 'Content-Type: application/json' -d '{}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' >>"$work/ids"
done
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s samples/load/messages.lua "http://127.0.0.1:$PORT" -- "$work/ids" >/dev/null
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s samples/load/messages.lua "http://127.0.0.1:$PORT" -- "$work/ids" \
  | sed -n '/^requests /,$p' | tee "$work/http.txt"
if ! grep -q '^non2xx 0$' "$work/http.txt" || ! grep -q '^errors 0$' "$work/http.txt"; then
  echo "some requests failed; the server's log:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
fi

value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
python3 - "$(value turns/s "$work/in-process.txt")" "$(value requests/s "$work/http.txt")" \
  "$(value p50_ms "$work/in-process.txt")" "$(value p50_ms "$work/http.txt")" \
  "$(value p99_ms "$work/in-process.txt")" "$(value p99_ms "$work/http.txt")" <<'PY'
import sys
ip, http, ip50, h50, ip99, h99 = map(float, sys.argv[1:])
print("== summary")
print(f"turns/s      in process {ip:9.1f}   HTTP {http:9.1f}   HTTP/in-process {http / ip:5.2f}x")
print(f"p50 ms       in process {ip50:9.3f}   HTTP {h50:9.3f}   {h50 / ip50:5.2f}x")
print(f"p99 ms       in process {ip99:9.3f}   HTTP {h99:9.3f}   {h99 / ip99:5.2f}x")
PY
