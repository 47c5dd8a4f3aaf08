#!/usr/bin/env bash
# Build-time measurement from a fresh clone (issue #14: "a fresh clone's
# `cargo test` in <= 8 minutes; the library alone as a dependency in <= 3").
#
#   bash tools/measure_build.sh [REPO] [REF]
#
# REPO defaults to this checkout, REF to HEAD (committed work only). It
# clones REPO into a temporary directory and, each time with an EMPTY
# CARGO_TARGET_DIR (CARGO_HOME's registry cache is kept, so nothing is
# downloaded), times
#   (a) `cargo test --no-run`  - compiling everything the README's test command needs
#   (b) `cargo test`           - in (a)'s target dir: what is left (running the tests);
#                                (a) + (b) is the README's `cargo test` on a fresh clone
#                                (FRESH_B=1: run (b) in its own empty target dir instead)
#   (c) a throwaway crate with `lipcert = { path = …, default-features = false }`:
#       `cargo build`, then `cargo test --no-run`, in the dev profile the README's
#       "As a dependency" section recommends (DEP_PROFILE=readme, the default:
#       `package."*"` at opt-level 3 with lipcert's own list of proc-macro and
#       build-script crates back at opt-level 0; DEP_PROFILE=star-only without
#       that list), or DEP_PROFILE=lipcert-faer (only those
#       two at opt-level 3: faster to build, but faer's kernel crates stay
#       unoptimised) or DEP_PROFILE=plain (cargo's default dev profile).
# SKIP_AB=1 measures only (c).
# and prints wall-clock and CPU (user + sys) for each. CPU time is what to
# compare on a shared machine; on a quiet 2-vCPU machine wall is about
# CPU / 1.8 for the dependency-heavy phases (less parallel at the end).
# TIMINGS=1 adds `--timings` (HTML reports are copied next to the log).
# KEEP=1 keeps the temporary directory. Output: stdout and $OUT (default
# /tmp/measure_build.<pid>.log); each step's cargo output next to it.
set -euo pipefail

repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
ref=${2:-HEAD}
tmp=$(mktemp -d /tmp/lipcert-measure.XXXXXX)
out=${OUT:-/tmp/measure_build.$$.log}
timings=()
[ "${TIMINGS:-}" = "1" ] && timings=(--timings)
cleanup() { [ "${KEEP:-}" = "1" ] || rm -rf "$tmp"; }
trap cleanup EXIT

log() { echo "$*" | tee -a "$out"; }

# run LABEL DIR TARGET_DIR CMD... : time one command, print wall and CPU.
run() {
  local label=$1 dir=$2 tdir=$3
  shift 3
  local tf="$tmp/time.$RANDOM"
  local rc=0
  (cd "$dir" && CARGO_TARGET_DIR="$tdir" /usr/bin/time -f '%e %U %S' -o "$tf" "$@" \
    >"$tmp/last.out" 2>"$tmp/last.err") || rc=$?
  # (GNU time puts "Command exited with non-zero status N" first on failure.)
  read -r wall user sys < <(tail -n 1 "$tf") || true
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
  log "$(printf '%-44s wall %7.1f s (%5.2f min)  cpu %7.1f s (%5.2f min: user %s + sys %s)  exit %d' \
    "$label" "$wall" "$(awk -v w="$wall" 'BEGIN{print w/60}')" "$cpu" \
    "$(awk -v c="$cpu" 'BEGIN{print c/60}')" "$user" "$sys" "$rc")"
  local saved="${out%.log}.$(echo "$label" | cut -d' ' -f1 | tr -cd 'a-z0-9')"
  cp "$tmp/last.out" "$saved.stdout" && cp "$tmp/last.err" "$saved.stderr"
  if [ "$rc" != 0 ]; then
    tail -30 "$tmp/last.err" | tee -a "$out"
  fi
  { grep -E '^test result:' "$tmp/last.out" || true; } |
    awk '{p += $4; f += $6; i += $8} END { if (NR) printf "    tests: %d passed, %d failed, %d ignored (%d result lines)\n", p, f, i, NR }' |
    tee -a "$out"
  if [ ${#timings[@]} -gt 0 ] && [ -d "$tdir/cargo-timings" ]; then
    local dest="${out%.log}.timings.$(echo "$label" | tr -c 'a-zA-Z0-9' '_')"
    mkdir -p "$dest" && cp "$tdir"/cargo-timings/cargo-timing-*.html "$dest"/ 2>/dev/null || true
    rm -rf "$tdir/cargo-timings"
  fi
  return 0
}

log "== measure_build $(date -u +%FT%TZ)  repo=$repo ref=$ref  $(nproc) CPUs  load: $(cut -d' ' -f1-3 /proc/loadavg)"
log "   $(rustc -V)"
sha=$(git -C "$repo" rev-parse "$ref^{commit}" 2>/dev/null || echo "$ref")
git clone -q "$repo" "$tmp/lipcert"
git -C "$tmp/lipcert" fetch -q "$repo" "$sha" 2>/dev/null || true
git -C "$tmp/lipcert" checkout -q "$sha"
log "   commit $(git -C "$tmp/lipcert" rev-parse --short HEAD)  dependent profile: ${DEP_PROFILE:-readme}"

if [ "${SKIP_AB:-}" != "1" ]; then
run "(a) cargo test --no-run (fresh)" "$tmp/lipcert" "$tmp/target-a" cargo test --no-run "${timings[@]}"
if [ "${FRESH_B:-}" = "1" ]; then
  run "(b) cargo test (fresh)" "$tmp/lipcert" "$tmp/target-b" cargo test "${timings[@]}"
else
  run "(b) cargo test (after a: runs the tests)" "$tmp/lipcert" "$tmp/target-a" cargo test
fi
fi

# (c) the library alone, as a user's dependency without default features.
dep="$tmp/dependent"
mkdir -p "$dep/src"
cat >"$dep/Cargo.toml" <<TOML
[package]
name = "lipcert-dependent"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
lipcert = { path = "$tmp/lipcert", default-features = false }
TOML
case "${DEP_PROFILE:-readme}" in
  lipcert-faer) cat >>"$dep/Cargo.toml" <<'TOML'

[profile.dev.package.lipcert]
opt-level = 3
[profile.dev.package.faer]
opt-level = 3
TOML
    ;;
  star-only) cat >>"$dep/Cargo.toml" <<'TOML'

[profile.dev.package."*"]
opt-level = 3
TOML
    ;;
  readme)
    # The README's profile: everything at opt-level 3 but lipcert's own list
    # of compile-time-only crates, set back to opt-level 0.
    { printf '\n[profile.dev.package."*"]\nopt-level = 3\n\n[profile.dev.package]\n'
      awk '/^\[profile.dev.package\]$/ {on=1; next} /^\[/ {on=0} on && /opt-level = 0/' \
        "$tmp/lipcert/Cargo.toml"
    } >>"$dep/Cargo.toml"
    ;;
  plain) ;;
  *) echo "DEP_PROFILE must be readme, star-only, lipcert-faer or plain" >&2; exit 2 ;;
esac
cat >"$dep/src/lib.rs" <<'RS'
//! A user's crate that checks a layer against lipcert.
pub fn layer() -> Vec<f64> {
    vec![0.6, -0.8, 0.8, 0.6]
}

#[cfg(test)]
mod tests {
    #[test]
    fn rotation_is_one_lipschitz() {
        let w = lipcert::DenseMatrix::from_row_major(2, 2, &super::layer()).unwrap();
        lipcert::oracle::assert_normalized(&w, 1e-6);
    }
}
RS
# Same dependency versions as lipcert's own lock file (cargo drops the rest).
cp "$tmp/lipcert/Cargo.lock" "$dep/Cargo.lock"
run "(c1) dependent: cargo build (fresh)" "$dep" "$tmp/target-c" cargo build "${timings[@]}"
run "(c2) dependent: cargo test --no-run (after c1)" "$dep" "$tmp/target-c" cargo test --no-run
run "(c3) dependent: cargo test (after c2)" "$dep" "$tmp/target-c" cargo test
log "   crates compiled for (c1): $(cd "$dep" && cargo tree -e normal --prefix none 2>/dev/null | sort -u | wc -l)"
log "== done; log in $out"
