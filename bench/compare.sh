#!/usr/bin/env bash
# One command for the side-by-side benchmark: builds everything, then runs the MMSS (embedded mode, durable SQLite
# storage), Prosody 0.12 and ejabberd 23.01 one after the other on loopback with identical parameters, and writes
# bench/RESULTS.md and bench/results.svg. Nothing is left running. Parameters (environment): N (connections of the
# round-trip scenario), LOGINS, IDLE (connections held idle), RUN (seconds measured), WARMUP (seconds before),
# GROUP_SIZES (group sizes for the MMSS's fan-out scenario), ROUNDS (group messages per size), UPLOADERS, FILES, FILE_MB
# (the MMSS's attachment scenario). A forwarder that only copies bytes runs the round trips too: the driver's ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
# Thousands of idle connections need file descriptors; children (Prosody as its own user too) inherit this.
ulimit -n "$(ulimit -Hn)"
N=${N:-200}
LOGINS=${LOGINS:-300}
# One process may hold at most the hard descriptor limit; the server and the driver each hold IDLE sockets.
IDLE=${IDLE:-$(( $(ulimit -Hn) > 20000 ? 19000 : $(ulimit -Hn) - 1000 ))}
RUN=${RUN:-10}
WARMUP=${WARMUP:-4}
GROUP_SIZES=${GROUP_SIZES:-100 1000}
ROUNDS=${ROUNDS:-10}
UPLOADERS=${UPLOADERS:-4} FILES=${FILES:-4} FILE_MB=${FILE_MB:-25}
USERS=$(( N > LOGINS ? (N > IDLE ? N : IDLE) : (LOGINS > IDLE ? LOGINS : IDLE) ))
MMSS_PORT=25222 PROSODY_PORT=25223 EJABBERD_PORT=25224 FORWARDER_PORT=25225
SOURCES=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4

work=$(mktemp -d /tmp/mmss-bench.XXXXXX)
chmod 755 "$work"
results="$work/results"
mkdir -p "$results"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  pkill -f "prosody --config $work" 2>/dev/null || true
  pkill -f "mnesia dir \"$work" 2>/dev/null || pkill -f "$work/ejabberd/spool" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

if ! command -v prosody >/dev/null || ! command -v ejabberdctl >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq prosody ejabberd >/dev/null
fi
dotnet build Mmss.Orleans.sln -c Release --nologo -v quiet >/dev/null
bench() { dotnet bench/Mmss.Bench/bin/Release/net10.0/Mmss.Bench.dll "$@"; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done; echo "port $1 never opened" >&2; return 1; }

run_scenarios() { # label port pid mode register
  local label=$1 port=$2 pid=$3 mode=$4 register=$5
  local common=(--port "$port" --domain localhost --server-pid "$pid" --label "$label" --mode "$mode" --warmup "$WARMUP"
    --source-addresses "$SOURCES")
  echo "== $label"
  if [ "$register" = true ]; then bench --scenario register --register true -n "$USERS" "${common[@]}" >/dev/null; fi
  # PLAIN makes the MMSS derive the SCRAM key from the password (it stores no password) while the peers, configured
  # with plain-text storage here, compare strings; with SCRAM-SHA-1 (what Smack-style terminals pick) it is the reverse.
  for mechanism in PLAIN SCRAM-SHA-1; do
    bench --scenario login -n "$LOGINS" --tls true --mechanism $mechanism "${common[@]}" --json "$results/$label-1-login-$mechanism.json" >/dev/null
  done
  bench --scenario roundtrip -n "$N" -w 5 --seconds "$RUN" "${common[@]}" --json "$results/$label-2-w5.json" >/dev/null
  bench --scenario roundtrip -n "$N" -w 1 --seconds "$RUN" "${common[@]}" --json "$results/$label-3-w1.json" >/dev/null
  bench --scenario idle -n "$IDLE" --seconds 5 "${common[@]}" --json "$results/$label-4-idle.json" >/dev/null
}

# --- the MMSS, embedded, durable storage on (SQLite synchronous=FULL), users from a seed file
mkdir -p "$work/mmss"
python3 -c "import json; print(json.dumps({'users':[{'udn':f'b{i}','password':'pw'} for i in range($USERS)],
  'groups':[{'gdn':f'bgroup{g}','members':[f'b{i}' for i in range(g + 1)]} for g in map(int, '$GROUP_SIZES'.split())]}))" > "$work/mmss/seed.json"
Mmss__DataDir="$work/mmss/data" Mmss__Domains__0=localhost Mmss__C2s__BindAddress=127.0.0.1 Mmss__C2s__Port=$MMSS_PORT \
Mmss__C2s__TlsPort=25232 Mmss__Http__BindAddress=127.0.0.1 Mmss__Http__Port=25280 Mmss__Orleans__SiloPort=25211 \
Mmss__Orleans__GatewayPort=25230 Mmss__C2s__AllowPlaintext=true Mmss__Admin__Token=bench Logging__LogLevel__Default=Warning \
Mmss__Provisioning__SeedFile="$work/mmss/seed.json" DOTNET_GCgen0size=0x4000000 dotnet gateway/bin/Release/net10.0/Mmss.Gateway.dll > "$work/mmss/log" 2>&1 &
server_pid=$!
wait_port 25280
run_scenarios mmss $MMSS_PORT "$server_pid" mmss false
for g in $GROUP_SIZES; do
  bench --scenario group -n "$g" --group "bgroup$g" --rounds "$ROUNDS" --port $MMSS_PORT --domain localhost --server-pid "$server_pid" \
    --label mmss --source-addresses "$SOURCES" --json "$results/mmss-5-group$g.json" >/dev/null
done
bench --scenario attachments -n "$UPLOADERS" --files "$FILES" --file-mb "$FILE_MB" --http-port 25280 --port $MMSS_PORT \
  --label mmss --json "$results/mmss-6-attachments.json" >/dev/null
stop_server

# --- the ceiling: a forwarder that logs users in and copies bytes to the partner, no parsing, nothing stored
# Started directly, not through the bench function: $! must be the process whose CPU is sampled.
dotnet bench/Mmss.Bench/bin/Release/net10.0/Mmss.Bench.dll --scenario forwarder --port $FORWARDER_PORT --domain localhost > "$work/forwarder.log" 2>&1 &
server_pid=$!
wait_port $FORWARDER_PORT
echo "== forwarder"
for w in 5 1; do
  bench --scenario roundtrip -n "$N" -w $w --seconds "$RUN" --port $FORWARDER_PORT --domain localhost --server-pid "$server_pid" \
    --label forwarder --mode xmpp --warmup "$WARMUP" --source-addresses "$SOURCES" --json "$results/forwarder-$((w == 5 ? 2 : 3))-w$w.json" >/dev/null
done
stop_server

# --- Prosody 0.12 (runs as the prosody user), plain-text accounts written directly
mkdir -p "$work/prosody/data/localhost/accounts"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/prosody/localhost.key" -out "$work/prosody/localhost.crt" -days 2 -subj "/CN=localhost" 2>/dev/null
for i in $(seq 0 $((USERS - 1))); do printf 'return {\n\t["password"] = "pw";\n};\n' > "$work/prosody/data/localhost/accounts/b$i.dat"; done
cat > "$work/prosody/prosody.cfg.lua" <<CFG
daemonize = false
data_path = "$work/prosody/data"
log = { error = "$work/prosody/prosody.log" }
c2s_ports = { $PROSODY_PORT }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping" }
modules_disabled = { "s2s", "offline", "c2s_limits" }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
ssl = { key = "$work/prosody/localhost.key", certificate = "$work/prosody/localhost.crt" }
VirtualHost "localhost"
CFG
chown -R prosody "$work/prosody"
# setpriv, not runuser: runuser applies PAM limits, which would drop the descriptor limit back to 1024.
setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$work/prosody/prosody.cfg.lua" > "$work/prosody/out" 2>&1 &
wait_port $PROSODY_PORT
prosody_pid=$(pgrep -f "lua.*prosody --config $work" | head -1)
run_scenarios prosody $PROSODY_PORT "$prosody_pid" xmpp false
pkill -f "prosody --config $work" || true
sleep 1

# --- ejabberd 23.01, loopback only, users by in-band registration
mkdir -p "$work/ejabberd/conf" "$work/ejabberd/logs" "$work/ejabberd/spool"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ejabberd/k.pem" -out "$work/ejabberd/c.pem" -days 2 -subj "/CN=localhost" 2>/dev/null
cat "$work/ejabberd/c.pem" "$work/ejabberd/k.pem" > "$work/ejabberd/conf/server.pem"
printf 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\nERL_DIST_PORT=25299\nINET_DIST_INTERFACE=127.0.0.1\n' > "$work/ejabberd/conf/ejabberdctl.cfg"
cat > "$work/ejabberd/conf/ejabberd.yml" <<CFG
hosts: [localhost]
loglevel: error
certfiles: ["$work/ejabberd/conf/server.pem"]
listen:
  - {port: $EJABBERD_PORT, ip: "127.0.0.1", module: ejabberd_c2s, starttls: true, backlog: 1024, shaper: none, max_stanza_size: 262144}
auth_method: internal
auth_password_format: plain
registration_timeout: infinity
access_rules:
  register: {allow: all}
  c2s: {allow: all}
shaper_rules:
  max_user_sessions: 10
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_register: {ip_access: all, access: register, access_from: all}
CFG
chown -R ejabberd "$work/ejabberd"
as_ejabberd() { HOME=/var/lib/ejabberd setpriv --reuid=ejabberd --regid=ejabberd --init-groups "$@"; }
as_ejabberd ejabberdctl --config-dir "$work/ejabberd/conf" --logs "$work/ejabberd/logs" --spool "$work/ejabberd/spool" foreground > "$work/ejabberd/out" 2>&1 &
server_pid=$!
wait_port $EJABBERD_PORT
ejabberd_pid=$(pgrep -f "beam.smp.*$work/ejabberd/spool" | head -1)
run_scenarios ejabberd $EJABBERD_PORT "$ejabberd_pid" xmpp true
as_ejabberd ejabberdctl --config-dir "$work/ejabberd/conf" --logs "$work/ejabberd/logs" --spool "$work/ejabberd/spool" stop >/dev/null 2>&1 || true
stop_server

# --- the report: every figure with its ratio to the best peer
bench --scenario report --inputs "$(ls "$results"/*.json | sort -t- -k2 | paste -sd,)" --out "$work/table.md" --svg bench/results.svg >/dev/null
{
  echo "# Benchmark results"
  echo
  echo "Command: \`N=$N LOGINS=$LOGINS IDLE=$IDLE RUN=$RUN GROUP_SIZES='$GROUP_SIZES' bash bench/compare.sh\`, run $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB;"
  echo "driver and server share it. MMSS: embedded mode, SQLite synchronous=FULL, every MMS stored before delivery and"
  echo "its ACK relayed (DOTNET_GCgen0size=0x4000000, see README); peers: a chat message answered by a chat message. Logins"
  echo "over STARTTLS + SASL (PLAIN, then SCRAM-SHA-1), the other scenarios in plain text (all servers alike). Ratios are against the best peer in"
  echo "the same run. The forwarder logs users in and copies bytes to the partner without parsing or storing:"
  echo "the ceiling the driver allows here."
  echo "Group fan-out and attachments exist only in the MMSS. Idle connections: at most $(ulimit -Hn) descriptors per"
  echo "process here (the hard limit; raising it needs CAP_SYS_RESOURCE), hence IDLE=$IDLE."
  echo
  cat "$work/table.md"
  echo "![chart](results.svg)"
} > bench/RESULTS.md
cat bench/RESULTS.md
echo "raw results and logs: $work"
