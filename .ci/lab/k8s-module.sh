# shellcheck shell=bash
# Sourced by the lab's builds: a wrapper module that builds commands of k8s.io/kubernetes at a
# release from the Go module proxy. k8s.io/kubernetes replaces its staging modules with local
# paths its module zip lacks; the wrapper requires each at the matching v0.<minor>.<patch>.
# k8s_module DIR VERSION: the wrapper in DIR; sets K8S_LDFLAGS (the version a binary reports).
k8s_module() {
  local dir=$1 v=$2 minor=${2#*.} kdir pkg
  minor=${minor%%.*}
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init local/wrapper >/dev/null 2>&1 && go mod edit -require="k8s.io/kubernetes@v$v")
  kdir=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$v" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).Dir')
  grep -oE '^\s*k8s.io/[a-z0-9-]+ => ./staging/src/k8s.io/[a-z0-9-]+' "$kdir/go.mod" | awk '{print $1}' | while read -r m; do
    (cd "$dir" && go mod edit -replace="$m=$m@v0.${v#*.}")
  done
  K8S_LDFLAGS="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS+=" -X $pkg.gitVersion=v$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=2026-01-01T00:00:00Z"
  done
  # shellcheck disable=SC2034 # read by the scripts that source this
  K8S_MODULE_DIR=$kdir
}
