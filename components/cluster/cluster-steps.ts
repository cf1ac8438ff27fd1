// The two host steps of the whole cluster rather than of one node layer (owner `cluster`), both on
// the first control-plane node: admin-access, which binds the admin certificate's group to
// cluster-admin with the break-glass credential, and nodes-registered, the gate that every
// kubelet node has registered before the addons. Pure. Depends on: config, host, node-prep,
// pki, control-plane (the admin kubeconfig on that node).
import { ClusterConfig, kubeletNodes } from "../config";
import { HostStepPlan, waitUntil } from "../host/plan";
import { secretFile } from "../host/key-files";
import { BIN_DIR } from "../node-prep/artifacts";
import { material } from "../pki/material";
import { CLUSTER_ADMINS_GROUP } from "../pki/plan";
import { ADMIN_KUBECONFIG } from "../control-plane/plan";

/** Where the break-glass kubeconfig sits while admin-access runs (tmpfs; removed at once). */
export const SUPER_ADMIN_KUBECONFIG = "/run/k8s-lab/super-admin.conf";
export const CLUSTER_ADMINS_BINDING = "k8s-lab:cluster-admins";

/**
 * Grants the admin certificate's group cluster-admin, as kubeadm does: the binding is made
 * with the system:masters break-glass credential, which visits the first control-plane
 * node's tmpfs for this one command and is never kept on a node.
 */
export function planAdminAccess(c: ClusterConfig): HostStepPlan {
  const first = c.adminNode;
  const server = `--server https://127.0.0.1:${c.network.apiserverPort} --request-timeout 30s`;
  return {
    node: first.name,
    ip: first.ip,
    layer: "admin-access",
    description: `ClusterRoleBinding ${CLUSTER_ADMINS_BINDING}: group ${CLUSTER_ADMINS_GROUP} (the admin certificate) → cluster-admin`,
    files: [secretFile(SUPER_ADMIN_KUBECONFIG, material.kubeconfig("super-admin"))],
    activate: [
      `trap 'rm -f ${SUPER_ADMIN_KUBECONFIG}' EXIT`,
      `${BIN_DIR}/kubectl create clusterrolebinding ${CLUSTER_ADMINS_BINDING} --clusterrole=cluster-admin --group=${CLUSTER_ADMINS_GROUP} --dry-run=client -o yaml | ${BIN_DIR}/kubectl --kubeconfig ${SUPER_ADMIN_KUBECONFIG} ${server} apply -f -`,
    ],
    // the admin's own binding: removable with the admin's own rights
    deactivate: [`${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG} ${server} delete clusterrolebinding ${CLUSTER_ADMINS_BINDING} --ignore-not-found >/dev/null 2>&1 || true`],
    healthGate: `kubectl apply of the binding as system:masters succeeds`,
  };
}

/** The cluster gate: every kubelet node has registered with the apiservers (Ready needs the CNI, later). */
export function planNodesRegistered(c: ClusterConfig): HostStepPlan {
  const first = c.adminNode;
  const names = kubeletNodes(c).map((n) => n.name).sort();
  const kubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG}`;
  return {
    node: first.name,
    ip: first.ip,
    layer: "nodes-registered",
    description: `all ${names.length} nodes registered: ${names.join(", ")}`,
    files: [],
    activate: [
      // quoted: a node may be named like a command (a node 'cp': want=cp reads as a mistake)
      `want='${names.join(",")}'`,
      // every wanted node, not exactly these: a node being removed still has its Node object
      // until its own step (node-<name>) drains and deletes it, after this gate
      `registered() { have=$(${kubectl} get nodes -o jsonpath='{.items[*].metadata.name}' 2>/dev/null | tr ' ' '\\n' | sort | paste -sd, -); [[ $(comm -23 <(tr , '\\n' <<<"$want") <(tr , '\\n' <<<"$have") | wc -l) -eq 0 ]]; }`,
      "deadline=$((SECONDS + 300))",
      "until registered; do",
      '  if ((SECONDS >= deadline)); then echo "nodes registered after 300 s: ${have:-none}; expected: $want (see journalctl -u kubelet on the missing nodes)" >&2; exit 1; fi',
      "  sleep 3",
      "done",
      "# the Kubernetes provider's first request is the OpenAPI document, which an apiserver",
      "# builds on first use (over 32 s, the provider's timeout, on a slow guest): build it now",
      ...waitUntil(`${kubectl} --request-timeout 120s get --raw /openapi/v2`, 300, "the apiserver did not serve /openapi/v2 within 300 s (the Kubernetes provider needs it); see: journalctl -u kube-apiserver", 5),
    ],
    deactivate: [],
    healthGate: `kubectl get nodes lists ${names.join(", ")}; /openapi/v2 is served`,
  };
}

