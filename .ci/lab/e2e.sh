#!/usr/bin/env bash
# npm run lab:e2e — a real `pulumi up` of a three-node lab on TCG guests, checked for real,
# then a no-change preview, one rolled change, and `pulumi destroy`; offline. As root on a
# Debian machine: libvirtd and virtlogd run inside a network namespace this script creates,
# and so does the whole Pulumi run, so no packet leaves the namespace. Prints a table: time
# per phase and per layer, resources created. Cleanup always runs.
#   K8S_LAB_CACHE   build cache (default ~/.cache/k8s-lab); the builds are skipped when done
#   E2E_KEEP=1      leave the cluster up (no destroy) for a look around; cleanup then stops
#                   only what the script started when you press Ctrl-C
#   E2E_KEEP_ON_FAILURE=1  on a failure leave everything running (daemons, namespace, VMs)
#                   and print how to look and how to clean up
#   E2E_DAY_TWO=1   instead of the kubeletMaxPods roll: add a worker (k8s-4), remove it, move
#                   etcd (the default) → $E2E_ETCD_TO and Kubernetes 1.36.0 → $E2E_UPGRADE_TO (patch or minor upgrades; the
#                   second drains and uncordons node by node), each previewed, applied and checked
#   E2E_DAY_TWO_PHASES  which of day two's phases run (default: "scale etcd kubernetes")
#   E2E_CNI         the pod network: weave (default, the card's), flannel or bridge
#   E2E_UI          the web UI: dashboard (default), headlamp, both or none; its checks
#                   (ui-checks.sh) log in through it and keep a screenshot in the run's ui/
#   K8S_LAB_IMAGE_DIR  docker-archive .tar files built by hand, beside the project's own
#                   images (default $K8S_LAB_CACHE/handbuilt-images): weave-kube, weave-npc,
#                   flannel-cni-plugin, the dashboard and its metrics scraper, Headlamp
#                   (docs/offline-lab.md); the program's preflight names any image missing
#   E2E_SKIP_CHECKS=1   skip the functional checks after the first up (when time is short)
#   E2E_LOCAL_PROXY the local apiserver proxy (localProxy): nginx (default) or haproxy
#   E2E_CONFORMANCE=1|full  after the checks, Kubernetes' conformance suite: the smoke set
#                   (1) or every [Conformance] test but [Serial]/[Disruptive] ones (full), with
#                   the kit of build-conformance.sh, its images imported on every node;
#                   E2E_CONFORMANCE_PROCS tests at once (default 1: emulated guests);
#                   E2E_CONFORMANCE_TIMEOUT (e.g. 2h) stops the suite there (what fits a run);
#                   E2E_CONFORMANCE_FOCUS a ginkgo regular expression: only those tests
#   E2E_FROM_PREVIOUS=COMMIT  the first up runs the program at COMMIT (a git worktree, e.g.
#                   8d954ab: Kubernetes 1.36.0, etcd 3.6.5, containerd 2.2.0, runc 1.3.3, CNI
#                   plugins 1.8.0), as a user's lab made by it; then, with a 2-replica
#                   Deployment behind a PodDisruptionBudget probed through a NodePort once a
#                   second, this program's `up` moves it to the current releases (checks
#                   before and after, the probe's failures counted)
#   E2E_LAYERS=1    stand the lab up one layer at a time: upTo raised from vms to addons, one
#                   `up` each, every stage's verification commands (the stack output upTo, as
#                   the runbook gives them) run after its up; at the end upTo is lowered to
#                   etcd (the preview must only delete, and only later layers) and the nodes are
#                   checked for what is left
#   E2E_FAULTS=1    after the checks, faults (faults.sh): each control-plane node's apiserver
#                   stopped in turn, one node powered off and started while the other nodes'
#                   local proxies are probed once a second, every node rebooted at once, one
#                   etcd member's data lost (given back by up with etcdRejoin), one VM deleted
#                   by hand (made again by up with rebuildNodes); each followed by checks and a
#                   no-change preview; at the end one VM deleted by hand before a destroy
#                   without flags. E2E_FAULTS=1 runs every fault; a list runs some, in the same
#                   order (E2E_FAULTS=node-powered-off,etcd-data-lost; names in faults.sh)
#   E2E_HOSTS=2     two libvirt hosts: a second namespace (klab-hv2) with its own libvirtd and
#                   sshd, joined to the first by a veth "wire" (second-host.sh); k8s-3 (and
#                   day two's k8s-4) run there, reached over qemu+ssh://, the node network
#                   spans both through the program's VXLAN tunnel; destroy must empty both
#   E2E_EXISTING=1  machines the program did not make (existing-machines.sh): the script starts
#                   three guests with libvirt's tools and a seed of its own, the stack uses
#                   them with hostMode: existing; after the destroy the machines must still
#                   run and be as they were before the first up (entries, files with digests,
#                   units, packages, swap, mounts, cluster processes: compared on the machines;
#                   modules, sysctls, links and packet filter after a reboot of each)
#   E2E_APISERVER_ENDPOINT=1  the stack sets apiserverEndpoint api.$CLUSTER.lab, a name the lab
#                   network's DNS answers with every control-plane node's address; the namespace's
#                   resolver is that DNS (/etc/netns/$NS/resolv.conf), so Pulumi, kubectl and the
#                   checks reach the apiservers through it (with E2E_FAULTS: the admin kubeconfig
#                   must keep answering while the first node's apiserver is stopped)
#   E2E_SKIP_KUBE_BENCH=1  no kube-bench phase (about 4 minutes a node on TCG guests)
#   E2E_ETCD_TO     the etcd release day two moves to (default 3.6.15: newer than the default 3.6.14)
#   E2E_UPGRADE_TO  the Kubernetes release day two moves to (default 1.36.1; its release files
#                   are built once, about an hour, into $K8S_LAB_CACHE/artifacts-kubernetes-<v>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
run=$cache/e2e
NS=klab-e2e
STACK=e2e
CLUSTER=klab-e2e
[[ $(id -u) -eq 0 ]] || { echo "lab:e2e: needs root (libvirtd, a network namespace)" >&2; exit 1; }
[[ -n ${E2E_LAYERS:-} && -n ${E2E_FROM_PREVIOUS:-} ]] && { echo "lab:e2e: E2E_LAYERS and E2E_FROM_PREVIOUS stand the lab up differently: choose one" >&2; exit 1; }
export E2E_CNI=${E2E_CNI:-weave} E2E_UI=${E2E_UI:-dashboard}
case $E2E_CNI in weave | flannel | bridge) ;; *) echo "lab:e2e: E2E_CNI=$E2E_CNI: weave, flannel or bridge" >&2; exit 2 ;; esac
case $E2E_UI in dashboard | headlamp | both | none) ;; *) echo "lab:e2e: E2E_UI=$E2E_UI: dashboard, headlamp, both or none" >&2; exit 2 ;; esac
export E2E_HOSTS=${E2E_HOSTS:-1}
case $E2E_HOSTS in 1) ;; 2) [[ -n ${E2E_FAULTS:-}${E2E_FROM_PREVIOUS:-}${E2E_LAYERS:-} ]] && { echo "lab:e2e: E2E_HOSTS=2 runs without E2E_FAULTS, E2E_FROM_PREVIOUS and E2E_LAYERS" >&2; exit 2; } ;; *) echo "lab:e2e: E2E_HOSTS=$E2E_HOSTS: 1 or 2" >&2; exit 2 ;; esac
[[ -n ${E2E_EXISTING:-} && ( $E2E_HOSTS != 1 || -n ${E2E_FAULTS:-}${E2E_FROM_PREVIOUS:-}${E2E_LAYERS:-}${E2E_DAY_TWO:-} ) ]] && { echo "lab:e2e: E2E_EXISTING=1 runs alone (no E2E_HOSTS, E2E_FAULTS, E2E_FROM_PREVIOUS, E2E_LAYERS or E2E_DAY_TWO: they make or remove VMs)" >&2; exit 2; }
uis=(); [[ $E2E_UI == dashboard || $E2E_UI == both ]] && uis+=(dashboard); [[ $E2E_UI == headlamp || $E2E_UI == both ]] && uis+=(headlamp)
handbuilt_images=${K8S_LAB_IMAGE_DIR:-${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/handbuilt-images}
if [[ $E2E_CNI != bridge || ${#uis[@]} -gt 0 ]] && ! compgen -G "$handbuilt_images/*.tar" >/dev/null; then
  echo "lab:e2e: E2E_CNI=$E2E_CNI E2E_UI=$E2E_UI needs images built by hand (weave-net, flannel's CNI plugin, the dashboard, Headlamp: docs/offline-lab.md), as docker-archive .tar files in $handbuilt_images (K8S_LAB_IMAGE_DIR); E2E_CNI=bridge E2E_UI=none runs without them" >&2
  exit 1
fi

phases=()
fault_times=() # E2E_FAULTS: each recovery's time (faults.sh)
late_failures=() # what fails the run once everything else ran and was measured (kube-bench's verdict)
if [[ -n ${E2E_FAULTS:-} ]]; then
  # shellcheck source=.ci/lab/faults.sh
  source "$here/faults.sh"
  faults_chosen >/dev/null || exit 2 # a fault it does not know stops the run before anything starts
fi
T0=$SECONDS
phase_start=$SECONDS
phase() { # phase NAME: closes the previous phase
  local now=$SECONDS
  [[ -n ${current:-} ]] && phases+=("$(printf '%-44s %6d s' "$current" $((now - phase_start)))")
  current=$1; phase_start=$now
  [[ -n $1 ]] && echo "=== $1" >&2
  return 0
}
table() {
  phase ""
  echo
  echo "lab:e2e phases (total $((SECONDS - T0)) s)"
  printf '%s\n' "${phases[@]}"
  if ((${#fault_times[@]})); then echo; echo "recoveries (E2E_FAULTS)"; printf '%s\n' "${fault_times[@]}"; fi
  for f in "$run"/*.events; do [[ -s $f ]] && node "$here/events.js" "$f" "$(basename "$f" .events)"; done
  return 0
}

kvm_mode=
# whatever an aborted run left in libvirt (its definitions outlive the daemon, and the
# domains are marked autostart)
remove_leftovers() {
  local v="ip netns exec $NS virsh -q -c qemu:///system" d
  for d in $($v list --all --name 2>/dev/null | grep "^$CLUSTER-" || true); do
    $v destroy "$d" >/dev/null 2>&1 || true
    $v undefine "$d" >/dev/null 2>&1 || true
  done
  $v net-destroy "$CLUSTER" >/dev/null 2>&1 || true
  $v net-undefine "$CLUSTER" >/dev/null 2>&1 || true
  $v pool-destroy "$CLUSTER" >/dev/null 2>&1 || true
  $v pool-undefine "$CLUSTER" >/dev/null 2>&1 || true
}
# on a failure, before anything is torn down: what the cluster looked like (diagnostics.log).
# The key comes from the state (a failed up writes no stack outputs), or is the machines' own
# (E2E_EXISTING); kubectl runs on k8s-1 with the admin kubeconfig the control-plane step left there.
diagnose() {
  local out=$run/diagnostics.log key=$run/diag-key
  if [[ -n ${E2E_EXISTING:-} ]]; then cp "$run/own-key" "$key"; else pulumi stack export --stack $STACK --show-secrets 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = (JSON.parse(s).deployment.resources || []).find((x) => x.type === "tls:index/privateKey:PrivateKey" && x.urn.endsWith("-ssh"));
      const k = r && r.outputs && r.outputs.privateKeyOpenssh;
      if (k) process.stdout.write(typeof k === "string" ? k : k.plaintext ? JSON.parse(k.plaintext) : "");
    });' > "$key" 2>/dev/null; fi
  chmod 600 "$key"
  [[ -s $key ]] || { echo "lab:e2e: no SSH key in the state; no diagnostics" >&2; return 0; }
  local on="timeout 120 ip netns exec $NS ssh -i $key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10"
  local kc="sudo /usr/local/bin/kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout 30s"
  {
    echo "### nodes, pods, events (from k8s-1)"
    $on k8s@192.168.253.140 "$kc get nodes -o wide; $kc get pods -A -o wide; $kc get events -A --sort-by=.lastTimestamp | tail -n 60"
    echo "### pods not ready, described"
    $on k8s@192.168.253.140 "for p in \$($kc get pods -A --no-headers | awk '{split(\$3, r, \"/\")} r[1] != r[2] && \$4 != \"Completed\" {print \$1\"/\"\$2}'); do $kc describe pod -n \${p%%/*} \${p#*/}; done"
    for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
      echo "### $ip: kubelet and containerd, last 80 lines each"
      $on k8s@$ip "sudo journalctl -u kubelet --no-pager -n 80; sudo journalctl -u containerd --no-pager -n 80; uptime"
    done
  } > "$out" 2>&1
  rm -f "$key"
  echo "lab:e2e: diagnostics in $out" >&2
}
cleanup() {
  local rc=$?
  set +e
  [[ $rc -ne 0 && -n ${diagnose_ready:-} ]] && diagnose
  table
  if [[ $rc -ne 0 && -n ${E2E_KEEP_ON_FAILURE:-} ]]; then
    echo "lab:e2e: FAILED (exit $rc); everything is left running. Look: ip netns exec $NS ssh -i $run/lab-key k8s@192.168.253.140" >&2
    echo "lab:e2e: the key: PULUMI_BACKEND_URL=file://$run/state PULUMI_CONFIG_PASSPHRASE=k8s-lab-e2e pulumi stack output --stack $STACK --show-secrets sshPrivateKey" >&2
    echo "lab:e2e: clean up: run this script again (it removes what an earlier run left), or kill the daemons in $run/*.pid and ip netns del $NS" >&2
    exit $rc
  fi
  if [[ -z ${E2E_KEEP:-} ]] && ip netns exec $NS true 2>/dev/null; then remove_leftovers; fi
  [[ $E2E_HOSTS == 2 ]] && hv2_stop
  for p in libvirtd virtlogd; do [[ -s $run/$p.pid ]] && kill "$(cat "$run/$p.pid")" 2>/dev/null; done
  sleep 1
  ip netns pids $NS 2>/dev/null | xargs -r kill -9
  ip netns del $NS 2>/dev/null
  rm -rf "/etc/netns/$NS"
  [[ -n $kvm_mode ]] && chmod "$kvm_mode" /dev/kvm
  [[ -z ${E2E_KEEP:-} && -n ${pool:-} ]] && rm -rf "$pool"
  rm -f "$root/Pulumi.$STACK.yaml"
  [[ -d $run/previous ]] && git -C "$root" worktree remove --force "$run/previous"
  echo "lab:e2e: $([[ $rc -eq 0 ]] && echo passed || echo "FAILED (exit $rc)"); logs in $run" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. builds (cached) ---------------------------------------------------------------
phase "build: engine, release files, images, guest image"
cd "$root"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npx tsc -p .
eval "$("$here/engine.sh")"
artifacts=$("$here/build-release-files.sh" | tail -n 1)
# the patch releases day two moves etcd and Kubernetes to (etcd's digest lands in checksums.txt;
# Kubernetes' archives have the same names in every release: a directory of their own)
UPGRADE_TO=${E2E_UPGRADE_TO:-1.36.1}
ETCD_TO=${E2E_ETCD_TO:-3.6.15}
# (built only for the day-two phases that use them: the Kubernetes one takes about an hour cold)
day_two_phases=" ${E2E_DAY_TWO_PHASES:-scale etcd kubernetes} "
if [[ -n ${E2E_DAY_TWO:-} && $day_two_phases == *" etcd "* ]]; then
  ETCD_VERSION=$ETCD_TO "$here/build-release-files.sh" etcd >/dev/null
fi
if [[ -n ${E2E_DAY_TWO:-} && $day_two_phases == *" kubernetes "* ]]; then
  upgrade_files=$(RELEASE_FILES_DIR=$cache/artifacts-kubernetes-$UPGRADE_TO K8S_VERSION=$UPGRADE_TO "$here/build-release-files.sh" kubernetes | tail -n 1)
fi
if [[ -n ${E2E_FROM_PREVIOUS:-} ]]; then
  # the previous program's releases (crictl 1.36.0: no cri-tools 1.35 is served); its
  # Kubernetes archives are today's (the same 1.36.0)
  previous_files=$cache/artifacts-previous
  mkdir -p "$previous_files"
  for f in kubernetes-server-linux-amd64.tar.gz kubernetes-node-linux-amd64.tar.gz; do [[ -s $previous_files/$f ]] || cp -l "$artifacts/$f" "$previous_files/$f" 2>/dev/null || cp "$artifacts/$f" "$previous_files/$f"; done
  RELEASE_FILES_DIR=$previous_files ETCD_VERSION=3.6.5 CONTAINERD_VERSION=2.2.0 RUNC_VERSION=1.3.3 CRICTL_VERSION=1.36.0 CNI_VERSION=1.8.0 "$here/build-release-files.sh" >/dev/null
fi
"$here/build-images.sh" >/dev/null
FLANNEL_TAG=$(cd "$root" && npx tsx tools/default-versions.ts | sed -n 's/^DEFAULT_FLANNEL_VERSION=//p'); export FLANNEL_TAG
[[ -n ${E2E_CONFORMANCE:-} ]] && kit=$("$here/build-conformance.sh" | tail -n 1)
kube_bench=$("$here/build-kube-bench.sh" | tail -n 1)
KUBE_BENCH_BENCHMARK=$(npx tsx "$root/tools/kube-bench.ts" benchmark)
images=$cache/images-archive
guest=$("$here/build-guest-image.sh" | tail -n 1)

# ---- 2. libvirt inside a namespace --------------------------------------------------------
phase "libvirtd and virtlogd in network namespace $NS"
# the pool must be reachable by QEMU's own user (libvirt-qemu): not under /root
pool=/var/lib/libvirt/images/$CLUSTER
# a run kept with E2E_KEEP(_ON_FAILURE) may have left its daemons and namespace
for p in libvirtd virtlogd; do [[ -s $run/$p.pid ]] && kill "$(cat "$run/$p.pid")" 2>/dev/null || true; done
if ip netns exec $NS true 2>/dev/null; then ip netns pids $NS | xargs -r kill -9; ip netns del $NS; fi
rm -rf "/etc/netns/$NS"
[[ -d $run/previous ]] && git -C "$root" worktree remove --force "$run/previous"
rm -rf "$run" "$pool"; mkdir -p "$run/bin" "$run/artifacts"
# the stack's artifactDir: this run's own copy (hard links), so day two can put another
# release's files in it, as an operator would, without touching the cache
first_files=${previous_files:-$artifacts}
cp -l "$first_files"/* "$run/artifacts/" 2>/dev/null || cp "$first_files"/* "$run/artifacts/"
# the stack's imageArchiveDir: the project's images, those built by hand for the pod network
# and the UIs, and the conformance suite's (every node imports them all, nothing is pulled)
image_files=("$images"/*.tar)
[[ $E2E_CNI != bridge || ${#uis[@]} -gt 0 ]] && image_files+=("$handbuilt_images"/*.tar)
[[ -n ${E2E_CONFORMANCE:-} ]] && image_files+=("$kit"/images/*.tar)
mkdir -p "$run/images"
cp -l "${image_files[@]}" "$run/images/" 2>/dev/null || cp "${image_files[@]}" "$run/images/"
images=$run/images
# kubectl for the checks, from the release files the nodes get
tar -xzf "$artifacts/kubernetes-server-linux-amd64.tar.gz" -O --wildcards "*kubernetes/server/bin/kubectl" > "$run/bin/kubectl"; chmod 0755 "$run/bin/kubectl"
if [[ -e /dev/kvm ]]; then kvm_mode=$(stat -c %a /dev/kvm); chgrp kvm /dev/kvm; chmod 0660 /dev/kvm; fi
printf 'log_outputs="1:file:%s/virtlogd.log"\n' "$run" > "$run/virtlogd.conf"
printf 'listen_tls = 0\nlisten_tcp = 0\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "2:file:%s/libvirtd.log"\n' "$run" > "$run/libvirtd.conf"
# another libvirtd (the libvirt test of npm test, a system one) would lose its socket to ours
if virsh -q -c qemu:///system uri >/dev/null 2>&1; then echo "lab:e2e: a libvirtd already answers on qemu:///system; stop it first (this run starts its own)" >&2; exit 1; fi
ip netns add $NS
# apiserverEndpoint in the lab's domain: this machine asks the lab network's DNS (its gateway),
# as a user's machine would with that name (ip netns exec puts this file over /etc/resolv.conf)
if [[ -n ${E2E_APISERVER_ENDPOINT:-} ]]; then mkdir -p "/etc/netns/$NS" && echo "nameserver 192.168.253.1" > "/etc/netns/$NS/resolv.conf"; fi
ip netns exec $NS ip link set lo up
ip netns exec $NS virtlogd -d -f "$run/virtlogd.conf" -p "$run/virtlogd.pid"
ip netns exec $NS libvirtd -d -f "$run/libvirtd.conf" -p "$run/libvirtd.pid"
for _ in $(seq 120); do ip netns exec $NS virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
remove_leftovers
ns() { ip netns exec $NS "$@"; }
# shellcheck source=.ci/lab/second-host.sh
source "$here/second-host.sh"
if [[ $E2E_HOSTS == 2 ]]; then
  phase "the second libvirt host (namespace $HV2_NS, qemu+ssh)"
  if [[ ! -x /usr/sbin/sshd ]]; then
    # from Debian's packages; its service is not started (no daemon on the machine's own network)
    # (policy-rc.d answering 101 keeps the package's service stopped: a container's own one
    # usually does already; otherwise one is put there for the install and taken away after)
    own_policy=
    if [[ -e /usr/sbin/policy-rc.d ]]; then
      rc=0; /usr/sbin/policy-rc.d sshd start >/dev/null 2>&1 || rc=$?
      ((rc == 101)) || { echo "lab:e2e: /usr/sbin/policy-rc.d allows services to start; install openssh-server by hand" >&2; exit 1; }
    else
      own_policy=1; printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
    fi
    rc=0; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null || rc=$?
    [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || exit 1
  fi
  hv2_start
fi
# shellcheck source=.ci/lab/existing-machines.sh
source "$here/existing-machines.sh"
if [[ -n ${E2E_EXISTING:-} ]]; then
  phase "three machines made outside the program (hostMode: existing)"
  existing_start
  existing_photograph_all before
fi

# ---- helpers of the checks and day two ----------------------------------------------------
# expect_changes FILE WANT…: the preview's changes (op and name) are exactly WANT
expect_changes() {
  local file=$1; shift
  node -e '
    const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // (components are groupings with no effect of their own: a stack made before one preview
    // entry per step deletes its HostStep components while their commands move by alias)
    const changed = p.steps.filter((s) => s.op !== "same" && s.op !== "read" && !s.urn.split("::")[2].split("$").pop().startsWith("k8slab:")).map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort();
    const want = process.argv.slice(2).sort();
    console.error(`changes (${changed.length}): ${changed.join(", ")}`);
    const missing = want.filter((w) => !changed.includes(w));
    if (missing.length) { console.error("missing: " + missing.join(", ")); process.exit(1); }
    const untouched = (process.env.UNTOUCHED || "").split(" ").filter(Boolean);
    const touched = changed.filter((c) => untouched.some((u) => c.split(" ")[1].startsWith(u)));
    if (touched.length) { console.error("must stay as they are: " + touched.join(", ")); process.exit(1); }
    // BESIDES=k8s-4: on everything else, exactly the wanted changes
    const besides = process.env.BESIDES;
    if (besides) {
      const other = changed.filter((c) => !c.includes(besides));
      const extra = other.filter((c) => !want.includes(c));
      if (extra.length) { console.error("changes besides " + besides + " that were not expected: " + extra.join(", ")); process.exit(1); }
    }
  ' "$file" "$@"
}
# step_stderr NAME: what the host step NAME wrote to stderr in the last up (from the state)
step_stderr() {
  pulumi stack export --stack $STACK --show-secrets | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = JSON.parse(s).deployment.resources.find((x) => x.type === "command:remote:Command" && x.urn.endsWith("::" + process.argv[1]));
      const e = r && r.outputs && r.outputs.stderr;
      process.stdout.write(e == null ? "" : typeof e === "string" ? e : JSON.parse(e.plaintext));
    });' "$1"
}
# take_release_files DIR: every release file of DIR into the run's artifact directory (a
# same-named one replaced) and their digests (DIR/checksums.txt) into artifactChecksums, as an
# operator would bring another release
take_release_files() {
  local dir=$1 f
  for f in "$dir"/*; do
    [[ $(basename "$f") == checksums.txt ]] && continue
    rm -f "$run/artifacts/$(basename "$f")"
    cp -l "$f" "$run/artifacts/" 2>/dev/null || cp "$f" "$run/artifacts/"
  done
  node -e '
    const YAML = require("yaml"); const fs = require("fs");
    const [file, sums] = process.argv.slice(1);
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    const fresh = fs.readFileSync(sums, "utf8").trim().split("\n");
    const names = fresh.map((l) => l.split("=")[0]);
    const key = "k8s-lab:artifactChecksums";
    doc.config[key] = [...doc.config[key].filter((l) => !names.includes(l.split("=")[0])), ...fresh];
    fs.writeFileSync(file, YAML.stringify(doc));
  ' "$root/Pulumi.$STACK.yaml" "$dir/checksums.txt"
}
kubectl_ns() { ns "$run/bin/kubectl" --kubeconfig "$run/admin.conf" --request-timeout 30s "$@"; }
on_node() { local ip=$1; shift; ns ssh -i "$run/lab-key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "k8s@$ip" "$@"; }
# pods_answer: every CoreDNS pod (they ran before the change) still answers on its health
# port from every first-three node: its own node's pod network and the routes between nodes
pods_answer() {
  local pods p ip
  pods=$(kubectl_ns -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.status.podIP}@{.spec.nodeName} {end}')
  [[ -n $pods ]] || { echo "no CoreDNS pod" >&2; return 1; }
  for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
    for p in $pods; do
      on_node $ip "timeout 10 bash -c '</dev/tcp/${p%@*}/8080'" 2>/dev/null || { echo "from $ip, the CoreDNS pod ${p%@*} on ${p#*@} does not answer" >&2; return 1; }
    done
  done
  echo "  ok: the CoreDNS pods ($pods) answer from every node" >&2
}

# the stage checks of E2E_LAYERS (guide_check STAGE)
# shellcheck source=.ci/lab/stage-checks.sh
source "$here/stage-checks.sh"

# ---- 3. the e2e stack ---------------------------------------------------------------------
phase "stack"
export PULUMI_BACKEND_URL=file://$run/state PULUMI_CONFIG_PASSPHRASE=k8s-lab-e2e
export PULUMI_DEBUG_COMMANDS=true # enables --event-log, which the timing table reads
mkdir -p "$run/state"
HV2_URI=$(hv2_uri); OWN_KEY=$run/own-key; export HV1_ADDR HV2_ADDR HV2_URI OWN_KEY
node -e '
  const YAML = require("yaml"); const fs = require("fs");
  const [file, cluster, pool, guest, artifacts, images] = process.argv.slice(1);
  const sums = fs.readFileSync(artifacts + "/checksums.txt", "utf8").trim().split("\n");
  const c = {
    clusterName: cluster, domainType: "qemu", libvirtUri: "qemu:///system",
    storagePool: cluster, storagePoolPath: pool, baseImagePath: guest, skipPackageInstall: true,
    nodes: ["name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane,worker", "name=k8s-2 ip=192.168.253.139 roles=etcd,control-plane,worker", "name=k8s-3 ip=192.168.253.141 roles=etcd,control-plane,worker"],
    nodeMemoryMiB: 2048, nodeDiskGiB: 10,
    artifactDir: artifacts, artifactChecksums: sums, crictlVersion: "1.36.0",
    imageArchiveDir: images, cni: process.env.E2E_CNI,
    dashboard: ["dashboard", "both"].includes(process.env.E2E_UI), headlamp: ["headlamp", "both"].includes(process.env.E2E_UI),
    // the flannel image built here has its own digest (the program pins the upstream one)
    ...(process.env.E2E_CNI === "flannel" ? { imageOverrides: [`flannel=ghcr.io/flannel-io/flannel:${process.env.FLANNEL_TAG}`] } : {}),
    // only when asked: a program from before the key (E2E_FROM_PREVIOUS) refuses keys it does not know
    ...(process.env.E2E_LOCAL_PROXY ? { localProxy: process.env.E2E_LOCAL_PROXY } : {}),
    // admin access by a name the lab network answers with every control-plane node
    ...(process.env.E2E_APISERVER_ENDPOINT ? { apiserverEndpoint: `api.${cluster}.lab` } : {}),
    // two hosts: k8s-3 on the second, reached over SSH; the program joins the node networks
    ...(process.env.E2E_HOSTS === "2" ? { hypervisors: [`name=hv1 uri=qemu:///system address=${process.env.HV1_ADDR}`, `name=hv2 uri=${process.env.HV2_URI} address=${process.env.HV2_ADDR}`] } : {}),
  };
  if (process.env.E2E_HOSTS === "2") { delete c.libvirtUri; c.nodes[2] += " host=hv2"; }
  // machines made by the script: no VM settings; the key they were made with (its private half is set as a secret below)
  if (process.env.E2E_EXISTING) {
    // (domainType stays: the machines are TCG guests, and the program then uses the slower timings)
    for (const k of ["libvirtUri", "storagePool", "storagePoolPath", "baseImagePath", "nodeMemoryMiB", "nodeDiskGiB"]) delete c[k];
    // the destroy must leave the machines as they were: the data directories go too
    Object.assign(c, { hostMode: "existing", wipeDataOnDestroy: true, sshPublicKey: fs.readFileSync(process.env.OWN_KEY + ".pub", "utf8").trim() });
  }
  const doc = { config: Object.fromEntries(Object.entries(c).map(([k, v]) => ["k8s-lab:" + k, v])) };
  fs.writeFileSync(file, "# written by .ci/lab/e2e.sh\n" + YAML.stringify(doc));
' "$root/Pulumi.$STACK.yaml" "$CLUSTER" "$pool" "$guest" "$run/artifacts" "$images"
pulumi stack init $STACK --secrets-provider passphrase >/dev/null 2>&1 || pulumi stack select $STACK >/dev/null
[[ -n ${E2E_EXISTING:-} ]] && pulumi config set --stack $STACK --secret sshPrivateKey < "$run/own-key"

# ---- 4. up from nothing -------------------------------------------------------------------
program_dir=$root
if [[ -n ${E2E_FROM_PREVIOUS:-} ]]; then
  phase "the previous program ($E2E_FROM_PREVIOUS) in a worktree"
  program_dir=$run/previous
  git -C "$root" worktree add --detach "$program_dir" "$E2E_FROM_PREVIOUS" >/dev/null
  (cd "$program_dir" && npm ci --no-audit --no-fund >/dev/null)
  cp "$root/Pulumi.$STACK.yaml" "$program_dir/"
fi
diagnose_ready=1
if [[ -n ${E2E_LAYERS:-} ]]; then
  for stage in vms pki etcd kube-nginx control-plane workers addons; do
    phase "upTo: $stage (up, then the stage's own checks)"
    pulumi config set --stack $STACK upTo $stage
    ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/up-$stage.events" > "$run/up-$stage.log" 2>&1 || { tail -n 60 "$run/up-$stage.log" >&2; exit 1; }
    pulumi stack output --stack $STACK --show-secrets sshPrivateKey > "$run/lab-key"; chmod 600 "$run/lab-key"
    guide_check "$stage"
  done
else
phase "pulumi up (from nothing)"
up_from_nothing() { (cd "$program_dir" && ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/up.events") > "$run/up.log" 2>&1; }
if ! up_from_nothing; then
  tail -n 60 "$run/up.log" >&2
  # the previous program is not what this run judges, its lab is: where its up timed out on
  # these TCG guests (its apiservers' first readiness took over its 600 s twice, on loaded
  # guests), run it once more, as its user would have
  [[ -n ${E2E_FROM_PREVIOUS:-} ]] || exit 1
  echo "lab:e2e: the previous program's up failed (up-first.log); once more, as its user would" >&2
  mv "$run/up.log" "$run/up-first.log"; mv "$run/up.events" "$run/up-first.events"
  up_from_nothing || { tail -n 60 "$run/up.log" >&2; exit 1; }
fi
fi

# ---- 5. checks, for real -------------------------------------------------------------------
phase "checks"
pulumi stack output --stack $STACK --show-secrets adminKubeconfig > "$run/admin.conf"
pulumi stack output --stack $STACK --show-secrets sshPrivateKey > "$run/lab-key"; chmod 600 "$run/admin.conf" "$run/lab-key"
# weave-net's pods start once on a new lab: their ConfigMap exists before them (without it
# every one exited once, weaveworks/weave#3990); a lab made by an earlier program had them restart
if [[ $E2E_CNI == weave && -z ${E2E_FROM_PREVIOUS:-} ]]; then
  weave_restarts=$(kubectl_ns -n kube-system get pods -l name=weave-net -o jsonpath='{range .items[*]}{.spec.nodeName}:{range .status.containerStatuses[*]} {.name}={.restartCount}{end}{"\n"}{end}')
  sed 's/^/  weave-net restarts: /' <<<"$weave_restarts" >&2
  if [[ $(grep -c weave-npc= <<<"$weave_restarts") -ne 3 ]] || grep -Eq '=[1-9]' <<<"$weave_restarts"; then
    late_failures+=("weave-net's pods did not each start once on the new lab (kubectl -n kube-system get pods -l name=weave-net; logs --previous)")
  fi
fi
if [[ -z ${E2E_SKIP_CHECKS:-} ]]; then
  E2E_DIR=$run ns bash "$here/e2e-checks.sh"
  if ((${#uis[@]})); then
    phase "web UI: ${uis[*]} (login through its backend, screenshot)"
    pulumi stack output --stack $STACK --json > "$run/outputs.json"
    E2E_DIR=$run ns bash "$here/ui-checks.sh" "${uis[@]}"
  fi
else echo "  E2E_SKIP_CHECKS: functional checks skipped" >&2; fi

# ---- 5'. kube-bench (the CIS Kubernetes Benchmark) on every node: reported, and any FAIL that
# .ci/lab/kube-bench-justified.yaml does not justify fails the run at its end (after destroy).
# It judges this program's lab: with E2E_FROM_PREVIOUS, once the lab has moved to it.
kube_bench_phase() {
  phase "kube-bench ($KUBE_BENCH_BENCHMARK) on every node"
  mkdir -p "$run/kube-bench"
  npx tsx "$root/tools/kube-bench.ts" config > "$run/kube-bench/config.yaml"
  for n in k8s-1:192.168.253.140 k8s-2:192.168.253.139 k8s-3:192.168.253.141; do
    tar -C "$kube_bench" -cz kube-bench cfg | on_node "${n#*:}" "rm -rf /tmp/kube-bench && mkdir -p /tmp/kube-bench && tar -xz -C /tmp/kube-bench"
    on_node "${n#*:}" "cat > /tmp/kube-bench/cfg/$KUBE_BENCH_BENCHMARK/config.yaml" < "$run/kube-bench/config.yaml"
    on_node "${n#*:}" "sudo /tmp/kube-bench/kube-bench run --config-dir /tmp/kube-bench/cfg --benchmark $KUBE_BENCH_BENCHMARK --targets master,controlplane,etcd,node --json --outputfile /tmp/kube-bench/out.json >/dev/null 2>&1; sudo cat /tmp/kube-bench/out.json; sudo rm -rf /tmp/kube-bench" > "$run/kube-bench/${n%%:*}.json"
  done
  if ! npx tsx "$root/tools/kube-bench.ts" judge "$run"/kube-bench/k8s-*.json > "$run/kube-bench/verdict.txt" 2>&1; then
    late_failures+=("kube-bench: FAILs neither fixed nor justified ($run/kube-bench/verdict.txt)")
  fi
  sed 's/^/  /' "$run/kube-bench/verdict.txt" >&2
}
if [[ -z ${E2E_SKIP_CHECKS:-}${E2E_SKIP_KUBE_BENCH:-} && -z ${E2E_FROM_PREVIOUS:-} ]]; then kube_bench_phase; fi

# ---- 5a. Kubernetes' conformance suite (E2E_CONFORMANCE) --------------------------------------
if [[ -n ${E2E_CONFORMANCE:-} ]]; then
  phase "conformance ($([[ $E2E_CONFORMANCE == full ]] && echo "every [Conformance] test but [Serial], [Disruptive]" || echo "the smoke set"))"
  conformance_args=(--procs "${E2E_CONFORMANCE_PROCS:-1}" --timeout "${E2E_CONFORMANCE_TIMEOUT:-24h}"); [[ $E2E_CONFORMANCE == full ]] && conformance_args+=(--full)
  [[ -n ${E2E_CONFORMANCE_FOCUS:-} ]] && conformance_args+=(--focus "$E2E_CONFORMANCE_FOCUS")
  # the guests' load while the suite runs, once a minute (what the emulated CPUs can take)
  ( while sleep 60; do for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
      echo "$(date +%T) $ip $(on_node $ip cat /proc/loadavg 2>/dev/null)"; done; done ) > "$run/conformance-load.log" 2>&1 &
  load_sampler=$!
  E2E_DIR=$run E2E_NS=$NS bash "$here/conformance.sh" "${conformance_args[@]}" >&2 || { kill $load_sampler; false; }
  kill $load_sampler
fi

# ---- 5b. the previous program's lab moves to this program's releases (E2E_FROM_PREVIOUS) ----
if [[ -n ${E2E_FROM_PREVIOUS:-} ]]; then
  phase "workload under a PodDisruptionBudget, probed once a second"
  kubectl_ns apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: probe-target, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: probe-target}}
  template:
    metadata: {labels: {app: probe-target}}
    spec:
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: probe-target}}}]
      containers:
        - name: httpd
          image: $(basename "$(ls "$images"/busybox-*.tar)" .tar | sed 's/^busybox-/localhost\/k8s-lab\/busybox:/')
          command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: probe-target, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: probe-target}}}
---
apiVersion: v1
kind: Service
metadata: {name: probe-target, namespace: default}
spec: {type: NodePort, selector: {app: probe-target}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}
YAML
  kubectl_ns rollout status deployment/probe-target --timeout=600s >&2
  # through every node's NodePort in turn, once a second: one line per request, time and result
  ns bash -c 'i=0; while :; do ip=(192.168.253.140 192.168.253.139 192.168.253.141); t=${ip[i++ % 3]}; if curl -s -o /dev/null --max-time 2 "http://$t:30080/"; then echo "$(date +%s) $t ok"; else echo "$(date +%s) $t FAIL"; fi; sleep 1; done' > "$run/probe.log" 2>&1 &
  probe=$!
  phase "pulumi up: the previous program's lab to this program's releases"
  # the current release files (runc.amd64 keeps its name across releases: the new one replaces it)
  take_release_files "$artifacts"
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-move.json" 2>"$run/preview-move.err" || { tail -n 40 "$run/preview-move.err" >&2; exit 1; }
  want=()
  for l in artifacts etcd containerd upgrade-drain upgrade-uncordon; do for n in k8s-1 k8s-2 k8s-3; do want+=("replace $l-$n"); done; done
  # copies of the running runtime and CNI plugins, kept across the previous artifacts steps' deletes
  for n in k8s-1 k8s-2 k8s-3; do want+=("create carryover-$n"); done
  # the machines, the memberships (whose deletes drain or remove a member) and the PKI stay
  UNTOUCHED="domain- volume- seed- address- etcd-membership- node-k8s- cluster-ca" expect_changes "$run/preview-move.json" "${want[@]}"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/move.events" > "$run/move.log" 2>&1 || { kill $probe; tail -n 40 "$run/move.log" >&2; exit 1; }
  kill $probe
  fails=$(grep -c " FAIL$" "$run/probe.log" || true)
  echo "  probe: $(wc -l < "$run/probe.log") requests during the move, $fails failed (probe.log)" >&2
  for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
    on_node $ip "sudo /usr/local/bin/etcd --version | head -1; sudo /usr/local/bin/containerd --version; sudo /usr/local/bin/runc --version | head -1" >&2
  done
  kubectl_ns get nodes -o wide >&2
  if [[ -z ${E2E_SKIP_CHECKS:-} ]]; then E2E_DIR=$run ns bash "$here/e2e-checks.sh"; fi
  [[ $fails -eq 0 ]] || { echo "the workload behind its PodDisruptionBudget was unavailable for $fails of the probe's requests" >&2; exit 1; }
  # the previous program's files are its own (its kube-bench FAILs are what this program fixed)
  if [[ -z ${E2E_SKIP_CHECKS:-} ]]; then kube_bench_phase; fi
  kubectl_ns delete deployment,service,pdb probe-target >/dev/null
fi

# ---- 5c. faults (E2E_FAULTS) -------------------------------------------------------------------
if [[ -n ${E2E_FAULTS:-} ]]; then run_faults; fi

# ---- 6. nothing churns ---------------------------------------------------------------------
phase "pulumi preview --expect-no-changes"
ns pulumi preview --stack $STACK --expect-no-changes --non-interactive > "$run/preview-same.log" 2>&1 || { tail -n 40 "$run/preview-same.log" >&2; exit 1; }

# ---- 7. one setting changed, rolled (E2E_DAY_TWO runs its own changes instead) -----------
if [[ -z ${E2E_DAY_TWO:-} ]]; then
phase "kubeletMaxPods 110 → 90: preview names the files, up rolls"
pulumi config set --stack $STACK kubeletMaxPods 90
ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-change.json" 2>"$run/preview-change.err"
node -e '
  const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // "read" is the reference to this stack (the established nodes), not a change
  const changed = p.steps.filter((s) => s.op !== "same" && s.op !== "read").map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort();
  console.error("changes: " + changed.join(", "));
  const want = ["replace kubelet-k8s-1", "replace kubelet-k8s-2", "replace kubelet-k8s-3"];
  if (JSON.stringify(changed) !== JSON.stringify(want)) { console.error("expected exactly: " + want.join(", ")); process.exit(1); }
' "$run/preview-change.json"
# the preview says which file changes and how (the program's record of the last up's files), not only a digest
ns pulumi preview --stack $STACK --diff --non-interactive > "$run/preview-change.txt" 2>&1 || true
grep -A4 "files this step changes on its node" "$run/preview-change.txt" | head -20 >&2 || true
for want in "/var/lib/kubelet/config.yaml:" "-maxPods: 110" "+maxPods: 90"; do
  [[ $(grep -cF -- "$want" "$run/preview-change.txt") -ge 3 ]] || { echo "the preview does not show '$want' for each kubelet (preview-change.txt)" >&2; exit 1; }
done
ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/update.events" > "$run/update.log" 2>&1 || { tail -n 40 "$run/update.log" >&2; exit 1; }
ns ssh -i "$run/lab-key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR k8s@192.168.253.141 "sudo grep -x 'maxPods: 90' /var/lib/kubelet/config.yaml" >/dev/null
fi

# ---- 8. day two (E2E_DAY_TWO=1) --------------------------------------------------------------
if [[ -n ${E2E_DAY_TWO:-} && $day_two_phases == *" scale "* ]]; then
  pods_answer
  phase "day two: add worker k8s-4"
  pulumi config set --stack $STACK --path 'nodes[3]' "name=k8s-4 ip=192.168.253.142 roles=worker vcpu=1 memoryMiB=1536$([[ $E2E_HOSTS == 2 ]] && echo " host=hv2")"
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-add.json" 2>"$run/preview-add.err"
  # on the running nodes: the gate that lists the nodes, and (cni bridge) each node's routes
  BESIDES=k8s-4 expect_changes "$run/preview-add.json" "create domain-k8s-4" "create kubelet-k8s-4" "create node-k8s-4" "create pod-bridge-k8s-4" "replace nodes-registered" \
    "replace pod-network-k8s-1" "replace pod-network-k8s-2" "replace pod-network-k8s-3"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/add-worker.events" > "$run/add-worker.log" 2>&1 || { tail -n 40 "$run/add-worker.log" >&2; exit 1; }
  for _ in $(seq 100); do [[ $(kubectl_ns get node k8s-4 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && break; sleep 3; done
  [[ $(kubectl_ns get node k8s-4 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]] || { echo "k8s-4 is not Ready" >&2; exit 1; }
  [[ -z $(kubectl_ns get node k8s-4 -o jsonpath='{.spec.unschedulable}') ]] || { echo "k8s-4 is cordoned" >&2; exit 1; }
  echo "  ok: k8s-4 joined, Ready and schedulable" >&2
  pods_answer

  phase "day two: remove worker k8s-4"
  # a pod no controller manages: the drain of a leaving node must not stop at it
  kubectl_ns run probe-k8s-4 --image=registry.k8s.io/pause:3.10.1 --restart=Never --overrides='{"apiVersion":"v1","spec":{"nodeName":"k8s-4"}}' >/dev/null
  pulumi config rm --stack $STACK --path 'nodes[3]'
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-remove.json" 2>"$run/preview-remove.err"
  BESIDES=k8s-4 expect_changes "$run/preview-remove.json" "delete node-k8s-4" "delete kubelet-k8s-4" "delete domain-k8s-4" "delete pod-bridge-k8s-4" "replace nodes-registered" \
    "replace pod-network-k8s-1" "replace pod-network-k8s-2" "replace pod-network-k8s-3"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/remove-worker.events" > "$run/remove-worker.log" 2>&1 || { tail -n 40 "$run/remove-worker.log" >&2; exit 1; }
  if kubectl_ns get node k8s-4 >/dev/null 2>&1; then echo "the Node k8s-4 is still there" >&2; exit 1; fi
  if { ns virsh -q -c qemu:///system list --all --name; [[ $E2E_HOSTS == 2 ]] && hv2_virsh list --all --name; } | grep -qx "$CLUSTER-k8s-4"; then echo "the VM of k8s-4 is still there" >&2; exit 1; fi
  kubectl_ns delete pod probe-k8s-4 --ignore-not-found >/dev/null
  echo "  ok: k8s-4 drained, its Node object and VM gone" >&2
  pods_answer
fi

if [[ -n ${E2E_DAY_TWO:-} && $day_two_phases == *" etcd "* ]]; then
  phase "day two: etcd → $ETCD_TO, one member at a time"
  # (artifactChecksums already lists the $ETCD_TO archive: the stack file was written from checksums.txt)
  pulumi config set --stack $STACK etcdVersion "$ETCD_TO"
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-etcd.json" 2>"$run/preview-etcd.err"
  expect_changes "$run/preview-etcd.json" "replace etcd-k8s-1" "replace etcd-k8s-2" "replace etcd-k8s-3" "replace artifacts-k8s-1"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/etcd-upgrade.events" > "$run/etcd-upgrade.log" 2>&1 || { tail -n 40 "$run/etcd-upgrade.log" >&2; exit 1; }
  for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
    v=$(on_node $ip "sudo /usr/local/bin/etcd --version | head -1")
    [[ $v == *"$ETCD_TO"* ]] || { echo "$ip runs $v" >&2; exit 1; }
    n=$(on_node $ip "sudo ls /var/lib/etcd-snapshots | grep -vc '^scheduled-' || true")
    [[ $n -ge 1 ]] || { echo "$ip took no snapshot before its restart" >&2; exit 1; }
  done
  on_node 192.168.253.140 "sudo /usr/local/bin/etcdctl --endpoints=https://192.168.253.140:2379,https://192.168.253.139:2379,https://192.168.253.141:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key endpoint health --cluster" >&2
  echo "  ok: every member runs etcd $ETCD_TO, each saved a snapshot before its restart, the cluster is healthy" >&2
fi

if [[ -n ${E2E_DAY_TWO:-} && $day_two_phases == *" kubernetes "* ]]; then
  phase "day two: Kubernetes 1.36.0 → $UPGRADE_TO, node by node with drain"
  # as an operator would: the new release's files into the artifact directory, their digests
  # into artifactChecksums, then the version
  take_release_files "$upgrade_files"
  pulumi config set --stack $STACK kubernetesVersion "$UPGRADE_TO"
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-upgrade.json" 2>"$run/preview-upgrade.err"
  want=()
  for l in artifacts control-plane upgrade-drain kubelet kube-proxy upgrade-uncordon; do for n in k8s-1 k8s-2 k8s-3; do want+=("replace $l-$n"); done; done
  UNTOUCHED="domain- etcd- containerd- kube-nginx- images- admin-access" expect_changes "$run/preview-upgrade.json" "${want[@]}"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/upgrade.events" > "$run/upgrade.log" 2>&1 || { tail -n 40 "$run/upgrade.log" >&2; exit 1; }
  versions=$(kubectl_ns get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion},{.spec.unschedulable}{"\n"}{end}')
  echo "$versions" >&2
  [[ $(grep -c "=v$UPGRADE_TO,$" <<< "$versions") -eq 3 ]] || { echo "not every node runs kubelet v$UPGRADE_TO, schedulable" >&2; exit 1; }
  for n in k8s-1 k8s-2 k8s-3; do
    # its first line names every move (the kubelet's, then the recorded releases'), then the drain
    drain=$(step_stderr "upgrade-drain-$n")
    grep -qE "^$n: kubelet v1\.36\.0 → v${UPGRADE_TO//./\\.}( .*)?: cordon and drain$" <<<"$drain" || { echo "$n was not drained before its kubelet moved" >&2; exit 1; }
    grep -qxF "node/$n drained" <<<"$drain" || { echo "$n's drain did not finish" >&2; exit 1; }
    step_stderr "upgrade-uncordon-$n" | grep -q "on kubernetes=$UPGRADE_TO,.*, uncordoned" || { echo "$n was not uncordoned by the upgrade" >&2; exit 1; }
  done
  for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
    v=$(on_node $ip "sudo /usr/local/bin/kubectl --kubeconfig /etc/kubernetes/admin.conf --server https://$ip:6443 version -o json" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).serverVersion.gitVersion')
    [[ $v == "v$UPGRADE_TO" ]] || { echo "the apiserver on $ip reports $v" >&2; exit 1; }
  done
  kubectl_ns -n kube-system rollout status deployment/coredns --timeout=600s >&2
  echo "  ok: every apiserver and kubelet reports v$UPGRADE_TO; each node was drained before its kubelet moved and uncordoned after; CoreDNS is available" >&2
fi

# ---- 8b. upTo lowered to etcd (E2E_LAYERS) ------------------------------------------------
if [[ -n ${E2E_LAYERS:-} ]]; then
  phase "upTo lowered to etcd: the later layers removed"
  pulumi config set --stack $STACK upTo etcd
  ns pulumi preview --stack $STACK --json --non-interactive > "$run/preview-lower.json" 2>"$run/preview-lower.err" || { tail -n 40 "$run/preview-lower.err" >&2; exit 1; }
  node -e '
    const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const changed = p.steps.filter((s) => s.op !== "same" && s.op !== "read").map((s) => ({ op: s.op, name: s.urn.split("::").pop(), type: s.urn.split("::")[2].split("$").pop() }));
    const custom = changed.filter((c) => !c.type.startsWith("k8slab:"));
    console.error(`lowering: ${changed.length} changes, ${custom.length} of resources`);
    const notDelete = changed.filter((c) => c.op !== "delete");
    if (notDelete.length) { console.error("lowering must only delete: " + notDelete.map((c) => c.op + " " + c.name).join(", ")); process.exit(1); }
    // the machines, node prep, the release files, etcd and the PKI stay
    const kept = (c) => /^(domain|volume|cloudinit|address|ready|artifacts|prep|etcd)(-|$)/.test(c.name) || /^(tls|random):/.test(c.type);
    const wrong = custom.filter(kept);
    if (wrong.length) { console.error("lowering to etcd must keep: " + wrong.map((c) => c.name).join(", ")); process.exit(1); }
    for (const layer of ["kube-nginx", "control-plane", "kubelet", "containerd", "kube-proxy"])
      if (!custom.some((c) => c.name.startsWith(layer + "-"))) { console.error("lowering removes no " + layer + " step"); process.exit(1); }
  ' "$run/preview-lower.json"
  ns pulumi up --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/lower.events" > "$run/lower.log" 2>&1 || { tail -n 40 "$run/lower.log" >&2; exit 1; }
  guide_check etcd
  for ip in 192.168.253.140 192.168.253.139 192.168.253.141; do
    on_node $ip 'set -e
      for u in kube-apiserver kube-controller-manager kube-scheduler kube-nginx kubelet kube-proxy containerd; do
        if systemctl cat "$u.service" >/dev/null 2>&1; then echo "$u.service is still installed"; exit 1; fi
      done
      if sudo ss -Hltn | grep -E ":(6443|8443|10250|10256) "; then echo "still listening"; exit 1; fi
      systemctl is-active --quiet etcd' >&2 || { echo "$ip: the later layers were not removed" >&2; exit 1; }
  done
  echo "  ok: lowered to etcd — no apiserver, proxy, kubelet, kube-proxy or containerd unit left on any node, nothing listening on their ports, etcd healthy" >&2
fi

if [[ -n ${E2E_KEEP:-} ]]; then
  echo "E2E_KEEP: the cluster stays up; kubectl: ip netns exec $NS kubectl --kubeconfig $run/admin.conf get nodes; Ctrl-C tears down libvirt" >&2
  sleep infinity
fi

# ---- 9. destroy leaves nothing -------------------------------------------------------------
[[ -n ${E2E_FAULTS:-} ]] && vm_deleted_by_hand
phase "pulumi destroy$([[ -n ${E2E_FAULTS:-} ]] && echo " (k8s-3's VM gone, no flags)")"
ns pulumi destroy --stack $STACK --yes --skip-preview --non-interactive --event-log "$run/destroy.events" > "$run/destroy.log" 2>&1 || { tail -n 40 "$run/destroy.log" >&2; exit 1; }
if [[ -n ${E2E_EXISTING:-} ]]; then
  phase "the machines after the destroy, against before the first up"
  # the machines are not the program's: they still run, and are as they were
  running=$(own_virsh list --name --state-running | grep -c "^$CLUSTER-own-" || true)
  [[ $running -eq 3 ]] || { echo "after the destroy $running of the 3 machines run" >&2; exit 1; }
  existing_photograph_all after
  existing_compare after || late_failures+=("the destroy left the machines changed (machine-*.before/.after in $run)")
  phase "the machines rebooted, against before the first up (kernel state too)"
  existing_reboot_all
  existing_photograph_all rebooted
  existing_compare rebooted runtime || late_failures+=("after a reboot the machines are not as before the first up (machine-*.before/.rebooted in $run)")
else
left=$(ns bash -c "virsh -q -c qemu:///system list --all --name; virsh -q -c qemu:///system net-list --all --name; virsh -q -c qemu:///system pool-list --all --name" | grep "^$CLUSTER" || true)
[[ -z $left ]] || { echo "destroy left libvirt objects: $left" >&2; exit 1; }
if [[ $E2E_HOSTS == 2 ]]; then
  left=$(hv2_leftovers; ip -n $NS -o link show 2>/dev/null | grep -o "vx-$CLUSTER" || true)
  [[ -z $left ]] || { echo "destroy left on the hosts: $left" >&2; exit 1; }
  [[ -z $(hv2_pool_files) ]] || { echo "destroy left files in the second host's pool: $(hv2_pool_files)" >&2; exit 1; }
  echo "  ok: both hosts empty (no domain, network, pool or tunnel end of $CLUSTER)" >&2
fi
[[ -z $(ls -A "$pool" 2>/dev/null) ]] || { echo "destroy left files in the pool: $(ls "$pool")" >&2; exit 1; }
fi
n=$(pulumi stack --stack $STACK export | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log((JSON.parse(s).deployment.resources||[]).length))')
[[ $n -eq 0 ]] || { echo "the stack still holds $n resources" >&2; exit 1; }
pulumi stack rm --stack $STACK --yes >/dev/null
phase ""
if ((${#late_failures[@]})); then printf 'lab:e2e: %s\n' "${late_failures[@]}" >&2; exit 1; fi
