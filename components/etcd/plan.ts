// etcd planning: one member per etcd node — its config file (YAML), systemd unit and TLS
// files — its membership (taken out of the cluster before its etcd stops) and the cluster
// health gate. The first members start without waiting for each other (a member started
// alone blocks until quorum); a member that already has data is restarted and must be
// healthy again before the step returns, so changes roll one node at a time. A member
// added to a running cluster is announced first (etcdctl member add) and joins with
// initial-cluster-state existing, one at a time; how each member started is recorded in
// the stack (lastUp) so that members coming and going never rewrite the others' files.
// Pure. Depends on: config, host, node-prep, pki/material.
import * as YAML from "yaml";
import { ClusterConfig, EtcdJoin, NodeSpec, clusterEntries, emulatedGuests, nodesWith, rejoinRequests } from "../config";
import { HostStepPlan, MaterialRef, awaitHealthy, restartAndAwait, shq, unitRemoval, waitUntil } from "../host/plan";
import { commandLine, renderUnit } from "../host/systemd";
import { BIN_DIR, releasesRun } from "../node-prep/artifacts";
import { ETCD_PKI_DIR, PKI_DIR, certAndKey, certFile } from "../host/key-files";
import { material } from "../pki/material";

export const ETCD_DATA_DIR = "/var/lib/etcd";
export const ETCD_SNAPSHOT_DIR = "/var/lib/etcd-snapshots";
export const ETCD_CONFIG = "/etc/etcd/etcd.conf.yml";
export const ETCD_UNIT = "/etc/systemd/system/etcd.service";
export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;

export const etcdCaRef = (c: ClusterConfig): MaterialRef => material.caCert(c.pki.separateEtcdCa ? "etcd-ca" : "cluster-ca");

/** https client URLs of every member: what kube-apiserver's --etcd-servers lists. */
export function etcdClientUrls(c: ClusterConfig): string[] {
  return nodesWith(c, "etcd").map((n) => `https://${n.ip}:${CLIENT_PORT}`);
}

export const peerUrl = (n: Pick<NodeSpec, "ip">) => `https://${n.ip}:${PEER_PORT}`;

/** Every configured member, as initial-cluster lists them. */
export function initialCluster(c: ClusterConfig): string {
  return nodesWith(c, "etcd").map((n) => `${n.name}=${peerUrl(n)}`).join(",");
}

/** `name=url,…` → [name, url] pairs. */

/** The members of etcd across one `up`: how each configured member starts, who joins, who leaves. */
export interface EtcdMembership {
  /** How each configured member started (or starts now), by node name. */
  joins: Record<string, EtcdJoin>;
  /** Members added to the running cluster in this `up`, in the order they join. */
  joining: string[];
  /** Members of the running cluster no longer configured (removed at the end of this `up`). */
  leaving: string[];
  /** Members taken out and added back with an empty data directory in this `up` (etcdRejoin, or on a rebuilt machine). */
  rejoining: string[];
}

/**
 * Plans membership from what the last `up` recorded. Nothing recorded: the established
 * etcd nodes bootstrapped together (a stack from before the record), or, on a first `up`,
 * every member bootstraps now. A joining member's initial-cluster is the membership at the
 * moment it joins: every member of the running cluster (leaving ones are removed only at
 * the end of the `up`), the members that joined before it, and itself. A member named in
 * etcdRejoin or on a machine rebuildNodes makes again (and not already rejoined by the last `up`, `lastRejoined`) joins the running
 * cluster again as its next generation: taken out, added back, filled from the others.
 */
export function planEtcdMembership(c: ClusterConfig, recorded: Record<string, EtcdJoin> | undefined, established: ReadonlySet<string>, lastRejoined: readonly string[] = []): EtcdMembership {
  const members = nodesWith(c, "etcd");
  let previous: Record<string, EtcdJoin> = recorded ?? {};
  if (!Object.keys(previous).length) {
    const running = members.filter((n) => established.has(n.name));
    const cluster = running.map((n) => `${n.name}=${peerUrl(n)}`).join(",");
    previous = Object.fromEntries(running.map((n) => [n.name, { cluster, state: "new" as const }]));
  }
  if (!Object.keys(previous).length) {
    const cluster = initialCluster(c);
    return { joins: Object.fromEntries(members.map((n) => [n.name, { cluster, state: "new" as const }])), joining: [], leaving: [], rejoining: [] };
  }
  // the running members' peer URLs, as each recorded its own entry
  const urlOf = (name: string) => {
    const node = members.find((n) => n.name === name);
    return clusterEntries(previous[name].cluster).find(([n]) => n === name)?.[1] ?? (node ? peerUrl(node) : "");
  };
  const configured = members.map((n) => n.name);
  const staying = configured.filter((n) => previous[n]);
  const leaving = Object.keys(previous).filter((n) => !configured.includes(n)).sort();
  const running: string[] = [...staying, ...leaving].map((n) => `${n}=${urlOf(n)}`);
  const rejoining = rejoinRequests(c).filter((n) => previous[n] && !lastRejoined.includes(n));
  const current = running.join(",");
  const joins: Record<string, EtcdJoin> = {};
  const joining: string[] = [];
  for (const n of members) {
    const was = previous[n.name];
    if (was && rejoining.includes(n.name)) {
      joins[n.name] = { cluster: current, state: "existing", generation: (was.generation ?? 1) + 1 };
      continue;
    }
    if (was) {
      joins[n.name] = was;
      continue;
    }
    running.push(`${n.name}=${peerUrl(n)}`);
    joins[n.name] = { cluster: running.join(","), state: "existing" };
    joining.push(n.name);
  }
  return { joins, joining, leaving, rejoining };
}

/**
 * etcd's raft timing in ms: its defaults (heartbeat 100, election 1000) on hardware-virtualized
 * guests. Emulated guests (domainType qemu) get five times both, as etcd's tuning guide advises
 * for a slow or loaded machine: on the two-host TCG lab (guest load 6–8 on 2 vCPUs) the leader
 * "failed to send out heartbeat on time" thousands of times, the members lost their leader four
 * times in a minute, and apiserver writes failed with "etcdserver: request timed out".
 * The request timeout grows with it (5 s + 2 × election), which suits such guests too.
 */
export function etcdTiming(c: ClusterConfig): { heartbeatMs: number; electionMs: number } {
  return emulatedGuests(c) ? { heartbeatMs: 500, electionMs: 5000 } : { heartbeatMs: 100, electionMs: 1000 };
}

/** The member's configuration, as etcd's --config-file reads it. Default `join`: one of the first members. */
export function etcdMemberConfig(c: ClusterConfig, node: NodeSpec, join: EtcdJoin = { cluster: initialCluster(c), state: "new" }): Record<string, unknown> {
  const tls = { "cert-file": `${ETCD_PKI_DIR}/server.crt`, "key-file": `${ETCD_PKI_DIR}/server.key`, "trusted-ca-file": `${ETCD_PKI_DIR}/ca.crt`, "client-cert-auth": true };
  return {
    name: node.name,
    "data-dir": ETCD_DATA_DIR,
    "listen-peer-urls": `https://${node.ip}:${PEER_PORT}`,
    "listen-client-urls": `https://${node.ip}:${CLIENT_PORT},https://127.0.0.1:${CLIENT_PORT}`,
    "listen-metrics-urls": "http://127.0.0.1:2381",
    "advertise-client-urls": `https://${node.ip}:${CLIENT_PORT}`,
    "initial-advertise-peer-urls": `https://${node.ip}:${PEER_PORT}`,
    "initial-cluster": join.cluster,
    "initial-cluster-token": `${c.name}-etcd`,
    "initial-cluster-state": join.state,
    "client-transport-security": tls,
    "peer-transport-security": { ...tls }, // a copy: no YAML anchor in the file
    "quota-backend-bytes": 2 * 1024 ** 3,
    "auto-compaction-mode": "periodic",
    "auto-compaction-retention": "1h",
    "heartbeat-interval": etcdTiming(c).heartbeatMs,
    "election-timeout": etcdTiming(c).electionMs,
    "log-level": "info",
  };
}

export function etcdUnit(): string {
  return renderUnit(
    {
      Unit: {
        Description: "etcd: the cluster's key-value store (k8s-lab)",
        Documentation: "https://etcd.io/docs/",
        After: "network-online.target",
        Wants: "network-online.target",
      },
      Service: {
        Type: "notify",
        ExecStart: commandLine(`${BIN_DIR}/etcd`, { "config-file": ETCD_CONFIG }),
        Restart: "on-failure",
        RestartSec: 5,
        LimitNOFILE: 65536,
        TimeoutStartSec: 0,
      },
      Install: { WantedBy: "multi-user.target" },
    },
    "generated by k8s-lab (components/etcd)",
  );
}

/**
 * Runs a membership change, retrying while etcd refuses it as "unhealthy cluster": etcd
 * accepts a member add or remove only once every member has been connected for a few
 * seconds (seen: a member add one second after the cluster started), e.g. right after a
 * member's restart. Any other error, or 60 s of refusals, fails the step with etcd's message.
 */
function reconfigure(command: string): string[] {
  return [
    "for attempt in $(seq 30); do",
    `  if out=$(${command} 2>&1); then break; fi`,
    '  if [[ $out != *"unhealthy cluster"* ]] || ((attempt == 30)); then echo "$out" >&2; exit 1; fi',
    "  sleep 2",
    "done",
  ];
}

/** Moves the data directory aside (kept, named for the time), for a member that starts again from nothing. */
const DATA_ASIDE = `mv ${ETCD_DATA_DIR} "${ETCD_DATA_DIR}.removed-$(date -u +%Y%m%dT%H%M%SZ)"`;

/** Sets $id to the ID of the member with peer URL `url` in $members (etcdctl member list). */
const memberIdOf = (url: string) => `id=$(awk -F', ' -v u=${shq(url)} '$4 == u {print $1}' <<<"$members")`;

/** etcdctl with the health-check client certificate against `endpoints`. */
export const etcdctl = (endpoints: string) =>
  `${BIN_DIR}/etcdctl --endpoints=${endpoints} --cacert=${ETCD_PKI_DIR}/ca.crt --cert=${ETCD_PKI_DIR}/healthcheck-client.crt --key=${ETCD_PKI_DIR}/healthcheck-client.key`;

/** Where a rejoined member records the generation its data directory belongs to (EtcdJoin.generation). */
export const ETCD_GENERATION_FILE = `${ETCD_DATA_DIR}/k8s-lab-generation`;

/**
 * A member rejoining as a new generation (its data was lost): unless its data directory
 * already belongs to that generation (a re-run), stop it, keep what the directory holds
 * aside, and take the old member out of the list through the other members (the rest of
 * the join adds it back).
 */
function rejoinLines(node: NodeSpec, endpoints: string, generation: number): string[] {
  return [
    `if [[ $(cat ${ETCD_GENERATION_FILE} 2>/dev/null || echo 1) != ${generation} ]]; then`,
    `  echo "etcd on ${node.name}: rejoining as generation ${generation} (etcdRejoin): its data is not the cluster's" >&2`,
    "  systemctl stop etcd || true",
    `  if [[ -n $(ls -A ${ETCD_DATA_DIR}) ]]; then ${DATA_ASIDE}; install -d -m 0700 ${ETCD_DATA_DIR}; fi`,
    `  ${memberIdOf(peerUrl(node))}`,
    '  if [[ -n $id ]]; then',
    ...reconfigure(`${etcdctl(endpoints)} member remove "$id"`).map((l) => `    ${l}`),
    `    echo "etcd member ${node.name} ($id) taken out of the cluster to rejoin" >&2`,
    `    members=$(${etcdctl(endpoints)} member list)`,
    "  fi",
    "fi",
  ];
}

/** Members that joined a running cluster: announced, then started, and healthy before the step returns. */
function joinActivation(node: NodeSpec, join: EtcdJoin): string[] {
  const local = `https://127.0.0.1:${CLIENT_PORT}`;
  const others = clusterEntries(join.cluster).filter(([n]) => n !== node.name).map(([, url]) => url.replace(`:${PEER_PORT}`, `:${CLIENT_PORT}`));
  const endpoints = [...others, local].join(",");
  const generation = join.generation ?? 1;
  return [
    `install -d -m 0700 ${ETCD_DATA_DIR}`,
    "systemctl daemon-reload",
    "systemctl enable -q etcd",
    "# joined a running cluster: it must be in the member list before its first start",
    `members=$(${etcdctl(endpoints)} member list) || { echo "etcd on ${node.name}: no member of the cluster answers (${endpoints}); it cannot join" >&2; exit 1; }`,
    ...(generation > 1 ? rejoinLines(node, others.join(","), generation) : []),
    `if ! grep -qF ${shq(peerUrl(node))} <<<"$members"; then`,
    `  # data left by an earlier membership would start the old, removed member: keep it aside`,
    `  if [[ -d ${ETCD_DATA_DIR}/member ]]; then ${DATA_ASIDE}; install -d -m 0700 ${ETCD_DATA_DIR}; fi`,
    ...reconfigure(`${etcdctl(endpoints)} member add ${node.name} --peer-urls=${peerUrl(node)}`).map((l) => `  ${l}`),
    "fi",
    ...restartAndAwait("etcd", node.name, { check: `${etcdctl(local)} endpoint health`, seconds: 120, failing: "is not healthy" }),
    ...(generation > 1 ? [`echo ${generation} > ${ETCD_GENERATION_FILE}`] : []),
  ];
}

export function planEtcdMember(c: ClusterConfig, node: NodeSpec, join: EtcdJoin = { cluster: initialCluster(c), state: "new" }): HostStepPlan {
  const local = `https://127.0.0.1:${CLIENT_PORT}`;
  const members = clusterEntries(join.cluster).length;
  return {
    node: node.name,
    ip: node.ip,
    layer: "etcd",
    runs: releasesRun(c, node, ["etcd"]),
    // (no member count here: the script's first line would change, and re-run the step,
    // whenever another member comes or goes)
    description:
      join.state === "new"
        ? `etcd member ${node.name}, started with the first ${members} members, peer and client TLS`
        : (join.generation ?? 1) > 1
          ? `etcd member ${node.name}, rejoined the running cluster (generation ${join.generation}: taken out, added back, filled from the other members), peer and client TLS`
          : `etcd member ${node.name}, joined a running cluster as its member ${members} (etcdctl member add, then initial-cluster-state existing), peer and client TLS`,
    files: [
      certFile(`${ETCD_PKI_DIR}/ca.crt`, etcdCaRef(c)),
      ...certAndKey(`${ETCD_PKI_DIR}/server`, `etcd-member-${node.name}`),
      ...certAndKey(`${ETCD_PKI_DIR}/healthcheck-client`, "etcd-healthcheck-client"),
      { path: ETCD_CONFIG, content: "# generated by k8s-lab (components/etcd)\n" + YAML.stringify(etcdMemberConfig(c, node, join)), mode: "0600" },
      { path: ETCD_UNIT, content: etcdUnit(), mode: "0644" },
    ],
    activate: join.state === "existing" ? joinActivation(node, join) : [
      `install -d -m 0700 ${ETCD_DATA_DIR}`,
      "systemctl daemon-reload",
      "systemctl enable -q etcd",
      `if [[ -d ${ETCD_DATA_DIR}/member ]]; then`,
      "  # an existing member: restart it and wait until it is healthy again before the next node",
      "  systemctl restart etcd",
      ...awaitHealthy("etcd", node.name, { check: `${etcdctl(local)} endpoint health`, seconds: 120, failing: "is not healthy" }).map((l) => `  ${l}`),
      "  exit 0",
      "fi",
      "# a new member cannot be healthy before a quorum of members runs: never block on it",
      "systemctl start --no-block etcd",
    ],
    ...unitRemoval(["etcd"], {
      before: [
        `if systemctl is-active -q etcd && ${etcdctl(local)} endpoint health >/dev/null 2>&1; then`,
        `  install -d -m 0700 ${ETCD_SNAPSHOT_DIR}`,
        `  ${etcdctl(local)} snapshot save "${ETCD_SNAPSHOT_DIR}/$(date +%Y%m%dT%H%M%S).db" >/dev/null || true`,
        `  find ${ETCD_SNAPSHOT_DIR} -name '*.db' -printf '%T@ %p\\n' | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f`,
        "fi",
      ],
    }),
    dataDirs: [ETCD_DATA_DIR, ETCD_SNAPSHOT_DIR],
    healthGate: "existing members: etcdctl endpoint health on 127.0.0.1 within 120 s of the restart",
  };
}

/**
 * A member's place in the cluster. Create: it is listed. Delete (the node leaves the etcd
 * role or the config): the member list asked of its own, still running etcd, the member
 * taken out with etcdctl member remove through the other members, then stopped, its data
 * kept aside; it runs before the member's etcd step is
 * deleted. Skipped in a whole destroy (the shipper deletes it with the cluster).
 */
export function planEtcdMembershipOf(node: NodeSpec): HostStepPlan {
  const local = `https://127.0.0.1:${CLIENT_PORT}`;
  const url = peerUrl(node);
  return {
    node: node.name,
    ip: node.ip,
    layer: "etcd-membership",
    description: `${node.name} in etcd's member list; removed from it (etcdctl member remove) before its etcd stops when it leaves`,
    files: [],
    activate: [
      // not `etcdctl … | grep -q`: under pipefail, grep's early exit can fail etcdctl with SIGPIPE (seen on a VM)
      `members=$(${etcdctl(local)} --command-timeout=30s member list)`,
      `grep -qF ${shq(url)} <<<"$members" || { echo "etcd on ${node.name}: ${url} is not in the member list" >&2; exit 1; }`,
    ],
    deactivate: [
      `if ! members=$(${etcdctl(local)} --command-timeout=30s member list 2>&1); then`,
      `  echo "etcd on ${node.name} does not answer, so it cannot take itself out of the cluster: $members" >&2`,
      `  echo "on a healthy member: etcdctl member list, then etcdctl member remove <ID of ${url}>; then run pulumi up again" >&2`,
      "  exit 1",
      "fi",
      memberIdOf(url),
      `if [[ -n $id ]]; then`,
      // through the other members: a member removed through itself stops at once and may not
      // answer its own remove ("server stopped", seen under load), though the remove was done
      `  others=$(awk -F', ' -v u=${shq(url)} '$4 != u {print $5}' <<<"$members" | paste -sd, -)`,
      ...reconfigure(`${etcdctl('"$others"')} member remove "$id"`).map((l) => `  ${l}`),
      `  echo "etcd member ${node.name} ($id) removed from the cluster" >&2`,
      "fi",
      "systemctl stop etcd || true",
      `if [[ -d ${ETCD_DATA_DIR}/member ]]; then ${DATA_ASIDE}; fi`,
    ],
    healthGate: `etcdctl member list names ${url}`,
    identity: [node.name, url],
  };
}

/** The gate later layers wait on: every member healthy, asked from the first member. */
export function planEtcdHealthGate(c: ClusterConfig): HostStepPlan {
  const first = nodesWith(c, "etcd")[0];
  const endpoints = etcdClientUrls(c).join(",");
  return {
    node: first.name,
    ip: first.ip,
    layer: "etcd-health",
    description: `all ${nodesWith(c, "etcd").length} etcd members answer over TLS`,
    files: [],
    activate: [
      `if ${etcdctl(shq(endpoints))} endpoint health --cluster >/dev/null 2>&1; then exit 0; fi`,
      ...waitUntil(`${etcdctl(shq(endpoints))} endpoint health --cluster`, 180, `etcd is not healthy on every member after 180 s (${endpoints}); see: journalctl -u etcd on each node`),
    ],
    deactivate: [],
    healthGate: `etcdctl endpoint health --cluster (${endpoints})`,
  };
}

/** Where the apiserver's etcd client certificate lands (used by the control-plane layer). */
export const APISERVER_ETCD_CLIENT = `${PKI_DIR}/apiserver-etcd-client`;
