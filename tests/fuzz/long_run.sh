#!/usr/bin/env bash
# The long fuzz run (issue 20): every fuzz target for a fixed time, then the
# parser fuzzer (the fastest, and the one facing the network) on every core
# until the executions of all targets together reach TOTAL.
#
#   bash tests/fuzz/long_run.sh            # needs build/fuzz (tests/run_all.sh
#                                          # fuzz stage, or the configure below)
#   TOTAL=100000000 SECONDS_EACH=600 SLOW_SECONDS=300 JOBS=2 bash tests/fuzz/long_run.sh
#
# Seeds are read from tests/fuzz/corpus/ and never written; new inputs go to
# build/fuzz/long/corpus/<name>, logs to build/fuzz/long/logs, crashes to
# build/fuzz/long/artifacts/<name>. Prints one line per run and the total;
# exits non-zero on any crash, leak, timeout or sanitizer report.
set -uo pipefail
cd "$(dirname "$0")/../.."

TOTAL=${TOTAL:-100000000}
SECONDS_EACH=${SECONDS_EACH:-600}   # each fast target
SLOW_SECONDS=${SLOW_SECONDS:-300}   # targets that run the store or MIME (< 1k/s)
JOBS=${JOBS:-2}
# The parser phase's longest input: its corpus grows inputs of several KB,
# which run 20 times slower than short ones and add little (a command line is
# parsed the same way at any length up to the limits the unit tests check).
PARSER_MAX_LEN=${PARSER_MAX_LEN:-1024}
SLOW="fuzz_tree fuzz_mime fuzz_keywords"
out=build/fuzz/long
list=build/fuzz/fuzzers.txt

if [[ ! -f $list ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja \
    -DTINYIMAPD_FUZZ=ON -DTINYIMAPD_TESTS=OFF >/dev/null || exit 1
fi
ninja -C build/fuzz >/dev/null || exit 1
mkdir -p "$out/logs"

# run <log-name> <target> <limit-flag> [more libFuzzer flags]
run() {
  local log=$1 name=$2 limit=$3 exe seeds dict
  shift 3
  read -r _ exe seeds dict < <(grep -P "^$name\t" "$list")
  mkdir -p "$out/corpus/$name" "$out/artifacts/$name"
  local args=("$limit" "$@" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$out/artifacts/$name/")
  [[ $dict != - ]] && args+=(-dict="$dict")
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" "${args[@]}" "$out/corpus/$name" "$seeds" >"$out/logs/$log.log" 2>&1
}

executed() { grep -m1 -o 'number_of_executed_units: *[0-9]*' "$out/logs/$1.log" | grep -o '[0-9]*$'; }

failed=0 total=0
# wait_all <log-name>...: waits for the background runs, adds up their counts.
wait_all() {
  local rc=0 n
  wait || true
  for n in "$@"; do
    local count; count=$(executed "$n")
    if [[ -z $count ]] || grep -q -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal' "$out/logs/$n.log"; then
      printf '  %-22s FAILED (log %s/logs/%s.log)\n' "$n" "$out" "$n"; failed=1
    else
      printf '  %-22s %12d executions\n' "$n" "$count"; total=$((total + count))
    fi
  done
  return $rc
}

start=$(date +%s)
batch=()
for name in $(cut -f1 "$list"); do
  [[ $name == fuzz_parser ]] && continue
  secs=$SECONDS_EACH; [[ " $SLOW " == *" $name "* ]] && secs=$SLOW_SECONDS
  run "$name" "$name" -max_total_time="$secs" &
  batch+=("$name")
  if (( ${#batch[@]} == JOBS )); then wait_all "${batch[@]}"; batch=(); fi
done
(( ${#batch[@]} )) && wait_all "${batch[@]}"

# The parser on every core, each run asked for an equal share of what is left.
left=$((TOTAL - total))
if (( left > 0 )); then
  batch=()
  for ((j = 1; j <= JOBS; j++)); do
    run "fuzz_parser.$j" fuzz_parser -runs=$(((left + JOBS - 1) / JOBS)) \
      -max_len="$PARSER_MAX_LEN" &
    batch+=("fuzz_parser.$j")
  done
  wait_all "${batch[@]}"
fi
printf 'total %d executions in %d s (target %d)\n' "$total" $(($(date +%s) - start)) "$TOTAL"
(( failed == 0 && total >= TOTAL ))
