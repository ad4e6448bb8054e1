#!/usr/bin/env bash
# Floods and abuse (issue 17, RELIABILITY.md "Floods and abuse"): starts the embedded MMSS on loopback with limits low
# enough for the attacks to reach them, runs the load tool's abuse scenario (a quiet baseline, then each attack while N
# terminals do MMS → ACK round trips), prints the figures as a Markdown table and leaves the JSON in the work dir.
# Parameters (environment): N (terminals, default 20), RUN (seconds per phase, default 10), FLOOD (connections of the
# flood, default 300, against MAX_CONNECTIONS=200), BAD_LOGINS (per wrong-password attack, default 10000), RATE (the
# server's MaxStanzasPerSecond, default 100), ATTACKS (comma-separated, default all). Runs under nice: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20} RUN=${RUN:-10} FLOOD=${FLOOD:-300} MAX_CONNECTIONS=${MAX_CONNECTIONS:-200} BAD_LOGINS=${BAD_LOGINS:-10000} RATE=${RATE:-100}
ATTACKS=${ATTACKS:-}
PORT=25322 HTTP_PORT=25380
work=$(mktemp -d /tmp/mmss-abuse.XXXXXX)
echo "work dir (JSON, server log): $work" >&2
nice -n 10 dotnet build Mmss.Orleans.sln -c Release --nologo -v quiet >&2
# Terminals a0..a(N-1), the fast sender aN, the target of the wrong-password logins aN+1.
python3 -c "import json; print(json.dumps({'users':[{'udn':f'a{i}','password':'pw'} for i in range($N + 2)]}))" > "$work/seed.json"
Mmss__DataDir="$work/data" Mmss__Domains__0=localhost Mmss__C2s__BindAddress=127.0.0.1 Mmss__C2s__Port=$PORT \
Mmss__C2s__TlsPort=25323 Mmss__Http__BindAddress=127.0.0.1 Mmss__Http__Port=$HTTP_PORT Mmss__Orleans__SiloPort=25311 \
Mmss__Orleans__GatewayPort=25330 Mmss__C2s__AllowPlaintext=true Mmss__Admin__Token=bench Logging__LogLevel__Default=Warning \
Mmss__C2s__MaxConnections=$MAX_CONNECTIONS Mmss__C2s__LoginTimeoutSeconds=5 Mmss__C2s__MaxStanzasPerSecond=$RATE \
Mmss__C2s__StanzaBurst=$RATE Mmss__Provisioning__SeedFile="$work/seed.json" \
nice -n 10 dotnet gateway/bin/Release/net10.0/Mmss.Gateway.dll > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
# Up once the seed file's last user is there (the seed file is applied at start).
for _ in $(seq 1 300); do
  curl -sf -H "Authorization: Bearer bench" "http://127.0.0.1:$HTTP_PORT/admin/users/a$((N + 1))" >/dev/null && break
  sleep 0.2
done
nice -n 10 dotnet bench/Mmss.Bench/bin/Release/net10.0/Mmss.Bench.dll --scenario abuse --port $PORT --http-port $HTTP_PORT \
  --domain localhost --users a --tls false -n "$N" --seconds "$RUN" --warmup 3 --flood-connections "$FLOOD" \
  --bad-logins "$BAD_LOGINS" --admin-token bench --label mmss ${ATTACKS:+--attacks "$ATTACKS"} --json "$work/abuse.json" >/dev/null
python3 - "$work/abuse.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
phases = result["attacks"]
base = phases[0]["p99Ms"]
print("| phase | s | legit round trips | p50 ms | p99 ms | p99 / baseline | legit errors | attempts | answers |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for p in phases:
    answers = ", ".join(f"{k} ×{v}" for k, v in sorted(p["answers"].items()))
    if p.get("attackerStanzasPerSecond"): answers += f"; attacker held to {p['attackerStanzasPerSecond']:.0f}/s"
    p99 = p["p99Ms"]
    print(f"| {p['attack']} | {p['seconds']:.1f} | {p['roundTrips']} | {p['p50Ms'] or 0:.2f} | {p99 or 0:.2f} | "
          f"{(p99 / base) if p99 and base else 0:.2f}× | {p['errors']} | {p['attempts']} | {answers} |")
PY
