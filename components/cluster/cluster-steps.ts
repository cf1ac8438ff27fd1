// The two host steps of the whole cluster rather than of one node layer (owner `cluster`), both on
// the first control-plane node: admin-access, which binds the admin certificate's group to
// cluster-admin with the break-glass credential, and nodes-registered, the gate that every
// kubelet node has registered before the addons. Pure. Depends on: config, host, node-prep,
// pki, control-plane (the admin kubeconfig on that node).
import { ClusterConfig, kubeletNodes, nodesWith } from "../config";
import { HostStepPlan, waitUntil } from "../host/plan";
import { PKI_DIR, secretFile } from "../host/key-files";
import { BIN_DIR } from "../node-prep/artifacts";
import { material } from "../pki/material";
import { CLUSTER_ADMINS_GROUP } from "../pki/plan";
import { ADMIN_KUBECONFIG } from "../control-plane/plan";

/** Where the break-glass kubeconfig sits while admin-access runs (tmpfs; removed at once). */
export const SUPER_ADMIN_KUBECONFIG = "/run/k8s-lab/super-admin.conf";
export const CLUSTER_ADMINS_BINDING = "k8s-lab:cluster-admins";
/** What the Kubernetes provider asks /openapi/v2 for (client-go's OpenAPISchema). */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/** How long nodes-registered waits for every apiserver's OpenAPI document. */
export const OPENAPI_WARM_TIMEOUT_S = 300;

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

/**
 * The cluster gate: every kubelet node has registered with the apiservers (Ready needs the
 * CNI, later), and every apiserver serves the OpenAPI document the Kubernetes provider asks for first.
 */
export function planNodesRegistered(c: ClusterConfig): HostStepPlan {
  const first = c.adminNode;
  const names = kubeletNodes(c).map((n) => n.name).sort();
  const kubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG}`;
  const apiservers = nodesWith(c, "control-plane").map((n) => `https://${n.ip}:${c.network.apiserverPort}`);
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
      // (a lab's first up failed so: the JSON document was built here, the provider's
      // protobuf one took over 60 s on k8s-1 under load; retried by hand: 0.7-4 s)
      "# the Kubernetes provider's first request is the OpenAPI document as protobuf, which an",
      "# apiserver builds on first use, apart from the JSON one (33-62 s on loaded emulated guests,",
      "# past the apiserver's own 60 s: the provider does not retry). A request cut off still fills",
      "# the cache. Build it on every apiserver: apiserverEndpoint may lead to any of them",
      `openapi_pb() { curl -fsS --max-time 120 --cacert ${PKI_DIR}/ca.crt --cert ${PKI_DIR}/apiserver-kubelet-client.crt --key ${PKI_DIR}/apiserver-kubelet-client.key -H 'Accept: ${OPENAPI_V2_PROTOBUF}' -o /dev/null "$1/openapi/v2"; }`,
      "pids=()",
      // one waiting subshell per apiserver, side by side
      ...apiservers.flatMap((s) => [
        "(",
        ...waitUntil(`openapi_pb ${s}`, OPENAPI_WARM_TIMEOUT_S, `${s} did not serve /openapi/v2 as protobuf within ${OPENAPI_WARM_TIMEOUT_S} s (the Kubernetes provider needs it); see: journalctl -u kube-apiserver on that node`, 5).map((l) => `  ${l}`),
        ") &",
        "pids+=($!)",
      ]),
      'for p in "${pids[@]}"; do wait "$p"; done',
    ],
    deactivate: [],
    healthGate: `kubectl get nodes lists ${names.join(", ")}; every apiserver serves /openapi/v2 as protobuf`,
  };
}

