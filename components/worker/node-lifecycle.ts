// A node's life in the cluster, planned as host steps that run on a control-plane node with
// the admin kubeconfig, named for the node they act on: its membership, on the first
// control-plane node — it waits for the node to register, and when the node leaves the
// config drains it and deletes its Node object — and, around its kubelet's or container
// runtime's move to another release, the upgrade's drain and uncordon, spread over every
// control-plane node so that the first one does not take every node's SSH sessions. Pure.
// Depends on: config, host, node-prep (paths), control-plane (the admin kubeconfig).
import { ClusterConfig, NodeSpec, kubeletNodes, nodesWith } from "../config";
import { HostStepPlan, shq, waitUntil } from "../host/plan";
import { BIN_DIR, releasesRun } from "../node-prep/artifacts";
import { ADMIN_KUBECONFIG } from "../control-plane/plan";

/** How long a drain may take before the removal stops with the pods that kept it. */
export const DRAIN_TIMEOUT_S = 300;

/** kubectl as admin on a control-plane node (each one has the admin kubeconfig). */
const adminKubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout 30s`;

/**
 * `api CMD…`: CMD, tried again for half a minute when it fails — an apiserver under load
 * times a request out now and then (a TCG lab did, at its first `up`), and one such answer
 * must not fail the step (or, worse, read as "no such node").
 */
const API_RETRY = 'api() { local _; for _ in 1 2 3 4 5 6; do "$@" && return 0; sleep 5; done; echo "the apiserver did not answer for 30 s: ${*: -3}" >&2; return 1; }';

/** Drains a node through the eviction API with a deadline; on failure says what held it and `consequence`, and fails. */
function drainNode(node: NodeSpec, o: { force: boolean; consequence: string }): string[] {
  const force = o.force ? " --force" : "";
  return [
    `if ! ${adminKubectl} drain ${shq(node.name)} --ignore-daemonsets --delete-emptydir-data${force} --timeout=${DRAIN_TIMEOUT_S}s >&2; then`,
    `  echo "the drain of ${node.name} did not finish in ${DRAIN_TIMEOUT_S} s (a PodDisruptionBudget or a pod that cannot be evicted holds it): see kubectl get pods -A -o wide --field-selector spec.nodeName=${node.name}; ${o.consequence}" >&2`,
    "  exit 1",
    "fi",
  ];
}

/**
 * A node's membership of the cluster, kept from the first control-plane node with the
 * admin kubeconfig. Create: wait until the node has registered (a kubelet registers its Node
 * schedulable; the create never uncordons, so a program update that re-runs it in place
 * leaves a node cordoned by hand cordoned — only the upgrade's uncordon step, and only for a
 * node the upgrade drained, uncordons). Delete — when the node leaves the config, before its kubelet, runtime and VM
 * go — cordon it, drain it through the eviction API (PodDisruptionBudgets are respected;
 * DaemonSet pods stay; pods without a controller are deleted, as the node's removal would;
 * bounded time, then the step fails naming what blocked it) and delete
 * its Node object. In a whole `pulumi destroy` the control plane goes too and the drain is
 * skipped (the step is deleted with the cluster).
 */
export function planNodeMembership(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const first = c.adminNode;
  const name = shq(node.name);
  return {
    node: first.name,
    ip: first.ip,
    layer: "node",
    description: `${node.name} is a member of the cluster (drained and removed when it leaves the config)`,
    files: [],
    activate: [
      ...waitUntil(`${adminKubectl} get node ${name}`, 300, `node ${node.name} has not registered 300 s after its kubelet started; see: journalctl -u kubelet on ${node.name}`, 3),
    ],
    deactivate: [
      `if ${adminKubectl} get node ${name} >/dev/null 2>&1; then`,
      `  ${adminKubectl} cordon ${name} >/dev/null`,
      "  # --force: pods no controller manages cannot outlive the node anyway",
      ...drainNode(node, { force: true, consequence: "the node stays cordoned" }).map((l) => `  ${l}`),
      `  ${adminKubectl} delete node ${name} --ignore-not-found >/dev/null`,
      "fi",
    ],
    healthGate: `the Node object ${node.name} exists`,
    identity: [node.name],
  };
}

/**
 * The control-plane node that runs the upgrade steps of `node` (every control-plane node
 * holds the admin kubeconfig): the kubelet nodes taken round-robin over the control-plane
 * nodes. The first one also runs every membership step, which cannot move (a moved step is
 * replaced, and its old delete would drain the node).
 */
export function upgradeRunner(c: ClusterConfig, node: NodeSpec): NodeSpec {
  const runners = nodesWith(c, "control-plane");
  const i = kubeletNodes(c).findIndex((n) => n.name === node.name);
  return runners[Math.max(i, 0) % runners.length];
}

/** Marks a node drained by an upgrade (so that only such a node is uncordoned after it). */
export const DRAINED_FOR_ANNOTATION = "k8s-lab.io/drained-for-upgrade-to";

/** The releases a node's kubelet and runtime run, written by its uncordon step once the node reports them. */
export const RELEASES_ANNOTATION = "k8s-lab.io/releases";

/** What a node runs under this config, as RELEASES_ANNOTATION records it. */
export function nodeReleases(c: ClusterConfig): string {
  return `kubernetes=${c.versions.kubernetes},containerd=${c.versions.containerd},runc=${c.versions.runc}`;
}

/** jsonpath of an annotation (dots in its key escaped). */
const annotationPath = (key: string) => `{.metadata.annotations.${key.replaceAll(".", "\\.")}}`;

/** The Node's kubelet version and runtime version into $kubelet and $runtime (containerd://vX → X). */
function readNodeInfo(name: string): string[] {
  return [
    `kubelet=$(api ${adminKubectl} get node ${name} -o jsonpath='{.status.nodeInfo.kubeletVersion}')`,
    `runtime=$(api ${adminKubectl} get node ${name} -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}')`,
    "runtime=${runtime#containerd://}; runtime=${runtime#v}",
  ];
}

/**
 * Before a node's kubelet or container runtime moves to another release: cordon and drain
 * it, from its upgrade runner (a control-plane node; the eviction API, PodDisruptionBudgets respected,
 * bounded time). Only when the node runs another release: its kubelet or containerd reports
 * another version, or the releases its uncordon step recorded (RELEASES_ANNOTATION: runc is
 * not in the Node's status) differ; nothing on a first `up` (no Node yet). Triggered by the
 * releases alone (`runs`), so a configuration change does not drain. A node last set up by
 * a version of this program that recorded no releases is drained for a kubelet or
 * containerd change (a runc-only change then restarts nothing that runs: runc runs per
 * container start).
 */
export function planUpgradeDrain(c: ClusterConfig, node: NodeSpec, runner: NodeSpec = upgradeRunner(c, node)): HostStepPlan {
  const name = shq(node.name);
  const target = `v${c.versions.kubernetes}`;
  const releases = nodeReleases(c);
  return {
    node: runner.name,
    ip: runner.ip,
    layer: "upgrade-drain",
    description: `drain ${node.name} before its kubelet or runtime moves to ${releases} (only if it runs another release)`,
    files: [],
    activate: [
      API_RETRY,
      // no Node (a first `up`): nothing to drain; an apiserver that does not answer is no "no"
      `present=$(api ${adminKubectl} get node ${name} --ignore-not-found -o name)`,
      "[[ -n $present ]] || exit 0",
      ...readNodeInfo(name),
      `recorded=$(api ${adminKubectl} get node ${name} -o jsonpath='${annotationPath(RELEASES_ANNOTATION)}')`,
      "moves=()",
      `[[ $kubelet == ${target} ]] || moves+=("kubelet $kubelet → ${target}")`,
      `[[ $runtime == ${c.versions.containerd} ]] || moves+=("containerd $runtime → ${c.versions.containerd}")`,
      `[[ -z $recorded || $recorded == ${releases} ]] || moves+=("$recorded → ${releases}")`,
      "if ((${#moves[@]} == 0)); then exit 0; fi",
      `echo "${node.name}: \${moves[*]}: cordon and drain" >&2`,
      `api ${adminKubectl} annotate node ${name} --overwrite ${DRAINED_FOR_ANNOTATION}=${releases} >/dev/null`,
      `api ${adminKubectl} cordon ${name} >/dev/null`,
      ...drainNode(node, { force: false, consequence: "the node stays cordoned and its kubelet and runtime are not upgraded" }),
    ],
    deactivate: [],
    runs: releasesRun(c, node, ["kubernetes", "containerd", "runc"]),
    healthGate: `${node.name} cordoned and drained, or already on ${releases}`,
  };
}

/**
 * After a node's runtime, kubelet and kube-proxy moved to the releases: wait until the Node
 * reports its kubelet's and containerd's versions, record the releases on it
 * (RELEASES_ANNOTATION; the delete takes the record away), and uncordon the node if the
 * upgrade drained it (a node cordoned by hand stays so).
 */
export function planUpgradeUncordon(c: ClusterConfig, node: NodeSpec, runner: NodeSpec = upgradeRunner(c, node)): HostStepPlan {
  const name = shq(node.name);
  const target = `v${c.versions.kubernetes}`;
  const releases = nodeReleases(c);
  return {
    node: runner.name,
    ip: runner.ip,
    layer: "upgrade-uncordon",
    description: `uncordon ${node.name} once it reports kubelet ${target} and containerd ${c.versions.containerd} (only if the upgrade drained it)`,
    files: [],
    activate: [
      API_RETRY,
      ...waitUntil(
        `{ ${readNodeInfo(name).join("; ")}; [[ $kubelet == ${target} && $runtime == ${c.versions.containerd} ]]; }`,
        300,
        `node ${node.name} does not report kubelet ${target} and containerd ${c.versions.containerd} 300 s after they restarted; see: journalctl -u kubelet -u containerd on ${node.name}`,
        3,
      ),
      `api ${adminKubectl} annotate node ${name} --overwrite ${RELEASES_ANNOTATION}=${releases} >/dev/null`,
      `drained=$(api ${adminKubectl} get node ${name} -o jsonpath='${annotationPath(DRAINED_FOR_ANNOTATION)}')`,
      "if [[ -n $drained ]]; then",
      `  api ${adminKubectl} uncordon ${name} >/dev/null`,
      `  api ${adminKubectl} annotate node ${name} ${DRAINED_FOR_ANNOTATION}- >/dev/null`,
      `  echo "${node.name}: on ${releases}, uncordoned" >&2`,
      "fi",
    ],
    // the record is this step's: gone with it (a node already deleted has none to lose)
    deactivate: [`${adminKubectl} annotate node ${name} ${RELEASES_ANNOTATION}- >/dev/null 2>&1 || true`],
    runs: releasesRun(c, node, ["kubernetes", "containerd", "runc"]),
    healthGate: `${node.name} reports kubelet ${target} and containerd ${c.versions.containerd}; uncordoned if the upgrade drained it`,
  };
}
