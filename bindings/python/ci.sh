#!/usr/bin/env bash
# Builds the lipcert Python package into a virtual environment under
# target/ and runs its pytest suite. Called by .ci/run; runnable by hand.
#
# The wheel is built with Cargo's `dev` profile by default (dependencies at
# opt-level 3 by the root Cargo.toml, lipcert and the bindings raised to 3
# below): cheaper than a release build, which recompiles every dependency,
# and a warm target/ rebuilds nothing. Set LIPCERT_PY_PROFILE=release for a
# release wheel (what `pip install ./bindings/python` builds).
#
# pytest's exit code 5 ("no tests collected") is a failure here.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/pyenv
profile="${LIPCERT_PY_PROFILE:-dev}"
wheels=target/python-wheels

if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.9.4,<2" numpy pytest ml_dtypes

rm -rf "$wheels"
# In the dev profile lipcert itself is compiled at opt-level 1 (for the
# test suite); the wheel gets opt-level 3 for lipcert and the bindings
# through command-line overrides, leaving Cargo.toml and `cargo test` alone.
opt=()
if [ "$profile" = dev ]; then
  opt=(--config 'profile.dev.package.lipcert.opt-level=3'
       --config 'profile.dev.package.lipcert-python.opt-level=3')
fi
"$venv/bin/maturin" build --manifest-path bindings/python/Cargo.toml \
  --profile "$profile" "${opt[@]}" --strip --interpreter "$venv/bin/python" --out "$wheels"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  --force-reinstall --no-deps "$wheels"/lipcert-*.whl

# The working directory is the repository root, which has no `lipcert`
# package, so `import lipcert` finds the installed wheel.
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "bindings/python/ci.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$code"
