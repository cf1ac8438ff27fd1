// Wiring of etcd (owner `etcd`): one member per etcd node, one member at a time on a
// running cluster; members added to a running cluster join after its members, one at a
// time; the health gate; each member's membership step (taken out of the member list
// before its etcd stops); scheduled snapshots. Depends on: cluster/builder, etcd.
import { nodesWith } from "../../config";
import { EtcdMembership, planEtcdHealthGate, planEtcdMember, planEtcdMembership, planEtcdMembershipOf } from "../../etcd/plan";
import { planEtcdSnapshots } from "../../etcd/snapshots";
import { NodeSteps, PlanBuilder, ids } from "../builder";
import { HostStep } from "../types";

export interface WiredEtcd {
  members: EtcdMembership;
  health: HostStep;
}

export function wireEtcd(b: PlanBuilder, artifacts: NodeSteps): WiredEtcd {
  const c = b.config;
  const last = b.options.lastUp;
  const members = planEtcdMembership(c, last?.etcd, b.established, [...(last?.etcdRejoin ?? []), ...(last?.rebuildNodes ?? [])]);
  const { joining } = members;
  const etcd = b.hostLayer("etcd", "etcd", "all", nodesWith(c, "etcd").map((n) => planEtcdMember(c, n, members.joins[n.name])), { notRolled: joining });
  for (const [n, s] of Object.entries(etcd)) b.edge(s.id, artifacts[n].id, "the etcd binaries");
  const staying = Object.keys(etcd).filter((n) => !joining.includes(n));
  joining.forEach((n, i) => {
    b.each(etcd[n].id, staying.map((m) => etcd[m].id), (x) => `joins the running cluster: after its members (${x}) and their restarts, if any`);
    if (i > 0) b.edge(etcd[n].id, etcd[joining[i - 1]].id, "one member joins at a time: a member announced but not yet started counts against the quorum");
  });

  const health = b.single("etcd-health", "etcd", planEtcdHealthGate(c));
  b.each(health.id, ids(etcd), (x) => `every member runs (${x})`);

  const membership = b.hostLayer("etcd-membership", "etcd", "none", nodesWith(c, "etcd").map((n) => planEtcdMembershipOf(n)), { extra: { deletedWithCluster: true, keptOnNewMachine: true } });
  for (const [n, s] of Object.entries(membership)) {
    b.edge(s.id, etcd[n].id, "taken out of the member list while its etcd still runs (it answers the member list), before that etcd stops");
    b.edge(s.id, health.id, "the member list needs a quorum");
  }

  if (c.etcdSnapshots) {
    const snapshots = b.hostLayer("etcd-snapshots", "etcd", "none", nodesWith(c, "etcd").map((n) => planEtcdSnapshots(c, n)));
    for (const s of Object.values(snapshots)) b.edge(s.id, health.id, "a snapshot needs a healthy member");
  }
  return { members, health };
}
