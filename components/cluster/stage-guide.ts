// For a lab stood up one layer at a time (upTo): what each stage just built and how to see
// it by hand — the commands to run on a node (as root) or on this machine, and what they
// print — read by the stack output `upTo` and the runbook. Pure. Depends on: config,
// etcd/plan, control-plane/plan, node-prep, kube-nginx.
import { ClusterConfig, STAGES, Stage, nodesWith } from "../config";
import { etcdClientUrls, etcdctl } from "../etcd/plan";
import { ADMIN_KUBECONFIG } from "../control-plane/plan";
import { BIN_DIR } from "../node-prep/artifacts";

export interface StageGuide {
  stage: Stage;
  /** What the stage added. */
  built: string;
  /** Where to run the commands. */
  where: string;
  /** Commands, and what a working stage prints. */
  verify: Array<{ run: string; prints: string }>;
}

export function stageGuides(c: ClusterConfig): StageGuide[] {
  const first = c.adminNode;
  const kubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG}`;
  const etcd = etcdctl(etcdClientUrls(c).join(","));
  const guides: Record<Stage, Omit<StageGuide, "stage">> = {
    vms: {
      built: `the machines: ${c.nodes.map((n) => `${n.name} (${n.ip})`).join(", ")}, booted with cloud-init (hostname, the SSH key, swap off, kernel modules, sysctls)`,
      where: "this machine, with the SSH key from the stack output sshPrivateKey",
      verify: [
        { run: `ssh -i lab-key ${c.ssh.user}@${first.ip} cloud-init status`, prints: "status: done" },
        { run: `ssh -i lab-key ${c.ssh.user}@${first.ip} sudo swapon --show`, prints: "nothing (swap is off; swapon is in /usr/sbin, on sudo's path, not on a user's)" },
      ],
    },
    pki: {
      built: "the CAs, every certificate and key, and the kubeconfigs (in the stack's secrets; nothing on the nodes yet)",
      where: "this machine",
      verify: [{ run: "npm run pulumi -- stack output certificateExpiry", prints: "every CA and certificate with its expiry" }],
    },
    etcd: {
      built: `node prep and the release files on every node, and etcd on ${nodesWith(c, "etcd").map((n) => n.name).join(", ")} with TLS between members and for clients`,
      where: `an etcd member, e.g. ${nodesWith(c, "etcd")[0]?.name ?? first.name}, as root`,
      verify: [
        { run: `${etcd} endpoint health --cluster`, prints: "one 'is healthy' line per member" },
        { run: `${etcd} member list -w table`, prints: "every member, started" },
      ],
    },
    "kube-nginx": {
      built: `kube-nginx on every node: 127.0.0.1:${c.network.localProxyPort} in front of every apiserver (none runs yet)`,
      where: "any node, as root",
      verify: [{ run: "systemctl is-active kube-nginx", prints: "active" }],
    },
    "control-plane": {
      built: "kube-apiserver, kube-controller-manager and kube-scheduler on every control-plane node, and the admin group's binding to cluster-admin",
      where: `${first.name}, as root`,
      verify: [
        { run: `${kubectl} get --raw /readyz`, prints: "ok" },
        { run: `${kubectl} --server https://127.0.0.1:${c.network.localProxyPort} get --raw /readyz`, prints: "ok (through this node's kube-nginx)" },
        { run: `${kubectl} get nodes`, prints: "No resources found (no kubelet yet)" },
      ],
    },
    workers: {
      built: "containerd, the kubelet and kube-proxy on every node that runs pods, each node registered",
      where: `${first.name}, as root`,
      verify: [{ run: `${kubectl} get nodes -o wide`, prints: `${c.nodes.length} nodes; NotReady until the pod network is applied${c.addons.cni === "bridge" ? " (Ready with cni: bridge)" : ""}` }],
    },
    addons: {
      built: `the pod network (${c.addons.cni}), CoreDNS${c.addons.dashboard ? ", the dashboard" : ""}${c.addons.headlamp ? ", Headlamp" : ""}`,
      where: `${first.name}, as root`,
      verify: [
        { run: `${kubectl} get nodes`, prints: "every node Ready" },
        { run: `${kubectl} get pods -A`, prints: "every pod Running" },
      ],
    },
  };
  return STAGES.map((stage) => ({ stage, ...guides[stage] }));
}
