#!/usr/bin/env bash
# Circular exact spectrum: lipcert (certified) against numpy's Sedghi FFT+SVD
# (uncertified), run alternately ROUNDS times in the same session so that the
# shared machine's load affects both; prints per-layer medians and the ratio.
#
#   PYTHON=target/venv/bin/python ROUNDS=3 bash benches/conv_ratio.sh
#
# lipcert runs on every core by default, like `lipcert conv` (its
# `--threads` default); LIPCERT_BENCH_THREADS=1 for one thread. numpy
# always runs on one OpenBLAS thread.
# Needs numpy in $PYTHON (not a dependency of cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-target/venv/bin/python}
ROUNDS=${ROUNDS:-3}
export LIPCERT_BENCH_THREADS=${LIPCERT_BENCH_THREADS:-0}
if [ "$LIPCERT_BENCH_THREADS" = 0 ]; then
  echo "lipcert threads: all cores ($(nproc)); numpy: 1 OpenBLAS thread"
else
  echo "lipcert threads: $LIPCERT_BENCH_THREADS; numpy: 1 OpenBLAS thread"
fi
out=$(mktemp -d)
cargo bench -p lipcert-benches --bench conv --no-run >/dev/null 2>&1
for r in $(seq "$ROUNDS"); do
  CONV_BENCH_TABLE_ONLY=1 CONV_BENCH_CIRCULAR_ONLY=1 cargo bench -p lipcert-benches --bench conv 2>/dev/null \
    | grep '^| .*circular σ' >"$out/lipcert.$r"
  OPENBLAS_NUM_THREADS=1 "$PYTHON" benches/conv_numpy.py | grep '^| [^l-]' >"$out/numpy.$r"
done
python3 - "$out" "$ROUNDS" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def read(kind):
    rows = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{kind}.{r}"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.setdefault(cells[0], []).append(float(cells[-1].split()[0]))
    return rows
lc, np_ = read("lipcert"), read("numpy")
print("| layer | lipcert certified (s) | numpy Sedghi (s) | ratio |")
print("|---|---|---|---|")
for name, times in lc.items():
    a, b = statistics.median(times), statistics.median(np_[name])
    print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.1f}× |")
PY
rm -r "$out"
