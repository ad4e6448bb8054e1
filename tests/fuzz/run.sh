#!/usr/bin/env bash
# Coverage-guided fuzzing of the byte-level parsers: SharpFuzz instruments the project's assemblies, AFL++ drives them.
#   bash tests/fuzz/run.sh [seconds-per-target] [--no-build] [target...]
# Default: 20 s for each target (the short run of tests/run.sh). README.md "Reliability" describes the long run.
# Installs what it needs when missing: Debian's afl++, and the SharpFuzz command-line tool (into /tmp, not the repo).
# Ends with one line in the format of `dotnet test`, "Passed!  - Failed: M, Passed: N ...", which tests/run.sh adds up:
# a target passes when its seeds replay clean and afl-fuzz ran and left no crash and no hang that replays; findings
# stay in tests/fuzz/out/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=20
build=true
targets=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds=$arg ;;
  esac
done

work=${MMSS_FUZZ_OUT:-tests/fuzz/out}
tools=${MMSS_FUZZ_TOOLS:-/tmp/mmss-fuzz-tools}
sharpfuzz_version=2.3.0   # the SharpFuzz package pinned in Directory.Packages.props

if ! command -v afl-fuzz >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq afl++ >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq afl++ >/dev/null; }
fi
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$tools" >/dev/null
fi

if $build; then
  dotnet build tests/fuzz/Mmss.Fuzz.csproj -c Release --nologo -v quiet >/dev/null
fi

# Instrument a copy: the build output stays as it was (an assembly is instrumented once, never twice).
app=$work/app
rm -rf "$app"
mkdir -p "$work"
cp -r tests/fuzz/bin/Release/net10.0 "$app"
# Everything but afl-fuzz's own runs uses the build output: instrumented code writes to afl-fuzz's shared memory
# and faults without it.
replay=tests/fuzz/bin/Release/net10.0/Mmss.Fuzz.dll
fuzz() { dotnet "$replay" "$@"; }
declare -A instrument_of
while read -r name assemblies; do instrument_of[$name]=$assemblies; done < <(fuzz list)
[ ${#targets[@]} -gt 0 ] || targets=($(fuzz list | cut -d' ' -f1))
for assembly in $(printf '%s\n' "${instrument_of[@]}" | tr ',' '\n' | sort -u); do
  "$tools/sharpfuzz" "$app/$assembly" >/dev/null
done

# afl-fuzz on a shared machine: no CPU binding, no frequency or core-dump checks; the .NET fork server is not an ELF
# AFL knows. The GC heap limit turns unbounded memory into an OutOfMemoryException, that is a crash.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1
export DOTNET_GCHeapHardLimit=0x20000000   # 512 MiB
timeout_ms=${MMSS_FUZZ_TIMEOUT_MS:-5000}

passed=0
failed=0
stat() { grep -E "^$1 +:" "$2" | sed 's/.*: *//'; }
for target in "${targets[@]}"; do
  dir=$work/$target
  rm -rf "$dir/in"
  mkdir -p "$dir/in"
  fuzz seed "$target" "$dir/in"
  fuzz dict "$target" "$dir/dictionary"
  # The seeds first, on the plain build: a seed that crashes is a regression (afl-fuzz would only skip it).
  if ! fuzz replay "$target" "$dir/in" >"$dir/seeds.log" 2>&1; then
    echo "FAIL  $target: a seed crashes (see $dir/seeds.log)"
    grep -v '^ok' "$dir/seeds.log" | head -12 | sed -E 's/^/      /; s/(Passed|Failed):/\1 :/g' || true
    failed=$((failed + 1))
    continue
  fi
  # A previous run's corpus continues where it stopped (afl-fuzz -i -); a new run starts from the seeds.
  input=$dir/in
  if [ -f "$dir/findings/default/fuzzer_stats" ] && [ "${MMSS_FUZZ_RESUME:-0}" = 1 ]; then input=-; else rm -rf "$dir/findings"; fi
  log=$dir/afl.log
  ran=false
  for _ in 1 2; do
    if timeout $((seconds + 120)) afl-fuzz -V "$seconds" -i "$input" -o "$dir/findings" -x "$dir/dictionary" -t "$timeout_ms" -m none \
        -- "$(command -v dotnet)" "$app/Mmss.Fuzz.dll" "$target" >"$log" 2>&1 && [ -f "$dir/findings/default/fuzzer_stats" ]; then
      ran=true
      break
    fi
    # Once, on a machine at load 20, afl-fuzz saw no coverage on its first dry run ("No instrumentation detected")
    # and ran fine when started again: one more start, from the seeds.
    input=$dir/in
    rm -rf "$dir/findings"
  done
  if ! $ran; then
    echo "FAIL  $target: afl-fuzz did not run (see $log)"
    tail -5 "$log" | sed -E 's/^/      /; s/(Passed|Failed):/\1 :/g'
    failed=$((failed + 1))
    continue
  fi
  stats=$dir/findings/default/fuzzer_stats
  crashes=$(find "$dir/findings/default/crashes" -name 'id:*' 2>/dev/null | wc -l)
  hangs=$(find "$dir/findings/default/hangs" -name 'id:*' 2>/dev/null | wc -l)
  # A hang under afl-fuzz on a loaded machine may be only slow: it counts when it still takes over 20 s alone.
  real_hangs=0
  for hang in $(find "$dir/findings/default/hangs" -name 'id:*' 2>/dev/null); do
    timeout 20 dotnet "$replay" replay "$target" "$hang" >/dev/null 2>&1 || real_hangs=$((real_hangs + 1))
  done
  summary="$(stat execs_done "$stats") execs in $(stat run_time "$stats") s ($(stat execs_per_sec "$stats")/s), corpus $(stat corpus_count "$stats"), $(stat edges_found "$stats") edges, $crashes crashes, $hangs hangs ($real_hangs replayed as hangs)"
  if [ "$crashes" -eq 0 ] && [ "$real_hangs" -eq 0 ]; then
    echo "PASS  $target: $summary"
    passed=$((passed + 1))
  else
    echo "FAIL  $target: $summary; replay: dotnet $replay replay $target $dir/findings/default/crashes"
    # Indented, and "Passed:"/"Failed:" in an input's text defused: tests/run.sh counts those words.
    fuzz replay "$target" "$dir/findings/default/crashes" 2>&1 | grep -v '^ok' | head -20 | sed -E 's/^/      /; s/(Passed|Failed):/\1 :/g' || true
    failed=$((failed + 1))
  fi
done

result=Passed
[ "$failed" -eq 0 ] || result=Failed
echo "$result!  - Failed: $failed, Passed: $passed, Skipped: 0, Total: $((passed + failed)), ${seconds} s per target - fuzz (tests/fuzz/run.sh)"
[ "$failed" -eq 0 ]
