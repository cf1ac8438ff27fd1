// What the last successful `up` left running (the stack's `lastUp` output, read back by the
// next `up`), and the day-two rules that compare a new config with it: etcd must keep a
// quorum of the members that hold the data, the first control-plane node stays first,
// Kubernetes moves at most one minor up and never down, etcd one minor up at a time, a node
// changes host only as a new machine, a running lab stays on one host or on several. Run
// after the config's own preflight and before any change is registered; the same Problem
// shape and messages. Pure. Depends on: model, hypervisors.
import { ClusterConfig, Problem, nodesWith } from "./model";
import { TUNNEL_MTU, hypervisorOf, multiHost } from "./hypervisors";

/** The stack output the program records what it left running in. */
export const LAST_UP_OUTPUT = "lastUp";

/**
 * How an etcd member first started: its initial-cluster and initial-cluster-state. etcd
 * reads them only on a member's first start; they are kept for its whole life so that
 * members joining or leaving later never rewrite (and restart) the others.
 */
export interface EtcdJoin {
  /** `name=https://ip:2380,…`: the members when it started, itself included. */
  cluster: string;
  /** "new": bootstrapped with the first members; "existing": joined a running cluster. */
  state: "new" | "existing";
  /**
   * How many times the member started from an empty data directory: 1 (absent) when it first
   * started, one more each time etcdRejoin took it out of the cluster and added it back.
   */
  generation?: number;
}

/** An initial-cluster string's entries: [member name, peer URL]. */
export function clusterEntries(cluster: string): Array<[string, string]> {
  return cluster.split(",").filter(Boolean).map((e) => {
    const i = e.indexOf("=");
    return [e.slice(0, i), e.slice(i + 1)];
  });
}

export interface LastUp {
  /** Each etcd member, by node name, with how it started. */
  etcd: Record<string, EtcdJoin>;
  /** The control-plane nodes, first one first. */
  controlPlane: string[];
  /** The Kubernetes version every node ran. */
  kubernetesVersion: string;
  /** The releases of etcd and the container runtime every node ran (absent: recorded by an older version of this program). */
  releases?: RecordedReleases;
  /** The members etcdRejoin named in that up (a one-time request: the next up must not name them again). */
  etcdRejoin?: string[];
  /** Each lab node whose machine was made again (rebuildNodes), by name: its generation, 2 for the first new machine (absent: 1). */
  machines?: Record<string, number>;
  /** The nodes rebuildNodes named in that up (a one-time request, as etcdRejoin). */
  rebuildNodes?: string[];
  /** Each lab node not on the first hypervisor, by name: the hypervisor its machine runs on (absent: the first). */
  hosts?: Record<string, string>;
  /** The node network spanned several hypervisors (the tunnel, MTU 1450); absent: one. */
  multiHost?: boolean;
}

/** Whether the recorded lab spanned several hypervisors (older records: a node recorded on another host). */
export function wasMultiHost(last: LastUp): boolean {
  return last.multiHost === true || Object.keys(last.hosts ?? {}).length > 0;
}

/** What lastUp records of the hosts: every lab node not on the first hypervisor. */
export function hostsOf(c: ClusterConfig): Record<string, string> {
  if (c.hypervisor.mode !== "libvirt") return {};
  return Object.fromEntries(c.nodes.map((n) => [n.name, hypervisorOf(c, n).name] as const).filter(([, h]) => h !== c.hypervisors[0].name));
}

/** The generation of a node's machine in this up: one more than recorded when rebuildNodes names it (and the last up did not). */
export function machineGeneration(c: ClusterConfig, last: LastUp | undefined, node: string): number {
  const was = last?.machines?.[node] ?? 1;
  return was + (c.rebuildNodes.includes(node) && !last?.rebuildNodes?.includes(node) ? 1 : 0);
}

/** What lastUp records of the machines: every node on a machine after its first (generation > 1). */
export function machinesOf(c: ClusterConfig, last: LastUp | undefined): Record<string, number> {
  return Object.fromEntries(c.nodes.map((n) => [n.name, machineGeneration(c, last, n.name)] as const).filter(([, g]) => g > 1));
}

/** The etcd members that start again from an empty data directory in this up: named in etcdRejoin, or on a rebuilt machine. */
export function rejoinRequests(c: ClusterConfig): string[] {
  const members = nodesWith(c, "etcd").map((n) => n.name);
  return [...c.etcdRejoin, ...c.rebuildNodes.filter((n) => members.includes(n) && !c.etcdRejoin.includes(n))];
}

/** The non-Kubernetes releases a lab runs, as recorded. */
export interface RecordedReleases {
  etcd: string;
  containerd: string;
  runc: string;
}

/** What an `up` of this config leaves running, to record in lastUp. */
export function releasesOf(c: ClusterConfig): RecordedReleases {
  return { etcd: c.versions.etcd, containerd: c.versions.containerd, runc: c.versions.runc };
}

/**
 * Whether this `up` may move a running node's container runtime to another release: the
 * recorded one differs, or none was recorded (a lab made by an older version of this
 * program: it ran other defaults, so assume it may).
 */
export function runtimeMoves(c: ClusterConfig, last: LastUp | undefined): boolean {
  if (!last) return false;
  const r = last.releases;
  return !r || r.containerd !== c.versions.containerd || r.runc !== c.versions.runc;
}

/** Reads the recorded value leniently: anything malformed counts as "not recorded". */
export function parseLastUp(v: unknown): LastUp | undefined {
  if (!v || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  if (!o.etcd || typeof o.etcd !== "object" || !Array.isArray(o.controlPlane) || typeof o.kubernetesVersion !== "string") return undefined;
  const etcd: Record<string, EtcdJoin> = {};
  for (const [name, j] of Object.entries(o.etcd as Record<string, unknown>)) {
    const x = j as Partial<EtcdJoin> | undefined;
    if (!x || typeof x.cluster !== "string" || (x.state !== "new" && x.state !== "existing")) return undefined;
    etcd[name] = { cluster: x.cluster, state: x.state, ...(typeof x.generation === "number" && x.generation > 1 ? { generation: x.generation } : {}) };
  }
  const names = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : []);
  const rejoined = names(o.etcdRejoin);
  const rebuilt = names(o.rebuildNodes);
  const machines = o.machines && typeof o.machines === "object" ? Object.fromEntries(Object.entries(o.machines as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isInteger(e[1]) && e[1] > 1)) : {};
  const hosts = o.hosts && typeof o.hosts === "object" ? Object.fromEntries(Object.entries(o.hosts as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string")) : {};
  const r = o.releases as Partial<RecordedReleases> | undefined;
  const releases = r && typeof r === "object" && typeof r.etcd === "string" && typeof r.containerd === "string" && typeof r.runc === "string" ? { etcd: r.etcd, containerd: r.containerd, runc: r.runc } : undefined;
  return {
    etcd,
    controlPlane: o.controlPlane.filter((x): x is string => typeof x === "string"),
    kubernetesVersion: o.kubernetesVersion,
    ...(releases ? { releases } : {}),
    ...(rejoined.length ? { etcdRejoin: rejoined } : {}),
    ...(Object.keys(machines).length ? { machines } : {}),
    ...(rebuilt.length ? { rebuildNodes: rebuilt } : {}),
    ...(Object.keys(hosts).length ? { hosts } : {}),
    ...(o.multiHost === true ? { multiHost: true } : {}),
  };
}

/** The quorum of an etcd cluster of n members. */
export const quorum = (n: number) => Math.floor(n / 2) + 1;

function minorOf(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** A release that may move one minor up at a time and never down: the problem when `now` does otherwise. */
function oneMinorUp(key: string, was: string, now: string, text: { down: string; downFix: string; skip: string; skipFix: (nextMinor: number) => string }): Problem[] {
  const w = minorOf(was);
  const n = minorOf(now);
  if (!w || !n) return [];
  if (n[1] < w[1] || (n[1] === w[1] && n[2] < w[2])) return [{ severity: "error", key, message: text.down, fix: text.downFix }];
  if (n[1] > w[1] + 1) return [{ severity: "error", key, message: text.skip, fix: text.skipFix(w[1] + 1) }];
  return [];
}

/**
 * The rules against the last `up`. `last` undefined: nothing recorded — a first `up`, or a
 * stack last updated by a version of this program that did not record it (then `running`
 * names the nodes it left, and membership changes are refused for one `up`).
 */
export function lastUpProblems(c: ClusterConfig, last: LastUp | undefined, running: ReadonlySet<string> = new Set()): Problem[] {
  const out: Problem[] = [];
  const members = nodesWith(c, "etcd").map((n) => n.name);
  if (!last && c.etcdRejoin.length) {
    out.push({
      severity: "error",
      key: "etcdRejoin",
      message: `names ${c.etcdRejoin.join(", ")}, but the last up recorded no etcd members${running.size ? " (a stack from an older version of this program)" : " (nothing runs yet)"}`,
      fix: running.size ? "run `pulumi up` once without etcdRejoin (it records the members), then name the member again" : "remove etcdRejoin: a first up starts every member from nothing",
    });
  }
  if (!last && c.rebuildNodes.length) {
    out.push({
      severity: "error",
      key: "rebuildNodes",
      message: `names ${c.rebuildNodes.join(", ")}, but the last up recorded no machines${running.size ? " (a stack from an older version of this program)" : " (nothing runs yet)"}`,
      fix: running.size ? "run `pulumi up` once without rebuildNodes (it records the cluster), then name the node again" : "remove rebuildNodes: a first up makes every machine",
    });
  }
  if (!last) {
    if (running.size) {
      const gone = [...running].filter((n) => !c.nodes.some((x) => x.name === n));
      if (gone.length) {
        out.push({
          severity: "error",
          key: "nodes",
          message: `the last up did not record the cluster's members (a stack from an older version of this program), and ${gone.join(", ")} would be removed: an etcd member among them would stay in etcd's member list`,
          fix: "run `pulumi up` once with the nodes unchanged (it records them), then remove the nodes",
        });
      }
    }
    return out;
  }

  // etcd: the members that stay must be a quorum of today's cluster
  const before = Object.keys(last.etcd);
  const again = c.etcdRejoin.filter((m) => last.etcdRejoin?.includes(m));
  if (again.length) {
    out.push({
      severity: "error",
      key: "etcdRejoin",
      message: `${again.join(", ")} rejoined etcd in the last up; etcdRejoin is a one-time request`,
      fix: `take ${again.join(", ")} out of etcdRejoin (if its data is lost again later, name it again after one up without it)`,
    });
  }
  const rebuiltAgain = c.rebuildNodes.filter((m) => last.rebuildNodes?.includes(m));
  if (rebuiltAgain.length) {
    out.push({
      severity: "error",
      key: "rebuildNodes",
      message: `${rebuiltAgain.join(", ")} got a new machine in the last up; rebuildNodes is a one-time request`,
      fix: `take ${rebuiltAgain.join(", ")} out of rebuildNodes (if its machine is lost again later, name it again after one up without it)`,
    });
  }
  const neverMade = running.size ? c.rebuildNodes.filter((m) => !running.has(m)) : [];
  if (neverMade.length) {
    out.push({
      severity: "error",
      key: "rebuildNodes",
      message: `${neverMade.join(", ")} has no machine to make again: the last up did not leave it running`,
      fix: `take ${neverMade.join(", ")} out of rebuildNodes: this up makes its machine anyway`,
    });
  }
  const notRunning = c.etcdRejoin.filter((m) => members.includes(m) && !before.includes(m));
  if (notRunning.length) {
    out.push({
      severity: "error",
      key: "etcdRejoin",
      message: `${notRunning.join(", ")} is not a member of the running cluster (the last up did not start it)`,
      fix: `take ${notRunning.join(", ")} out of etcdRejoin: a member that joins now starts from an empty data directory anyway`,
    });
  }
  const rejoining = rejoinRequests(c).filter((m) => before.includes(m) && !again.includes(m) && !rebuiltAgain.includes(m));
  if (rejoining.length && before.length - rejoining.length < quorum(before.length)) {
    out.push({
      severity: "error",
      key: rejoining.every((m) => c.rebuildNodes.includes(m)) ? "rebuildNodes" : "etcdRejoin",
      message: `rejoining ${rejoining.join(", ")} leaves ${before.length - rejoining.length} of the ${before.length} members with the data, less than the quorum of ${quorum(before.length)}: the others cannot take ${rejoining.length === 1 ? "it" : "them"} out of the cluster`,
      fix: `rejoin at most ${before.length - quorum(before.length)} member${before.length - quorum(before.length) === 1 ? "" : "s"} per up; with a quorum lost, restore the cluster from a snapshot (RUNBOOK.md)`,
    });
  }
  // a node that moves to another host gets a new machine there: the one on its old host is deleted
  if (c.hypervisor.mode === "libvirt") {
    const now = hostsOf(c);
    for (const n of c.nodes.filter((x) => running.has(x.name))) {
      const was = last.hosts?.[n.name] ?? c.hypervisors[0].name;
      const is = now[n.name] ?? c.hypervisors[0].name;
      if (was === is || (c.rebuildNodes.includes(n.name) && !rebuiltAgain.includes(n.name))) continue;
      out.push({
        severity: "error",
        key: `nodes[${n.index}]`,
        message: `${n.name} runs on ${was} and would move to ${is}: a new machine there (its disk is not copied), its machine on ${was} deleted`,
        fix: `name it in rebuildNodes for this up (its etcd member rejoins, the node re-registers): pulumi config set --path 'rebuildNodes[0]' ${n.name}; or keep host=${was}`,
      });
    }
  }
  // one host ↔ several: the node network's MTU (the tunnel's 1450) is on the network and every
  // domain's NIC, so all of them would be replaced at once — every node down together
  if (c.hypervisor.mode === "libvirt" && running.size && wasMultiHost(last) !== multiHost(c)) {
    const toSeveral = multiHost(c);
    out.push({
      severity: "error",
      key: "hypervisors",
      message: toSeveral
        ? `the running lab is on one host and would span ${c.hypervisors.length} (${c.hypervisors.map((h) => h.name).join(", ")}): the node network and every VM get the tunnel's MTU ${TUNNEL_MTU}, which replaces them all at once (every node restarts together, the cluster stops)`
        : `the running lab spans several hosts and would be on one: the node network and every VM drop the tunnel's MTU ${TUNNEL_MTU}, which replaces them all at once (every node restarts together, the cluster stops)`,
      fix: toSeveral
        ? "start a lab that spans hosts with every hypervisor listed from its first up (pulumi destroy, then pulumi up with the list); or keep one hypervisor"
        : "keep two hypervisors listed (the second one may run no node), or pulumi destroy and up again on one host",
    });
  }
  // a member is known to the others by its peer URL (its address): the steps that add and
  // remove it keep what they did when only their machine changes, so a new address is refused
  for (const name of before) {
    const node = c.nodes.find((n) => n.name === name);
    const was = clusterEntries(last.etcd[name].cluster).find(([n]) => n === name)?.[1];
    const now = node && `https://${node.ip}:2380`;
    if (node && was && nodesWith(c, "etcd").includes(node) && was !== now) {
      out.push({
        severity: "error",
        key: "nodes",
        message: `${name} is the etcd member ${was}, and its address would become ${node.ip}: the other members know it by that address`,
        fix: `keep ip=${new URL(was).hostname} for ${name}, or remove ${name} in one up and add it with the new address in the next`,
      });
    }
  }
  if (before.length) {
    const staying = before.filter((m) => members.includes(m));
    const leaving = before.filter((m) => !members.includes(m));
    const q = quorum(before.length);
    if (staying.length < q) {
      out.push({
        severity: "error",
        key: "nodes",
        message: `removing ${leaving.join(", ")} from etcd in one up (${before.length} → ${members.length} members) leaves ${staying.length} of the ${before.length} members that hold the data; a quorum of ${before.length} is ${q}, so etcd would stop answering before the change is done`,
        fix: `remove etcd members one at a time (keep ${q} of ${before.join(", ")} in this up), or restore from a snapshot (RUNBOOK.md) to start over with fewer`,
      });
    }
  }

  // the first control-plane node runs the cluster-wide steps
  const firstBefore = last.controlPlane[0];
  const firstNow = c.adminNode.name;
  if (firstBefore && firstNow && firstBefore !== firstNow) {
    out.push({
      severity: "error",
      key: "nodes",
      message: `the first control-plane node was ${firstBefore} and would become ${firstNow}: the first one runs the cluster-wide steps (admin-access, every node's membership, nodes-registered), and moving them would drain and re-register every node`,
      fix: `keep ${firstBefore} as the first node with roles=control-plane in nodes (other control-plane nodes can come and go)`,
    });
  }

  // Kubernetes: one minor up at a time, never down (the version-skew policy)
  out.push(
    ...oneMinorUp("kubernetesVersion", last.kubernetesVersion, c.versions.kubernetes, {
      down: `${c.versions.kubernetes} is older than the ${last.kubernetesVersion} the cluster runs: a downgrade is not supported (etcd holds objects the older apiserver may not read)`,
      downFix: `set kubernetesVersion back to ${last.kubernetesVersion} (or a later patch), or rebuild the cluster`,
      skip: `${c.versions.kubernetes} skips a minor: the cluster runs ${last.kubernetesVersion}, and kube-apiserver moves one minor at a time`,
      skipFix: (next) => `upgrade to 1.${next}.x first (pulumi up), then to ${c.versions.kubernetes}`,
    }),
  );

  // etcd: one minor up at a time, never down (a member reads only the data of its own or the previous minor)
  const etcdNow = minorOf(c.versions.etcd);
  if (last.releases) {
    const was = last.releases.etcd;
    out.push(
      ...oneMinorUp("etcdVersion", was, c.versions.etcd, {
        down: `etcd ${c.versions.etcd} is older than the ${was} the cluster runs: etcd's data cannot move back through pulumi up`,
        downFix: `set etcdVersion back to ${was} (or a later patch), or restore a snapshot into a new cluster (RUNBOOK.md)`,
        skip: `etcd ${c.versions.etcd} skips a minor: the cluster runs ${was}, and etcd moves one minor at a time`,
        skipFix: (next) => `upgrade etcd to 3.${next}.x first (pulumi up), then to ${c.versions.etcd}`,
      }),
    );
  } else if (etcdNow && etcdNow[1] >= 7) {
    out.push({
      severity: "error",
      key: "etcdVersion",
      message: `etcd ${c.versions.etcd} is a new minor, and the last up did not record which etcd the cluster runs (a stack from an older version of this program, which ran etcd 3.5 or 3.6)`,
      fix: "run `pulumi up` once with etcdVersion 3.6.x (it records the releases), then move to 3.7",
    });
  }
  return out;
}

/** What libvirt still has of a node's machine (asked at the program's start). */
export interface MachineState {
  node: string;
  domain: boolean;
  disk: boolean;
}

/**
 * The machines gone from libvirt (deleted by hand, or a disk lost) against this config: a
 * node that stays must be named in rebuildNodes (else this up would change nothing and the
 * node stay gone); an etcd member that leaves cannot take itself out of etcd without its
 * machine. `machines` undefined: libvirt did not answer (the VM steps will say so).
 */
export function lostMachineProblems(c: ClusterConfig, last: LastUp | undefined, machines: MachineState[] | undefined): Problem[] {
  const out: Problem[] = [];
  for (const m of machines ?? []) {
    if (m.domain && m.disk) continue;
    const what = [m.domain ? "" : "its domain", m.disk ? "" : "its disk"].filter(Boolean).join(" and ");
    const staying = c.nodes.some((n) => n.name === m.node);
    if (staying && !c.rebuildNodes.includes(m.node)) {
      out.push({
        severity: "error",
        key: "rebuildNodes",
        message: `${m.node} ran after the last up, and now ${what} ${m.domain || m.disk ? "is" : "are"} gone from libvirt (${hypervisorOf(c, c.nodes.find((n) => n.name === m.node)!).uri}): this up would leave the node without a machine`,
        fix: `name it to make its machine again from the base image (its etcd member rejoins, the node re-registers): pulumi config set --path 'rebuildNodes[0]' ${m.node}; take it out again after that up`,
      });
    } else if (!staying && last?.etcd[m.node]) {
      out.push({
        severity: "error",
        key: "nodes",
        message: `${m.node} leaves the config, and ${what} ${m.domain || m.disk ? "is" : "are"} gone from libvirt: its etcd member cannot take itself out of the cluster without its machine`,
        fix: `keep ${m.node} in nodes and name it in rebuildNodes for one up (it rejoins on a new machine), then remove it`,
      });
    }
  }
  return out;
}
