#!/usr/bin/env bash
# Runs cmd/mcuload over the cases of docs/BENCHMARKS.md, each case REPS times in interleaved rounds
# (so that a noisy stretch of the host lands on every case alike), pinned to one core, and prints
# the median and the range of the CPU per room.
#   bash scripts/mcu-figures.sh [REPS] [CORE]
set -euo pipefail
reps=${1:-5}
core=${2:-1}
cd "$(dirname "$0")/.."
go build -o /tmp/mcuload ./cmd/mcuload
cases=(
	"--baseline --pattern bar"
	"--pattern bar"
	"--pattern bar --layouts 2"
	"--pattern videotest"
	"--pattern bar --parties 8"
	"--pattern bar --parties 8 --talkers 1"
	"--audio-only"
	"--audio-only --parties 8"
	"--idle"
)
declare -A got
for ((r = 0; r < reps; r++)); do
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086 # the case is a list of flags
		v=$(taskset -c "$core" /tmp/mcuload --duration 8s --warmup 2s $c 2>&1 |
			sed -n 's/.*, \([0-9.]*\)% per room.*/\1/p')
		got[$c]+="$v "
	done
done
for c in "${cases[@]}"; do
	# shellcheck disable=SC2086
	sorted=$(printf '%s\n' ${got[$c]} | sort -g | tr '\n' ' ')
	read -ra s <<<"$sorted"
	printf '%-40s median %6s%%  range %s-%s%%\n' "$c" "${s[$((${#s[@]} / 2))]}" "${s[0]}" "${s[-1]}"
done
