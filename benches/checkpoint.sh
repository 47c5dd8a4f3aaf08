#!/usr/bin/env bash
# One 7B-shaped transformer block (BF16, ~400 MB, two shards + index) written
# to a temporary folder, then in the same session:
#   - `lipcert sigma FOLDER --json` (release binary) under /usr/bin/time -v:
#     per-block time, 32-block extrapolation, peak memory, widest relative
#     width (from the summary line);
#   - numpy.linalg.norm(W, 2) on the same matrices, one OpenBLAS thread.
#
#   bash benches/checkpoint.sh            # builds the release binary first
#   PYTHON=/path/to/python LIPCERT_ARGS="--rel-width 1e-4" bash benches/checkpoint.sh
#
# numpy comes from $PYTHON (default target/venv/bin/python; created with
# `python3 -m venv target/venv && target/venv/bin/pip install numpy` when
# missing). Not part of `cargo test`. Needs ~1 GB of temporary disk.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-target/venv/bin/python}
if [ ! -x "$PYTHON" ]; then
  python3 -m venv target/venv
  target/venv/bin/pip install --quiet numpy
  PYTHON=target/venv/bin/python
fi
cargo build --release --quiet
bin=target/release/lipcert
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$PYTHON" benches/checkpoint.py write "$dir/ckpt"
du -sh "$dir/ckpt"
# shellcheck disable=SC2086
/usr/bin/time -v "$bin" sigma "$dir/ckpt" --json ${LIPCERT_ARGS:-} >"$dir/out.jsonl" 2>"$dir/time.txt"
OPENBLAS_NUM_THREADS=1 "$PYTHON" benches/checkpoint.py numpy "$dir/ckpt" | tee "$dir/numpy.txt"
python3 - "$dir" <<'PY'
import json, re, sys
d = sys.argv[1]
lines = [json.loads(l) for l in open(f"{d}/out.jsonl")]
summary = lines[-1]["summary"]
time_txt = open(f"{d}/time.txt").read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", time_txt).group(1)
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_txt).group(1))
numpy_s = float(open(f"{d}/numpy.txt").read().split("numpy_total_seconds")[1])
for r in lines[:-1]:
    w = (r["upper"] - r["lower"]) / r["upper"]
    print(f"{r['tensor']:42} {r['shape'][0]}x{r['shape'][1]:<6} "
          f"[{r['lower']:.12e}, {r['upper']:.12e}] width {w:.1e} {r['seconds']:.2f} s")
print(f"lipcert sigma, whole process: {wall_s:.1f} s per block, "
      f"32 blocks ≈ {32 * wall_s / 60:.1f} min; peak RSS {rss_kb / 1e6:.2f} GB; "
      f"widest relative width {summary['max_relative_width']:.1e}; "
      f"{summary['tensors']} tensors, {summary['failed']} failed")
print(f"numpy norm(W, 2), 1 thread: {numpy_s:.1f} s; ratio numpy / lipcert = {numpy_s / wall_s:.2f}")
PY
