// Addon planning: every Kubernetes object the lab applies through the API, as typed data,
// one module per addon — the kubelet-API RBAC (rbac), the pod network (weave or flannel),
// CoreDNS, the Dashboard and Headlamp — and the gate before them. Nothing is fetched at run
// time. The cluster plan orders them; the render prints them; the tests validate them
// against the OpenAPI schemas. Pure. Depends on: config, addons/*.
import { ClusterConfig } from "../config";
import { AddonGroup } from "./objects";
import { kubeletApiRbac } from "./rbac";
import { weaveNet } from "./weave";
import { flannel } from "./flannel";
import { coredns } from "./coredns";
import { dashboard } from "./dashboard";
import { headlamp } from "./headlamp";

export * from "./objects";
export * from "./rbac";
export * from "./weave";
export * from "./flannel";
export * from "./coredns";
export * from "./dashboard";
export * from "./headlamp";

/** Every addon group in the order they are applied: RBAC, CNI, then CoreDNS and the web UIs. */
export function planAddons(c: ClusterConfig): AddonGroup[] {
  // cni: bridge is host configuration (worker/pod-network), not an addon
  const groups = [kubeletApiRbac(), ...(c.addons.cni === "weave" ? [weaveNet(c)] : c.addons.cni === "flannel" ? [flannel(c)] : [])];
  if (c.addons.coredns) groups.push(coredns(c));
  if (c.addons.dashboard) groups.push(dashboard(c));
  if (c.addons.headlamp) groups.push(headlamp(c));
  return groups;
}

/** How long the machine running Pulumi waits for the admin endpoint to answer. */
export const API_REACHABLE_TIMEOUT_S = 300;

/**
 * The gate before the first addon, run on the machine running Pulumi (the Kubernetes
 * provider connects from there, not from a node, and does not retry): the admin endpoint
 * must accept TCP connections three times in a row. On slow TCG guests the first connection
 * right after the nodes registered failed with "no route to host" (seen in a real run).
 */
export function apiReachableScript(server: string, timeoutS = API_REACHABLE_TIMEOUT_S): string {
  const u = new URL(server);
  return [
    "set -euo pipefail",
    `host=${u.hostname} port=${u.port || 443} ok=0 deadline=$((SECONDS + ${timeoutS}))`,
    "while ((ok < 3)); do",
    '  if timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then ok=$((ok + 1)); else ok=0; fi',
    `  if ((SECONDS > deadline)); then echo "the Kubernetes API at $host:$port does not answer from this machine after ${timeoutS} s (the addons are applied from here)" >&2; exit 1; fi`,
    "  sleep 2",
    "done",
  ].join("\n");
}
