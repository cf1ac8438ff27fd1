#!/usr/bin/env bash
# The e2e run's checks, inside its network namespace, against the running lab:
# etcd, every apiserver through every node's local proxy, nodes Ready, a pod on every
# node, pod-to-pod traffic across nodes, cluster DNS from a pod, kubectl logs/exec, and
# the admin kubeconfig from the stack output working from this machine.
# Needs: E2E_DIR (admin.conf, lab-key, bin/kubectl).
set -euo pipefail
dir=${E2E_DIR:?}
# 60 s: on the 2-core machine the TCG apiservers answered some requests after 20 s (run 9)
k() { "$dir/bin/kubectl" --kubeconfig "$dir/admin.conf" --request-timeout 60s "$@"; }
nodes=(k8s-1:192.168.253.140 k8s-2:192.168.253.139 k8s-3:192.168.253.141)
on() { local ip=$1; shift; ssh -i "$dir/lab-key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "k8s@$ip" "$@"; }
ok() { echo "  ok: $*" >&2; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "  FAILED: $what" >&2; "$@" >&2 || true; return 1; fi
    sleep 3
  done
  ok "$what"
}

wait_for 180 "etcd: every member healthy" on 192.168.253.140 "sudo /usr/local/bin/etcdctl --command-timeout=30s --dial-timeout=10s --endpoints=https://192.168.253.140:2379,https://192.168.253.139:2379,https://192.168.253.141:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key endpoint health --cluster"
for n in "${nodes[@]}"; do
  # etcd on TCG guests commits in seconds: a readiness check may fail once, so retry
  wait_for 120 "${n%%:*}: /readyz through its local proxy (127.0.0.1:8443)" on "${n#*:}" "sudo /usr/local/bin/kubectl --kubeconfig /etc/kubernetes/kubelet.conf get --raw /readyz"
done
wait_for 300 "all 3 nodes Ready" bash -c "[[ \$('$dir/bin/kubectl' --kubeconfig '$dir/admin.conf' get nodes --no-headers | grep -cw Ready) -eq 3 ]]"
k get nodes -o wide >&2

image=$(k get node k8s-1 -o jsonpath='{.status.images[*].names[*]}' | tr ' ' '\n' | grep -m1 '^localhost/k8s-lab/busybox:')
# (applied until accepted: under load etcd answered "request timed out" once, run 11)
for n in "${nodes[@]}"; do
  name=${n%%:*}
  cat > "$dir/probe-$name.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probe-$name, namespace: default, labels: {app: probe}}
spec:
  nodeName: $name
  containers: [{name: sh, image: "$image", imagePullPolicy: Never, command: [sh, -c, "echo probe on $name; sleep 3600"]}]
  terminationGracePeriodSeconds: 1
YAML
  wait_for 180 "probe pod on $name accepted" k apply -f "$dir/probe-$name.yaml"
done
wait_for 600 "a pod running on every node" k wait --for=condition=Ready pod -l app=probe --timeout=10s
ips=$(k get pods -l app=probe -o jsonpath='{range .items[*]}{.spec.nodeName}={.status.podIP} {end}')
echo "  pods: $ips" >&2
for target in $ips; do
  k exec probe-k8s-1 -- ping -c 2 -W 3 "${target#*=}" >/dev/null
  ok "pod on k8s-1 reaches the pod on ${target%%=*} (${target#*=})"
done
wait_for 600 "CoreDNS ready" k -n kube-system wait --for=condition=Available deployment/coredns --timeout=10s
wait_for 180 "CoreDNS answers kubernetes.default.svc.cluster.local from a pod" k exec probe-k8s-2 -- nslookup kubernetes.default.svc.cluster.local
k logs probe-k8s-3 | grep -q "probe on k8s-3"
ok "kubectl logs (apiserver → kubelet, kubelet-API RBAC)"
k exec probe-k8s-3 -- true
ok "kubectl exec"
# not --wait: its watch outlives one request's timeout while sh (PID 1, SIGTERM ignored) runs out its grace period
k delete pod -l app=probe --wait=false >/dev/null
wait_for 180 "probe pods deleted" bash -c "[[ -z \$('$dir/bin/kubectl' --kubeconfig '$dir/admin.conf' --request-timeout 60s get pods -l app=probe -o name) ]]"
