# shellcheck shell=bash
put() { # put PATH MODE OWNER: stdin (base64) -> PATH, atomically
  local tmp; install -d -m 0755 "$(dirname "$1")"; tmp=$(mktemp "$1.XXXXXX")
  base64 -d > "$tmp"; chmod "$2" "$tmp"; chown "$3" "$tmp"; mv -f "$tmp" "$1"
}
