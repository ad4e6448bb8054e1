#!/usr/bin/env bash
# The project's test command: installs what the tests need, runs every test project, and ends with
# one line "N passed, M failed". `bash tests/run.sh --fast` runs the unit and grain tests only (no server, no installs).
set -euo pipefail
cd "$(dirname "$0")/.."

fast=false
[ "${1:-}" = "--fast" ] && fast=true

install_prerequisites() {
  # Debian's slixmpp is the third-party client of the interop tests; it runs under /usr/bin/python3.
  local packages=()
  /usr/bin/python3 -c "import slixmpp" >/dev/null 2>&1 || packages+=(python3-slixmpp)
  command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
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

if $fast; then
  projects=(tests/Mmss.Protocol.Tests tests/Mmss.Grains.Tests)
else
  install_prerequisites
  projects=(tests/Mmss.Protocol.Tests tests/Mmss.Grains.Tests tests/Mmss.Integration.Tests)
fi

dotnet build Mmss.Orleans.sln -c Release --nologo -v quiet

log=$(mktemp)
status=0
for project in "${projects[@]}"; do
  dotnet test "$project" -c Release --no-build --nologo 2>&1 | tee -a "$log" || status=1
done

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
summaries=$(grep -Ec '^(Passed|Failed)! ' "$log" || true)
rm -f "$log"
if [ "$summaries" -ne "${#projects[@]}" ]; then
  echo "a test project did not report its results" >&2
  status=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
