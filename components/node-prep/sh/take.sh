# shellcheck shell=bash
take() { # take FILE DIGEST
  if verify "@CACHE_DIR@/$1" "$2"; then rm -f "@UPLOAD_DIR@/$1"; return 0; fi
  if ! verify "@UPLOAD_DIR@/$1" "$2"; then echo "checksum mismatch for $1 copied from @SOURCE@: expected $2, got $("${2%%:*}sum" "@UPLOAD_DIR@/$1" | cut -d' ' -f1)" >&2; exit 1; fi
  mv -f "@UPLOAD_DIR@/$1" "@CACHE_DIR@/$1"
}
