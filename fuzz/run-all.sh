#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), from the seeds in fuzz/seeds/,
# and prints the executions and findings of each. Exits non-zero on the first crash
# (its input is kept in fuzz/artifacts/TARGET/). Needs cargo-fuzz; the targets need
# nightly features, enabled on a stable toolchain with RUSTC_BOOTSTRAP=1.
#
#   fuzz/run-all.sh 20            # what CI runs
#   fuzz/run-all.sh 600 telnet    # one target for longer
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
shift || true
export RUSTC_BOOTSTRAP=1
# No sanitizer: the crates are safe Rust (unsafe_code is denied outside one module),
# so the slow-down of ASan buys little; panics, hangs and the targets' own
# assertions are what we look for.
flags=(--sanitizer none -O)
cargo fuzz build "${flags[@]}"
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "artifacts/$t"
  log="$work/$t.log"
  # The first corpus directory is the scratch one libFuzzer adds to; the seeds stay as
  # they are in the repository.
  if ! cargo fuzz run "${flags[@]}" "$t" "$work/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FOUND A CRASH; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
  printf 'fuzz: %-18s %10s executions in %ss, coverage %s, no crash\n' "$t" "${execs:-?}" "$seconds" "${cov:-?}"
  total=$((total + ${execs:-0}))
done
echo "fuzz: ${#targets[@]} targets, $total executions, no crash"
