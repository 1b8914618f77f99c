#!/usr/bin/env bash
# Load check of policy-serve: wrk with 64 connections for 20 s against
# /api/search over a mix of queries (bench/serve-queries.lua) on loopback,
# on an index of corpus/.  Fails unless there were zero socket errors and
# zero non-2xx answers; writes requests/s and latency percentiles, with the
# machine, to bench/SERVE.md.  Not part of ctest (it takes the machine).
#
# usage: bench/serve-load.sh [BUILD_DIR]   (default: build, made in Release if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
conns=${CONNS:-64}
secs=${SECS:-20}
command -v wrk >/dev/null || { echo "serve-load: wrk is missing (bash scripts/deps.sh)" >&2; exit 2; }
if [ ! -x "$build/policy-serve" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/policy-index" --quiet --db "$tmp/db" corpus/
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/policy-serve" --quiet --db "$tmp/db" --port "$port" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
threads=$(nproc)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# One connection first: the service time of a request with no queueing.
one=$(wrk -t1 -c1 -d5s --latency -s bench/serve-queries.lua "http://127.0.0.1:$port")
# Then the load.  wrk's default 2 s timeout would count a request that waits
# its turn behind 63 others as an error; 30 s counts only real stalls, and
# the percentiles below show the waiting honestly.
out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 30s --latency \
      -s bench/serve-queries.lua "http://127.0.0.1:$port")
echo "$one"
echo "$out"
result=$(grep '^RESULT ' <<<"$out")
val() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$result"; }
one_result=$(grep '^RESULT ' <<<"$one")
one() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$one_result"; }
one_errors=$(( $(one connect) + $(one read) + $(one write) + $(one timeout) + $(one status) ))
one_non2xx=$(sed -nE 's/.*Non-2xx or 3xx responses: ([0-9]+).*/\1/p' <<<"$one")
non2xx=$(sed -nE 's/.*Non-2xx or 3xx responses: ([0-9]+).*/\1/p' <<<"$out")
non2xx=${non2xx:-0}
errors=$(( $(val connect) + $(val read) + $(val write) + $(val timeout) + $(val status) + one_errors + ${one_non2xx:-0} ))
kill -TERM "$server"
wait "$server" && stopped=0 || stopped=$?
server=""

cpu=$(sed -nE 's/^model name[[:space:]]*: (.*)/\1/p' /proc/cpuinfo | head -1)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cat > bench/SERVE.md <<MD
# policy-serve under load

\`bench/serve-load.sh\` (run it to refresh this file): \`wrk -t$threads -c$conns -d${secs}s\`
against \`/api/search\` on loopback, cycling through $(val queries) queries
(\`bench/serve-queries.lua\`: words, phrases, OR / NOT / NEAR, filters, date order, paging,
a timeline), on an index of \`corpus/\` (5 documents), Release build, default thread count.
wrk and the server share the machine.

| measure | $conns connections, ${secs} s | 1 connection, 5 s |
|---|---|---|
| requests | $(val requests) in $(val duration_s) s | $(one requests) in $(one duration_s) s |
| requests/s | $(val rps) | $(one rps) |
| latency p50 | $(val p50_ms) ms | $(one p50_ms) ms |
| latency p90 | $(val p90_ms) ms | $(one p90_ms) ms |
| latency p99 | $(val p99_ms) ms | $(one p99_ms) ms |
| latency max | $(val max_ms) ms | $(one max_ms) ms |
| latency mean | $(val mean_ms) ms | $(one mean_ms) ms |
| socket errors (connect/read/write/timeout) | $(val connect)/$(val read)/$(val write)/$(val timeout) | $(one connect)/$(one read)/$(one write)/$(one timeout) |
| non-2xx answers | $non2xx | ${one_non2xx:-0} |

The server exited with status $stopped on SIGTERM after the run.  With $conns connections the
latency is mostly waiting: each request queues behind the others on $(nproc) cores, so the
one-connection column is the time a request takes.  wrk runs with \`--timeout 30s\`.

What a request costs (measured on the benchmark corpora in \`bench/RESULTS.md\`, sessions 10-13):
the facets are counted from the docids of every exact hit (years, regions and types from the
files' docid ranges, projects from a Xapian value slot of name hashes), not from hits read
from the store; only the hits a page can reach after collapsing (offset + limit + the
collapse window of 1,000) are ranked and read; related hits are decided from postings; a
name's candidates are verified on every core while Xapian ranks them in the same walk.  What
remains grows with the number of candidates: verifying them (names, CJK with digits) and
ranking the collapse window.  On this 5-document corpus every query is small; the figures
above are mostly HTTP, JSON and the search page's work per request.  Earlier runs of this
check, same mix and machine kind: 37.0 requests/s at 64 connections and a 17.8 ms median on
one connection (commit a6acf18, facets read every hit and extracted its projects), 347.3 and
2.9 ms (a0633dd, 2026-11-23: project names stored at index time, sketched collapsing), 986.1
and 2.3 ms (80eabcc, 2026-12-05: ranking inside the verifying walk; since then the SIMD
phrase scan, the stored t2s table and the normaliser's fast path for ideographs, session 13).

Machine: $cpu, $(nproc) CPUs, $mem, $(uname -sr); load average before the run $load_before
(other work on the machine lowers these figures); commit $rev, $(date -u +%Y-%m-%d).
MD
echo "serve-load: wrote bench/SERVE.md"
if [ "$errors" -ne 0 ] || [ "$non2xx" -ne 0 ] || [ "$stopped" -ne 0 ]; then
  echo "serve-load: FAILED: $errors errors, $non2xx non-2xx answers, exit $stopped" >&2
  exit 1
fi
