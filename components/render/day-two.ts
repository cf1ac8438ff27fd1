// The day-two part of RUNBOOK.md: for this cluster's nodes, what `pulumi up` does when a
// node is added or removed, when etcd members change, when Kubernetes moves one minor up,
// and when certificates are rotated — each order read from the cluster plan of that
// situation (planCluster with the nodes running and what the last `up` recorded), not
// written by hand. Pure. Depends on: config, cluster/plan, etcd/plan.
import { ClusterConfig, LastUp, nodesWith, quorum, releasesOf } from "../config";
import { ClusterPlan, PlannedStep, planCluster, topologicalOrder } from "../cluster/plan";

/** What the last `up` of this very config would have recorded, on `version`. */
function lastUpOf(c: ClusterConfig, version: string): LastUp {
  const plan = planCluster(c);
  return { etcd: plan.etcd.joins, controlPlane: nodesWith(c, "control-plane").map((n) => n.name), kubernetesVersion: version, releases: releasesOf(c) };
}

const ids = (steps: PlannedStep[]) => steps.map((s) => `\`${s.id}\``);

/** Steps acting for one node (on it, or about it from elsewhere), in an order that respects every edge. */
function stepsFor(plan: ClusterPlan, node: string): PlannedStep[] {
  return topologicalOrder(plan).filter((s) => s.node === node || s.id.endsWith(`-${node}`));
}

export function dayTwoRunbook(c: ClusterConfig): string[] {
  const running = new Set(c.nodes.map((n) => n.name));
  const [major, minor] = c.versions.kubernetes.split(".").map(Number);
  const previous = `${major}.${minor - 1}.0`;
  const out: string[] = ["## Day two", "", "Each is a config change, `pulumi preview`, `pulumi up`; the orders below come from the plan of that situation.", ""];

  // remove a node: the last worker that is not the first control-plane node
  const firstCp = c.adminNode.name;
  const leaving = [...c.nodes].reverse().find((n) => n.name !== firstCp && (n.roles.size > 1 || n.roles.has("worker")));
  if (leaving) {
    // the same node as a newcomer: every other node runs, it does not yet
    const others = new Set([...running].filter((n) => n !== leaving.name));
    const withoutIt = { ...c, nodes: c.nodes.filter((n) => n.name !== leaving.name) };
    const arriving = planCluster(c, { established: others, lastUp: lastUpOf(withoutIt, c.versions.kubernetes) });
    const creates = stepsFor(arriving, leaving.name);
    out.push(
      `### Add a node (here: ${leaving.name}, as if it were new)`,
      "",
      `Append its \`nodes\` entry. Its resources are created in this order (${creates.length}; independent ones together): ${ids(creates).join(" → ")}.`,
      leaving.roles.has("etcd")
        ? `As a new etcd member, \`etcd-${leaving.name}\` announces it (etcdctl member add) and starts it after the running members.`
        : "On the running nodes only `nodes-registered` changes (it lists the nodes).",
      "",
    );
    const plan = planCluster(c, { established: running, lastUp: lastUpOf(c, c.versions.kubernetes) });
    const deletes = stepsFor(plan, leaving.name).reverse();
    out.push(
      `### Remove ${leaving.name}`,
      "",
      `Drop its \`nodes\` entry. Pulumi deletes what depends on a step before the step, so the deletes run in this order (${deletes.length} resources): ${ids(deletes).join(" → ")}.`,
      `\`node-${leaving.name}\` cordons and drains it (300 s at most) and deletes its Node object${leaving.roles.has("etcd") ? `; \`etcd-membership-${leaving.name}\` takes it out of etcd (etcdctl member remove) while its etcd still runs` : ""}.`,
      "",
    );
  }

  // etcd members
  const members = nodesWith(c, "etcd").length;
  out.push(
    "### Add or remove etcd members",
    "",
    `This cluster has ${members} etcd member${members === 1 ? "" : "s"}; a quorum is ${quorum(members)}. A new member is announced (etcdctl member add) and started by its etcd step after every running member, one new member at a time; a member that leaves is removed at the end of the \`up\`. Preflight refuses an \`up\` that keeps fewer than ${quorum(members)} of today's members: remove one per \`up\`.`,
    "",
  );

  // upgrade: the plan of a cluster running the previous minor
  const upgrade = planCluster(c, { established: running, lastUp: lastUpOf(c, previous) });
  const order = topologicalOrder(upgrade);
  const cpChain = order.filter((s) => s.layer === "control-plane");
  const nodeChain = order.filter((s) => s.layer === "upgrade-drain").map((s) => s.id.replace("upgrade-drain-", ""));
  out.push(
    `### Upgrade Kubernetes ${major}.${minor - 1}.x → ${c.versions.kubernetes}`,
    "",
    "Set `kubernetesVersion` one minor up (preflight refuses a skipped minor and a downgrade). Then:",
    "",
    `1. the new binaries on every node, in parallel: ${ids(order.filter((s) => s.layer === "artifacts")).join(", ")};`,
    `2. the control plane one node at a time, each apiserver healthy before the next: ${ids(cpChain).join(" → ")};`,
    `3. then, one node at a time (${nodeChain.join(", ")}): \`upgrade-drain-<node>\` (cordon and drain) → \`kubelet-<node>\` → \`kube-proxy-<node>\` → \`upgrade-uncordon-<node>\`.`,
    "",
    "etcd, containerd and runc releases roll their own layer the same way (etcd one member at a time, each after a snapshot).",
    "",
    "### Certificates",
    "",
    "The stack output `certificateExpiry` lists every CA's and certificate's expiry. A leaf inside its renewal window (`certEarlyRenewalHours`) is re-issued on `up` and restarts the steps that carry it, one node at a time. To re-issue every leaf now, set `pkiRotation` to any new text. CAs are never rotated by the program.",
    "",
  );
  return out;
}
