#!/usr/bin/env bash
# grocli completion bash|zsh: the scripts load in the real shells and
# complete commands, subcommands, flags and flag values. Expected words
# are written here by hand from grocli --help, not taken from the scripts.
set -uo pipefail
GROCLI="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- bash -------------------------------------------------------------------
# Sources the script and prints COMPREPLY (sorted, one line) for the words
# given, the last being the word under the cursor.
bash_complete() {
  bash --norc --noprofile -c '
    source <("$0" completion bash) || exit 9
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _grocli
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
  ' "$GROCLI" grocli "$@"
}
expect_bash() {  # expect_bash "WANT" WORDS...
  local want="$1"; shift
  local got; got="$(bash_complete "$@")"
  [[ "$got" == "$want" ]] || fail "bash: grocli $* -> [$got], want [$want]"
}

out="$(bash --norc --noprofile -c 'source <("$0" completion bash) && complete -p grocli' "$GROCLI")"
[[ "$out" == "complete -F _grocli grocli" ]] || fail "complete -p grocli: [$out]"

expect_bash "tenant" ten
expect_bash "apply completion info policy ports route stats tenant version" ""
expect_bash "create delete get list update" tenant ""
expect_bash "delete" route de
expect_bash "get set" --server localhost:1 policy ""
expect_bash "--flush --flush-timeout" policy set acme --flush
expect_bash "adaptive per-burst timeout" tenant create acme --flush ""
expect_bash "timeout" tenant create acme --flush t
expect_bash "json" -o j
expect_bash "textproto" tenant list --output te
expect_bash "--max-flows --max-held --max-merged-bytes --max-segments" tenant update acme --max
expect_bash "--allow-missing" route delete acme --al
expect_bash "--allow-missing" route del acme --al   # the alias knows its flags
expect_bash "--watch" stats --w
expect_bash "--dry-run" apply --dr
expect_bash "--client" version --cl
expect_bash "bash" completion b
expect_bash "list" route add acme 10.0.0.0/8 --mode li
# A flag's value is not taken for the command: "tenant" follows -o json.
expect_bash "create delete get list update" -o json tenant ""
# Nothing is offered for a free-form value (a tenant name, a selector).
expect_bash "" tenant create acme --selector ""
# Deprecated spellings work but are not offered.
expect_bash "" policy set acme --kin
# File flags complete file names.
tmp="$(mktemp -d)"; touch "$tmp/hints-grocli-completion.txt"
expect_bash "$tmp/hints-grocli-completion.txt" route add acme --file "$tmp/hints-grocli"
expect_bash "$tmp/hints-grocli-completion.txt" --token-file "$tmp/hints-"

# --- zsh --------------------------------------------------------------------
# Runs _grocli with compadd/_files/compdef stubbed: prints what it offers
# (zsh itself filters by the typed prefix, so all candidates appear).
zsh_complete() {
  zsh -f -c '
    compdef() { print -r -- "compdef $*" >&2; }
    compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
    _files() { print -- "<files>"; }
    source <("$0" completion zsh) || exit 9
    words=(grocli "$@"); CURRENT=$#words
    _grocli
    true
  ' "$GROCLI" "$@" 2>/dev/null | sort | tr "\n" " " | sed "s/ $//"
}
expect_zsh() {
  local want="$1"; shift
  local got; got="$(zsh_complete "$@")"
  [[ "$got" == "$want" ]] || fail "zsh: grocli $* -> [$got], want [$want]"
}
if command -v zsh > /dev/null; then
  reg="$(zsh -f -c 'compdef() { print -r -- "compdef $*"; }; source <("$0" completion zsh)' "$GROCLI")"
  [[ "$reg" == "compdef _grocli grocli" ]] || fail "zsh registration: [$reg]"
  zsh -n <("$GROCLI" completion zsh) || fail "zsh -n: syntax error"
  expect_zsh "apply completion info policy ports route stats tenant version" ""
  expect_zsh "create delete get list update" tenant ""
  expect_zsh "add delete list" --deadline 5s route ""
  expect_zsh "adaptive per-burst timeout" policy set acme --flush ""
  expect_zsh "json table textproto yaml" -o ""
  expect_zsh "<files>" route add acme -f ""
  expect_zsh "bash zsh" completion ""
  got="$(zsh_complete stats -)"
  [[ " $got " == *" --interval "* && " $got " == *" --server "* && " $got " != *" --selector "* ]] \
    || fail "zsh: stats flags [$got]"
else
  fail "zsh is not installed (scripts/setup.sh installs it)"
fi

# Usage errors.
"$GROCLI" completion fish > /dev/null 2>&1; [[ $? == 2 ]] || fail "completion fish should exit 2"
"$GROCLI" completion > /dev/null 2>&1; [[ $? == 2 ]] || fail "completion without a shell should exit 2"

rm -rf "$tmp"
if (( failures > 0 )); then echo "$failures failure(s)"; exit 1; fi
echo "PASS"
