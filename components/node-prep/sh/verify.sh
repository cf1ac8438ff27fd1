# shellcheck shell=bash
verify() { # verify FILE DIGEST: the file's digest equals DIGEST (sha256:… or sha512:…)
  local alg=${2%%:*} want=${2#*:} have
  [[ -f $1 ]] || return 1
  have=$("${alg}sum" "$1" | cut -d" " -f1); [[ $have == "$want" ]]
}
