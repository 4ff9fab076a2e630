#!/usr/bin/env bash
# Runs each libFuzzer target of fuzz/ for a set time on a scratch copy of its seed corpus and
# prints what it did; exits 1 when any target crashed (see docs/fuzzing.md).
#   scripts/run-fuzzers.sh BUILD_DIR SECONDS MAX_LEN [TARGET...]
# With no TARGET, every fuzz/*_fuzz.cpp. Crash inputs are kept in BUILD_DIR/fuzz-out/TARGET/,
# the log of each run in BUILD_DIR/fuzz-out/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
seconds=$2
max_len=$3
shift 3
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do
    f=${f#fuzz/}
    targets+=("${f%_fuzz.cpp}")
  done
fi

out="$build_dir/fuzz-out"
mkdir -p "$out"
failed=()
printf '%-22s %12s %9s %7s %7s %s\n' target execs exec/s cov ft result
for t in "${targets[@]}"; do
  corpus="$out/$t/corpus"
  rm -rf "$out/$t"
  mkdir -p "$corpus"
  cp fuzz/corpus/"$t"/* "$corpus"/
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  status=0
  # Leaks count as crashes; -timeout: a single input taking 10 s is a hang worth a report.
  "./$build_dir/fuzz/${t}_fuzz" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/$t/" "${dict[@]}" "$corpus" \
    >"$out/$t.log" 2>&1 || status=$?
  final_stat() { sed -n "s/^stat::$1: *//p" "$out/$t.log" | tail -1; }
  execs=$(final_stat number_of_executed_units)
  rate=$(final_stat average_exec_per_sec)
  cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$out/$t.log" | tail -1 | cut -d' ' -f2 || true)
  result=ok
  if [ $status -ne 0 ]; then
    result="CRASH (exit $status): $(ls "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* \
      "$out/$t"/oom-* 2>/dev/null | head -1 || true)"
    failed+=("$t")
  fi
  printf '%-22s %12s %9s %7s %7s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "$result"
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: ${failed[*]} crashed; logs in $out/" >&2
  exit 1
fi
