#!/usr/bin/env bash
# One command for the side-by-side benchmark: builds everything, then runs the MMSS (embedded mode, durable SQLite
# storage), the MMSS as a cluster (1 silo + 1 gateway on PostgreSQL), two MMSS domains relaying to each other, Prosody
# 0.12 and ejabberd 23.01 one after the other on loopback with identical parameters, and writes bench/RESULTS.md and
# bench/results.svg. Nothing is left running. Parameters (environment): N (connections of the round-trip scenario),
# LOGINS, IDLE (connections held idle), IDLE_TLS (idle connections over STARTTLS + SCRAM-SHA-1, default IDLE), RUN
# (seconds measured), WARMUP (seconds before), GROUP_SIZES (group sizes for the MMSS's fan-out scenario), ROUNDS (group
# messages per size), UPLOADERS, FILES, FILE_MB (the MMSS's attachment scenario), ONLY (the servers to run, of
# "mmss mmss-cluster mmss-relay forwarder prosody ejabberd", default all; mmss-relay: two embedded MMSS domains, every
# round trip relayed between them), PROFILE (default true: a CPU profile of the embedded MMSS under the W=5 round trip,
# bench/PROFILE.md). A forwarder that only copies bytes runs the round trips too: the driver's ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
# Thousands of idle connections need file descriptors; children (Prosody as its own user too) inherit this.
ulimit -n "$(ulimit -Hn)"
N=${N:-200}
LOGINS=${LOGINS:-300}
# One process may hold at most the hard descriptor limit; the server and the driver each hold IDLE sockets.
IDLE=${IDLE:-$(( $(ulimit -Hn) > 20000 ? 19000 : $(ulimit -Hn) - 1000 ))}
# Idle connections with STARTTLS + SCRAM-SHA-1 (what real terminals hold); 19,000 is the most this machine allows.
IDLE_TLS=${IDLE_TLS:-$IDLE}
RUN=${RUN:-10}
# The .NET servers' tiered JIT recompiles the hot paths during the first ~10 s of load (8% of the MMSS's CPU in a
# 4 s warm-up's measured window): every server gets the same longer warm-up, so the rows measure the steady state.
WARMUP=${WARMUP:-12}
GROUP_SIZES=${GROUP_SIZES:-100 1000}
ROUNDS=${ROUNDS:-10}
UPLOADERS=${UPLOADERS:-4} FILES=${FILES:-4} FILE_MB=${FILE_MB:-25}
USERS=$(( N > LOGINS ? (N > IDLE ? N : IDLE) : (LOGINS > IDLE ? LOGINS : IDLE) ))
USERS=$(( USERS > IDLE_TLS ? USERS : IDLE_TLS ))
ALL_SERVERS="mmss mmss-cluster mmss-relay forwarder prosody ejabberd"
ONLY=${ONLY:-$ALL_SERVERS}
# A CPU profile of the embedded row (bench/PROFILE.md); PROFILE=false skips it.
PROFILE=${PROFILE:-true}
for server in $ONLY; do
  case " $ALL_SERVERS " in *" $server "*) ;; *) echo "ONLY: unknown server '$server' (known: $ALL_SERVERS)" >&2; exit 2 ;; esac
done
wanted() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
MMSS_PORT=25222 PROSODY_PORT=25223 EJABBERD_PORT=25224 FORWARDER_PORT=25225
# The cluster row: the gateway's XMPP/TLS/HTTP ports, the silo's Orleans ports and health port, PostgreSQL's port.
CLUSTER_PORT=25226 CLUSTER_TLS_PORT=25233 CLUSTER_HTTP_PORT=25281
SILO_PORT=25213 SILO_GATEWAY_PORT=25234 SILO_HEALTH_PORT=25282 PG_PORT=25432
SOURCES=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4

work=$(mktemp -d /tmp/mmss-bench.XXXXXX)
chmod 755 "$work"
results="$work/results"
mkdir -p "$results"
echo "work dir (results, logs): $work"
server_pid="" gateway_pid="" silo_pid="" postgres_pid=""
# Signals a process started here, waits up to $3 seconds for it to exit, then kills it.
stop_pid() { # pid signal seconds
  local pid=$1 signal=$2 seconds=$3
  [ -n "$pid" ] || return 0
  kill -s "$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 5))); do
    # A child that exited and is not yet reaped is a zombie, which kill -0 still finds.
    if ! kill -0 "$pid" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ]; then break; fi
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_server() {
  stop_pid "$server_pid" TERM 30
  pkill -9 -f "prosody --config $work" 2>/dev/null || true
  pkill -f "mnesia dir \"$work" 2>/dev/null || pkill -f "$work/ejabberd/spool" 2>/dev/null || true
  server_pid=""
}
# The cluster in reverse order of start: the gateway, the silo (its graceful stop writes grain state), PostgreSQL (SIGINT:
# fast shutdown, which ends its backends).
stop_cluster() {
  stop_pid "$gateway_pid" TERM 60
  stop_pid "$silo_pid" TERM 90
  stop_pid "$postgres_pid" INT 60
  gateway_pid="" silo_pid="" postgres_pid=""
}
cleanup() { stop_server; stop_cluster; }
trap cleanup EXIT
trap 'exit 130' INT TERM

packages=()
if { wanted prosody && ! command -v prosody >/dev/null; } || { wanted ejabberd && ! command -v ejabberdctl >/dev/null; }; then
  packages+=(prosody ejabberd)
fi
pg_bin() { # Debian's PostgreSQL 15, else the newest installed
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then echo /usr/lib/postgresql/15/bin; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}
if wanted mmss-cluster && [ ! -x "$(pg_bin)/postgres" ]; then packages+=(postgresql); fi
if [ ${#packages[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null
fi
dotnet build Mmss.Orleans.sln -c Release --nologo -v quiet >/dev/null
bench() { dotnet bench/Mmss.Bench/bin/Release/net10.0/Mmss.Bench.dll "$@"; }
wait_port() { # port [host]
  # 5 min: a server seeding 19,000 users (SCRAM derivations) before it listens takes about a minute here.
  for _ in $(seq 1 1500); do (exec 3<>/dev/tcp/"${2:-127.0.0.1}"/"$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "port $1 never opened" >&2; return 1
}

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
  # What every real terminal holds: STARTTLS, then SCRAM-SHA-1.
  bench --scenario idle -n "$IDLE_TLS" --tls true --mechanism SCRAM-SHA-1 --seconds 5 "${common[@]}" --json "$results/$label-4-idle-tls.json" >/dev/null
}

# Users b0..b(USERS-1) and the groups bgroupG with members b0..bG (b0 sends), for both MMSS rows.
mmss_seed() {
  python3 -c "import json; print(json.dumps({'users':[{'udn':f'b{i}','password':'pw'} for i in range($USERS)],
  'groups':[{'gdn':f'bgroup{g}','members':[f'b{i}' for i in range(g + 1)]} for g in map(int, '$GROUP_SIZES'.split())]}))" > "$1"
}
# The scenarios only the MMSS has: group fan-out and attachments.
mmss_only_scenarios() { # label port pids http-port
  local label=$1 port=$2 pids=$3 http_port=$4
  for g in $GROUP_SIZES; do
    bench --scenario group -n "$g" --group "bgroup$g" --rounds "$ROUNDS" --port "$port" --domain localhost --server-pid "$pids" \
      --label "$label" --source-addresses "$SOURCES" --json "$results/$label-5-group$g.json" >/dev/null
  done
  bench --scenario attachments -n "$UPLOADERS" --files "$FILES" --file-mb "$FILE_MB" --http-port "$http_port" --port "$port" \
    --label "$label" --json "$results/$label-6-attachments.json" >/dev/null
}
wait_ready() { # url pid log seconds: until the health probe answers 200, unless the process dies first
  for _ in $(seq 1 $(($4 * 5))); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    if ! kill -0 "$2" 2>/dev/null; then echo "the process of $1 exited; the end of $3:" >&2; tail -n 40 "$3" >&2; return 1; fi
    sleep 0.2
  done
  echo "$1 not ready within $4 s; the end of $3:" >&2; tail -n 40 "$3" >&2; return 1
}

# The CPU-profile step: one more W=5 round-trip run of the embedded MMSS, sampled by the kernel (dotnet-trace
# collect-linux, root only), its top inclusive frames written to bench/PROFILE.md beside RESULTS.md.
profile_roundtrip() { # pid port
  local pid=$1 port=$2 tools="$work/tools" trace="$work/mmss/roundtrip-w5.nettrace"
  if [ ! -x "$tools/dotnet-trace" ] && ! dotnet tool install --tool-path "$tools" dotnet-trace >"$work/tools.log" 2>&1; then
    echo "profile: dotnet-trace could not be installed (see $work/tools.log); no PROFILE.md" >&2; return 0
  fi
  echo "== profile (mmss, W=5)"
  bench --scenario roundtrip -n "$N" -w 5 --seconds $((RUN + 6)) --port "$port" --domain localhost --server-pid "$pid" \
    --label mmss-profiled --mode mmss --warmup "$WARMUP" --source-addresses "$SOURCES" --json "$work/profiled.json" >/dev/null &
  local driver=$!
  sleep $((WARMUP + 2))
  if ! "$tools/dotnet-trace" collect-linux -p "$pid" --profile cpu-sampling --duration "00:00:00:$(printf '%02d' "$RUN")" -o "$trace" \
      >"$work/trace.log" 2>&1; then
    echo "profile: dotnet-trace collect-linux failed (root and a kernel with perf events are needed; see $work/trace.log)" >&2
    wait "$driver" || true; return 0
  fi
  wait "$driver" || true
  {
    echo "# CPU profile of the embedded MMSS under the W=5 round trip"
    echo
    echo "\`bash bench/compare.sh\` (commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')): N=$N pairs/2, W=5, sampled"
    echo "for $RUN s by \`dotnet-trace collect-linux --profile cpu-sampling\` (kernel and user stacks), then"
    echo "\`dotnet-trace report FILE topN --inclusive\`. Percentages are of the server's samples over the whole run."
    echo
    echo '```'
    "$tools/dotnet-trace" report "$trace" topN --inclusive -n 60 2>&1 | cut -c1-160
    echo '```'
  } > bench/PROFILE.md
}

# --- the MMSS, embedded, durable storage on (SQLite synchronous=FULL), users from a seed file
if wanted mmss; then
mkdir -p "$work/mmss"
mmss_seed "$work/mmss/seed.json"
Mmss__DataDir="$work/mmss/data" Mmss__Domains__0=localhost Mmss__C2s__BindAddress=127.0.0.1 Mmss__C2s__Port=$MMSS_PORT \
Mmss__C2s__TlsPort=25232 Mmss__Http__BindAddress=127.0.0.1 Mmss__Http__Port=25280 Mmss__Orleans__SiloPort=25211 \
Mmss__Orleans__GatewayPort=25230 Mmss__C2s__AllowPlaintext=true Mmss__Admin__Token=bench Logging__LogLevel__Default=Warning \
Mmss__Provisioning__SeedFile="$work/mmss/seed.json" DOTNET_GCgen0size=0x4000000 MALLOC_ARENA_MAX=2 dotnet gateway/bin/Release/net10.0/Mmss.Gateway.dll > "$work/mmss/log" 2>&1 &
server_pid=$!
wait_port 25280
run_scenarios mmss $MMSS_PORT "$server_pid" mmss false
# The peers' own workload on the MMSS: a chat message answered by a chat message (no Jive properties), W=5.
bench --scenario roundtrip -n "$N" -w 5 --seconds "$RUN" --port $MMSS_PORT --domain localhost --server-pid "$server_pid" \
  --label mmss-chat --mode xmpp --warmup "$WARMUP" --source-addresses "$SOURCES" --json "$results/mmss-chat-2-w5.json" >/dev/null
mmss_only_scenarios mmss $MMSS_PORT "$server_pid" 25280
[ "$PROFILE" = true ] && profile_roundtrip "$server_pid" $MMSS_PORT
stop_server
fi

# --- two embedded MMSS domains linked by server-to-server (127.0.0.2 home for 20000-29999, 127.0.0.3 for 30000-39999):
# every sender at the first, every receiver at the second, so each MMS and each ACK crosses the link.
if wanted mmss-relay; then
relay="$work/mmss-relay"
mkdir -p "$relay"
relay_pids=()
for side in a b; do
  if [ $side = a ]; then me=127.0.0.2 peer=127.0.0.3 digit=2 peer_digit=3 base=25400 peer_base=25500
  else me=127.0.0.3 peer=127.0.0.2 digit=3 peer_digit=2 base=25500 peer_base=25400; fi
  python3 -c "import json; print(json.dumps({'users':[{'udn':f'$digit{i:04d}','password':'pw'} for i in range($N)]}))" > "$relay/seed-$side.json"
  Mmss__DataDir="$relay/data-$side" Mmss__Domains__0=$me Mmss__C2s__BindAddress=$me Mmss__C2s__Port=$((base + 22)) \
  Mmss__C2s__TlsPort=$((base + 23)) Mmss__Http__BindAddress=$me Mmss__Http__Port=$((base + 80)) Mmss__Orleans__SiloPort=$((base + 11)) \
  Mmss__Orleans__GatewayPort=$((base + 30)) Mmss__C2s__AllowPlaintext=true Mmss__Admin__Token=bench Logging__LogLevel__Default=Warning \
  Mmss__S2s__Enabled=true Mmss__S2s__BindAddress=$me Mmss__S2s__Port=$((base + 69)) Mmss__S2s__DialbackSecret=bench-$side \
  Mmss__Peers__0__Domain=$peer Mmss__Peers__0__Address=$peer:$((peer_base + 69)) Mmss__Peers__0__HttpAddress=http://$peer:$((peer_base + 80))/ \
  Mmss__Peers__0__Udns=${peer_digit}0000-${peer_digit}9999 Mmss__Peers__0__Secret=bench \
  Mmss__Provisioning__SeedFile="$relay/seed-$side.json" DOTNET_GCgen0size=0x4000000 MALLOC_ARENA_MAX=2 \
  env Logging__LogLevel__Mmss.Gateway.Provisioning.SeedFileApplier=Information dotnet gateway/bin/Release/net10.0/Mmss.Gateway.dll \
    > "$relay/log-$side" 2>&1 &
  relay_pids+=($!)
done
server_pid="${relay_pids[0]}"
wait_port 25422 127.0.0.2
wait_port 25522 127.0.0.3
# The users exist once both seed files are applied.
for _ in $(seq 1 600); do [ "$(grep -l "applied:" "$relay/log-a" "$relay/log-b" 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.2; done
echo "== mmss-relay"
for w in 5 1; do
  bench --scenario roundtrip -n "$N" -w $w --seconds "$RUN" --host 127.0.0.2 --port 25422 --domain 127.0.0.2 --users 2 --user-digits 4 \
    --peer-host 127.0.0.3 --peer-port 25522 --peer-domain 127.0.0.3 --peer-users 3 --server-pid "$(IFS=,; echo "${relay_pids[*]}")" \
    --label mmss-relay --mode mmss --warmup "$WARMUP" --source-addresses "$SOURCES" --json "$results/mmss-relay-$((w == 5 ? 2 : 3))-w$w.json" >/dev/null
done
stop_pid "${relay_pids[0]}" TERM 30
stop_pid "${relay_pids[1]}" TERM 30
server_pid=""
fi

# --- the MMSS as a cluster: PostgreSQL, 1 silo, 1 gateway (an Orleans client of the silo), all on loopback
if wanted mmss-cluster; then
cluster="$work/mmss-cluster"
pg="$cluster/pg"
mkdir -p "$pg"
mmss_seed "$cluster/seed.json"
chown postgres "$pg"
chmod 700 "$pg"
PG_BIN=$(pg_bin)
# PostgreSQL refuses to run as root. setpriv, not runuser: runuser applies PAM limits (descriptors back to 1024).
as_postgres=(env -u PGDATA -u PGHOST -u PGPORT -u PGUSER LC_ALL=C setpriv --reuid=postgres --regid=postgres --init-groups)
(cd "$pg" && exec "${as_postgres[@]}" "$PG_BIN/initdb" -D "$pg/data" -A trust -U postgres -E UTF8 --locale=C --no-instructions) \
  > "$pg/initdb.log" 2>&1
# exec all the way down (subshell, env, setpriv): $! is the postmaster itself, the process sampled and stopped. Default
# durability: fsync and synchronous_commit on, as the embedded row's SQLite synchronous=FULL. Its log names every
# autovacuum and checkpoint with its time: the cluster's CPU at rest counts the postmaster's children, and those are
# what moves it from one run to the next.
(cd "$pg" && exec "${as_postgres[@]}" "$PG_BIN/postgres" -D "$pg/data" -c listen_addresses=127.0.0.1 -c port=$PG_PORT \
  -c unix_socket_directories="$pg" -c max_connections=200 -c log_autovacuum_min_duration=0 -c log_checkpoints=on) \
  > "$pg/log" 2>&1 &
postgres_pid=$!
for _ in $(seq 1 300); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres && break; sleep 0.2; done
if [ "$(head -1 "$pg/data/postmaster.pid" 2>/dev/null)" != "$postgres_pid" ]; then
  echo "PostgreSQL did not start as process $postgres_pid; the end of $pg/log:" >&2; tail -n 20 "$pg/log" >&2; exit 1
fi
"$PG_BIN/createdb" -h 127.0.0.1 -p $PG_PORT -U postgres mmss
CONNECTION="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=mmss"
Mmss__Cluster__ConnectionString="$CONNECTION" Logging__LogLevel__Default=Warning \
  dotnet silo/bin/Release/net10.0/Mmss.Silo.dll migrate > "$cluster/migrate.log" 2>&1
Mmss__Cluster__ConnectionString="$CONNECTION" Mmss__DataDir="$cluster/silo" Mmss__Orleans__SiloPort=$SILO_PORT \
Mmss__Orleans__GatewayPort=$SILO_GATEWAY_PORT Mmss__Orleans__AdvertisedAddress=127.0.0.1 Mmss__Health__BindAddress=127.0.0.1 \
Mmss__Health__Port=$SILO_HEALTH_PORT Logging__LogLevel__Default=Warning DOTNET_GCgen0size=0x4000000 \
  dotnet silo/bin/Release/net10.0/Mmss.Silo.dll > "$cluster/silo.log" 2>&1 &
silo_pid=$!
wait_ready "http://127.0.0.1:$SILO_HEALTH_PORT/health/ready" "$silo_pid" "$cluster/silo.log" 120
# The gateway as the embedded row starts it, plus the cluster database: it then hosts no silo. It applies the seed file
# (one user after the other, each a grain call and a commit) before it reports ready.
Mmss__Cluster__ConnectionString="$CONNECTION" \
Mmss__DataDir="$cluster/data" Mmss__Domains__0=localhost Mmss__C2s__BindAddress=127.0.0.1 Mmss__C2s__Port=$CLUSTER_PORT \
Mmss__C2s__TlsPort=$CLUSTER_TLS_PORT Mmss__Http__BindAddress=127.0.0.1 Mmss__Http__Port=$CLUSTER_HTTP_PORT Mmss__Orleans__SiloPort=25212 \
Mmss__Orleans__GatewayPort=25231 Mmss__C2s__AllowPlaintext=true Mmss__Admin__Token=bench Logging__LogLevel__Default=Warning \
Mmss__Provisioning__SeedFile="$cluster/seed.json" DOTNET_GCgen0size=0x4000000 MALLOC_ARENA_MAX=2 dotnet gateway/bin/Release/net10.0/Mmss.Gateway.dll > "$cluster/gateway.log" 2>&1 &
gateway_pid=$!
wait_ready "http://127.0.0.1:$CLUSTER_HTTP_PORT/health/ready" "$gateway_pid" "$cluster/gateway.log" 1200
# CPU and memory: the gateway, the silo, and the postmaster with its backends (its children).
cluster_pids="$gateway_pid,$silo_pid,$postgres_pid"
run_scenarios mmss-cluster $CLUSTER_PORT "$cluster_pids" mmss false
mmss_only_scenarios mmss-cluster $CLUSTER_PORT "$cluster_pids" $CLUSTER_HTTP_PORT
stop_cluster
fi

# --- the ceiling: a forwarder that logs users in and copies bytes to the partner, no parsing, nothing stored
# Started directly, not through the bench function: $! must be the process whose CPU is sampled.
if wanted forwarder; then
dotnet bench/Mmss.Bench/bin/Release/net10.0/Mmss.Bench.dll --scenario forwarder --port $FORWARDER_PORT --domain localhost > "$work/forwarder.log" 2>&1 &
server_pid=$!
wait_port $FORWARDER_PORT
echo "== forwarder"
for w in 5 1; do
  bench --scenario roundtrip -n "$N" -w $w --seconds "$RUN" --port $FORWARDER_PORT --domain localhost --server-pid "$server_pid" \
    --label forwarder --mode xmpp --warmup "$WARMUP" --source-addresses "$SOURCES" --json "$results/forwarder-$((w == 5 ? 2 : 3))-w$w.json" >/dev/null
done
stop_server
fi

# --- Prosody 0.12 (runs as the prosody user), plain-text accounts written directly
if wanted prosody; then
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
server_pid=$prosody_pid
run_scenarios prosody $PROSODY_PORT "$prosody_pid" xmpp false
# Prosody 0.12 may fail in its own shutdown (mod_c2s: "attempt to call a nil value (method 'close')") and then hang
# without listening: stop_server gives it a while, then kills it.
stop_server
fi

# --- ejabberd 23.01, loopback only, users by in-band registration
if wanted ejabberd; then
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
fi

# --- the report: every figure with its ratio to the best peer
# Inputs in scenario order (the number after the label; labels may hold dashes), then by label: tables come in that order.
inputs=$(cd "$results" && ls ./*.json | sed -E 's|^\./(([a-z]+(-[a-z]+)*)-([0-9])-.*)$|\4 \2 \1|' | sort -k1,1n -k2,2 -k3,3 | awk -v dir="$results" '{print dir "/" $3}' | paste -sd,)
bench --scenario report --inputs "$inputs" --out "$work/table.md" --svg bench/results.svg >/dev/null
{
  echo "# Benchmark results"
  echo
  only=""
  if [ "$ONLY" != "$ALL_SERVERS" ]; then only="ONLY='$ONLY' "; fi
  echo "Command: \`${only}N=$N LOGINS=$LOGINS IDLE=$IDLE IDLE_TLS=$IDLE_TLS RUN=$RUN GROUP_SIZES='$GROUP_SIZES' bash bench/compare.sh\`, run $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "on commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git status --porcelain -- . ':!bench' 2>/dev/null)" ] && echo ' plus uncommitted changes outside bench/')."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB;"
  echo "driver and server share it. MMSS: embedded mode, SQLite synchronous=FULL, every MMS stored before delivery and"
  echo "its ACK relayed (DOTNET_GCgen0size=0x4000000, and MALLOC_ARENA_MAX=2 as the image and \`dotnet run\` set it; see README)."
  if wanted mmss-cluster; then
    echo "mmss-cluster: the same MMSS as 1 silo + 1 gateway (an Orleans client of the silo) on loopback, state in PostgreSQL"
    echo "$("$(pg_bin)/postgres" --version | awk '{print $3}') (fsync and synchronous_commit on: the same promise), both .NET processes with the same GC setting;"
    echo "its server CPU and memory (PSS) count the gateway, the silo, and the postmaster with its backends; \"× mmss\" sets it"
    echo "against the embedded row."
  fi
  if wanted mmss; then
    echo "mmss-chat: the embedded MMSS carrying the peers' workload (W=5 only): a chat message answered by a chat message, each"
    echo "written to the recipient's live session and stored only if its writing is not confirmed in time."
  fi
  echo "Peers: a chat message answered by a chat message. Memory is the proportional set size (PSS) of the server's processes. Logins"
  echo "over STARTTLS + SASL (PLAIN, then SCRAM-SHA-1), each measured after $WARMUP s of the same logins (a server's first logins pay its"
  echo "start-up), the other scenarios in plain text (all servers alike). Ratios are against the best peer in"
  echo "the same run. The forwarder logs users in and copies bytes to the partner without parsing or storing:"
  echo "the ceiling the driver allows here."
  echo "Group fan-out and attachments exist only in the MMSS. Idle connections: at most $(ulimit -Hn) descriptors per"
  echo "process here (the hard limit; raising it needs CAP_SYS_RESOURCE): idle-tls holds $IDLE_TLS connections (STARTTLS +"
  echo "SCRAM-SHA-1, as terminals do), idle $IDLE in plain text."
  if wanted mmss-relay; then
    echo "mmss-relay: two embedded MMSS domains (127.0.0.2, 127.0.0.3) linked by XMPP server-to-server with dialback; every"
    echo "sender at the first, every receiver at the second, so each MMS and each ACK crosses the link; CPU counts both."
  fi
  echo
  cat "$work/table.md"
  echo "![chart](results.svg)"
} > bench/RESULTS.md
cat bench/RESULTS.md
echo "raw results and logs: $work"
