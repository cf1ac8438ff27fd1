#!/usr/bin/env bash
# Builds the Pulumi CLI at the version of @pulumi/pulumi in package-lock.json from the Go
# module proxy (github.com/pulumi/pulumi/pkg/v3 and sdk/v3), into $CACHE/engine/pulumi-vX/.
# Skipped when the binary is there. Output: the path of the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
version=$(node -p 'require(process.argv[1]).packages["node_modules/@pulumi/pulumi"].version' "$here/../../package-lock.json")
out=$cache/engine/pulumi-v$version/bin
if [[ -x $out/pulumi ]]; then echo "$out"; exit 0; fi
work=$(mktemp -d "$cache/tmp.pulumi-cli.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/tmp.pulumi-cli.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
go mod init local/pulumi-cli >/dev/null 2>&1
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$version" -require="github.com/pulumi/pulumi/sdk/v3@v$version"
# pkg/v3's own go.mod replaces the clipboard module; replaces are not inherited by a requiring module.
go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go mod tidy >/dev/null 2>&1 || true
mkdir -p "$out.partial"
go build -trimpath -o "$out.partial/pulumi" \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$out.partial" "$out"
echo "$out"
