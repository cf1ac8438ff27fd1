# shellcheck shell=bash
fetch() { # fetch FILE URL DIGEST: download unless the cache already has the right file
  local f=@CACHE_DIR@/$1
  if verify "$f" "$3"; then return 0; fi
  curl -fsSL --retry 5 --connect-timeout 20 -o "$f.part" "$2"
  if ! verify "$f.part" "$3"; then
    echo "checksum mismatch for $1 from $2: expected $3, got ${3%%:*}:$("${3%%:*}sum" "$f.part" | cut -d' ' -f1)" >&2
    rm -f "$f.part"; exit 1
  fi
  mv -f "$f.part" "$f"
}
