#!/usr/bin/env bash
# Check all lipcert proofs from clean:
#   1. build every file listed in _CoqProject with coqc (via coq_makefile);
#   2. fail if any .v file under proofs/, after its comments (* ... *) are
#      removed, contains one of the whole words Admitted, admit, Axiom(s),
#      Parameter(s), Hypothesis, Hypotheses, Conjecture (anywhere outside
#      comments, which in particular covers the start of every command), or
#      the command `Declare Module`;
#      Section `Variable`s are allowed: they become explicit arguments;
#      the single word `Parameter` is allowed inside a module type, i.e.
#      between `Module Type <Name> ... .` and its `End <Name>.` (and nowhere
#      else): a module type is a signature, used here as the type of a
#      functor argument (the functor's theorems are then universally
#      quantified over every module of that type) and implemented by modules
#      whose fields are definitions with proofs, checked by `<:`
#      (FloatRounding.v: `Module Type FORMAT`, implemented by `Binary64` and
#      `Binary32`).  A module type can still be turned into unproved
#      assumptions (`Declare Module`, forbidden here, or a plain module that
#      `Include`s it); step 4 catches every such case;
#   3. run `Print Assumptions` on every Theorem/Lemma/Corollary of every file
#      and fail if any axiom outside the allow-list below is reported;
#   4. re-check every compiled lipcert module with Coq's independent kernel
#      checker (`coqchk -norec`: the lipcert modules, dependencies admitted)
#      and fail if it reports any axiom declared in lipcert itself (a name
#      `Lipcert.…`, whatever command or module construction introduced it,
#      used or not) or any use of type-in-type, unsafe fixpoints or assumed
#      positivity. The axioms of the dependencies are step 3's business.
# Usage: bash proofs/check.sh        (from the repository root or from proofs/)
set -euo pipefail
cd "$(dirname "$0")"
JOBS="${JOBS:-1}"

# The three axioms of Coq's standard-library real numbers (Coq >= 8.11 builds R
# as classical Dedekind reals from these), plus excluded middle.
ALLOWED_AXIOMS=(
  "ClassicalDedekindReals.sig_forall_dec"
  "ClassicalDedekindReals.sig_not_dec"
  "FunctionalExtensionality.functional_extensionality_dep"
  # Excluded middle; used by Flocq (e.g. generic_format_EM, round_DN_or_UP)
  # and by the standard library's mean value theorem.
  "Classical_Prop.classic"
  # Hilbert's epsilon (a choice operator on R), used by mathcomp-analysis'
  # Rstruct to make R a mathcomp fieldType; only Invert.v (and Strict.v,
  # which uses it) depend on it.
  "Epsilon.epsilon_statement"
)

start=$(date +%s)
echo "== building from clean"
make clean >/dev/null
make -j"$JOBS" 2>&1 | grep -v '^COQ\(DEP\|C\) ' || true
test -f Makefile.coq

FILES=$(grep -E '^theories/.*\.v$' _CoqProject)
for f in $FILES; do
  if [ ! -f "${f%.v}.vo" ]; then echo "FAIL: $f did not compile"; exit 1; fi
done

echo "== forbidden commands"
strip_comments() {
  # Remove (possibly nested) Coq comments; keep line structure.
  python3 - "$1" <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
out, depth, i, instr = [], 0, 0, False
while i < len(s):
    if depth == 0 and s[i] == '"':
        instr = not instr; out.append(s[i]); i += 1; continue
    if not instr and s.startswith("(*", i):
        depth += 1; i += 2; continue
    if depth > 0 and s.startswith("*)", i):
        depth -= 1; i += 2; continue
    if depth > 0:
        if s[i] == "\n": out.append("\n")
        i += 1; continue
    out.append(s[i]); i += 1
print("".join(out), end="")
PY
}
mask_signature_parameters() {
  # The comment-free text of file $1 with the whole word `Parameter` blanked
  # inside `Module Type <Name> ... . ... End <Name>.` blocks, and only there
  # (a `Module Type <Name> := ...` alias has no body and masks nothing);
  # keeps line structure.
  python3 - <(strip_comments "$1") <<'PY'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
ident = r"[A-Za-z_][A-Za-z0-9_']*"
# the header command: `Module Type Name <binders>.` (a `.` ends a command
# when followed by a blank or the end of the file)
header = re.compile(r"\bModule\s+Type\s+(" + ident + r")(?![A-Za-z0-9_'])(?:[^.]|\.(?=\S))*\.(?=\s|$)")
out, pos = [], 0
while True:
    m = header.search(s, pos)
    if not m:
        break
    out.append(s[pos:m.end()]); pos = m.end()
    if ":=" in m.group(0):
        continue
    e = re.compile(r"\bEnd\s+" + re.escape(m.group(1)) + r"\s*\.(?=\s|$)").search(s, m.end())
    if not e:
        continue
    out.append(re.sub(r"\bParameter\b", " " * len("Parameter"), s[m.end():e.start()]))
    pos = e.start()
out.append(s[pos:])
print("".join(out), end="")
PY
}
bad=0
for f in $(find . -name '*.v' -not -path './_build_assumptions/*'); do
  if mask_signature_parameters "$f" | grep -nwE 'Admitted|admit|Axiom|Axioms|Parameter|Parameters|Hypothesis|Hypotheses|Conjecture' ; then
    echo "FAIL: forbidden command in $f"; bad=1
  fi
  if strip_comments "$f" | tr -s '[:space:]' ' ' | grep -qE "(^|[^A-Za-z0-9_'])Declare Module([^A-Za-z0-9_']|$)"; then
    echo "FAIL: Declare Module in $f"; bad=1
  fi
done
[ "$bad" = 0 ] || exit 1

echo "== Print Assumptions"
# For each file, one definition bundles every Theorem and Lemma of the file
# (as a tuple of their proofs); `Print Assumptions` of the bundle lists the
# union of the axioms of all of them (one traversal instead of one per lemma).
tmp=_build_assumptions
rm -rf "$tmp"; mkdir -p "$tmp"
count=0
for f in $FILES; do
  mod=$(basename "$f" .v)
  names=$(strip_comments "$f" | grep -oE '^[[:space:]]*(Theorem|Lemma|Corollary)[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' | awk '{print $2}')
  tuple=""
  for n in $names; do
    tuple="${tuple:+$tuple, }@$mod.$n"; count=$((count+1))
  done
  {
    echo "From Lipcert Require Import $mod."
    echo "Definition all_$mod := ($tuple)."
    echo "Print Assumptions all_$mod."
  } > "$tmp/A_$mod.v"
done
for a in "$tmp"/A_*.v; do
  coqc -R theories Lipcert "$a" > "$a.out" 2>&1 || { cat "$a.out"; echo "FAIL: $a"; exit 1; }
  echo "  $(basename "$a" .v | sed 's/^A_//'): $(grep -hE "^[A-Za-z_][A-Za-z0-9_.']*( :.*)?$" "$a.out" | grep -vE '^(Axioms:|Closed under the global context)' | sed 's/ :.*//' | sort -u | tr '\n' ' ')"
done
echo "$count" > "$tmp/count"
# Axiom names are the lines of the output that start in column 0 with a
# qualified identifier, alone or followed by ` : type` (types continue on
# indented lines); `Axioms:` and `Closed under the global context` are headers.
grep -hE "^[A-Za-z_][A-Za-z0-9_.']*( :.*)?$" "$tmp"/A_*.v.out \
  | grep -vE '^(Axioms:|Closed under the global context)' \
  | sed 's/ :.*//' | sort -u > "$tmp/axioms"
echo "theorems and lemmas checked: $(cat "$tmp/count")"
echo "axioms used:"; sed 's/^/  /' "$tmp/axioms"
for ax in $(cat "$tmp/axioms"); do
  ok=0
  for al in "${ALLOWED_AXIOMS[@]}"; do [ "$ax" = "$al" ] && ok=1; done
  if [ "$ok" = 0 ]; then echo "FAIL: axiom not in allow-list: $ax"; exit 1; fi
done
rm -rf "$tmp"

echo "== coqchk"
chk_args=()
for f in $FILES; do chk_args+=(-norec "Lipcert.$(basename "$f" .v)"); done
chk_out=$(coqchk -silent -o -Q theories Lipcert "${chk_args[@]}" 2>&1) \
  || { echo "$chk_out"; echo "FAIL: coqchk rejected the compiled proofs"; exit 1; }
if echo "$chk_out" | grep -E '^[[:space:]]+Lipcert\.'; then
  echo "FAIL: axioms declared in lipcert itself (listed above)"; exit 1
fi
for kind in "type-in-type" "unsafe (co)fixpoints" "positivity is assumed"; do
  line=$(echo "$chk_out" | grep -F "$kind" || true)
  case "$line" in
    *"<none>") ;;
    *) echo "$chk_out"; echo "FAIL: coqchk reports $kind (or its report changed format)"; exit 1 ;;
  esac
done
echo "  $(( ${#chk_args[@]} / 2 )) modules re-checked by the kernel checker, no axiom declared in lipcert"
echo "OK: all proofs checked in $(( $(date +%s) - start ))s"
