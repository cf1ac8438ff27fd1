// Artifact delivery: which release files each node needs, where they come from (official
// URL, a mirror, or a local directory copied over SSH for air-gapped installs), and the
// script that verifies the checksum on the node before installing. A file already in the
// node's cache with the right digest is not fetched again.
// Depends on: config, host/plan.
import * as path from "path";
import { ArtifactName, ArtifactSpec, ClusterConfig, NodeSpec, runsKubelet } from "../config";
import { HostStepPlan, HostUpload, shq } from "../host/plan";
import { PROXY_ENV_FILE } from "./prep";
import { shellAsset } from "../host/assets";

export const CACHE_DIR = "/var/cache/k8s-lab";
export const OPT_DIR = "/opt/k8s-lab";
export const BIN_DIR = "/usr/local/bin";
export const CNI_BIN_DIR = "/opt/cni/bin";
/**
 * Where files copied from the Pulumi machine wait for their step (on disk, not a tmpfs).
 * No delete script removes it: when a step is replaced, its old delete runs after the new
 * copies have landed (uploads come first: the step depends on them), so it must not take
 * them away; the step's create moves every file out and removes the empty directory.
 * (Versions that copied to /tmp/k8s-lab-upload removed that directory in their deletes.)
 */
export const UPLOAD_DIR = "/var/tmp/k8s-lab-upload";

/** Shell function `verify FILE DIGEST`: the file's digest equals DIGEST (sha256:… or sha512:…). */
export const VERIFY = shellAsset(__dirname, "verify.sh");

/**
 * Moves files copied into UPLOAD_DIR into `cacheDir`, each after its digest is checked (a
 * file already cached with the right digest is kept); needs VERIFY. `from` names the source
 * in messages.
 */
export function takeUploads(cacheDir: string, files: Array<{ name: string; digest: string }>, from: string): string[] {
  return [
    `install -d -m 0755 ${cacheDir}`,
    ...shellAsset(__dirname, "take.sh", { CACHE_DIR: cacheDir, UPLOAD_DIR, SOURCE: from }),
    ...files.map((f) => `take ${shq(f.name)} ${f.digest}`),
    `rmdir ${UPLOAD_DIR} 2>/dev/null || true`,
  ];
}

/** Binaries each artifact provides: path inside the archive → installed name. */
export const BINARIES: Record<ArtifactName, Record<string, string>> = {
  "kubernetes-server": Object.fromEntries(
    ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"].map((b) => [`kubernetes/server/bin/${b}`, b]),
  ),
  "kubernetes-node": Object.fromEntries(["kubelet", "kube-proxy", "kubectl"].map((b) => [`kubernetes/node/bin/${b}`, b])),
  etcd: {}, // filled per version below (the archive has a versioned top directory)
  containerd: Object.fromEntries(["containerd", "containerd-shim-runc-v2", "ctr"].map((b) => [`bin/${b}`, b])),
  runc: { "runc.amd64": "runc" },
  crictl: { crictl: "crictl" },
  "cni-plugins": {},
};

function binariesOf(a: ArtifactSpec): Record<string, string> {
  if (a.name === "etcd") return Object.fromEntries(["etcd", "etcdctl", "etcdutl"].map((b) => [`etcd-v${a.version}-linux-amd64/${b}`, b]));
  return BINARIES[a.name];
}

/** The artifacts a node needs for its roles (a control-plane node's server tarball includes the node binaries). */
export function artifactsFor(c: ClusterConfig, node: NodeSpec): ArtifactSpec[] {
  const names: ArtifactName[] = [];
  if (node.roles.has("etcd")) names.push("etcd");
  if (node.roles.has("control-plane")) names.push("kubernetes-server");
  if (runsKubelet(node)) {
    if (!node.roles.has("control-plane")) names.push("kubernetes-node");
    names.push("containerd", "runc", "crictl", "cni-plugins");
  }
  return names.map((n) => c.artifacts[n]!).filter(Boolean);
}

/**
 * What a service step on this node runs, for its triggers (HostStepPlan.runs): the release
 * files of `names`, the Kubernetes binaries from the server tarball on a control-plane node
 * and from the node tarball elsewhere ("kubernetes").
 */
export function releasesRun(c: ClusterConfig, node: NodeSpec, names: Array<ArtifactName | "kubernetes">): string[] {
  return names
    .map((n) => (n === "kubernetes" ? (node.roles.has("control-plane") ? "kubernetes-server" : "kubernetes-node") : n))
    .map((n) => c.artifacts[n])
    .filter((a): a is ArtifactSpec => a !== undefined)
    .map((a) => `${a.name} ${a.version} ${a.digest}`);
}

/** Where the node downloads an artifact from: the mirror when set, else upstream. */
export function sourceUrl(c: ClusterConfig, a: ArtifactSpec): string {
  return c.downloads.mirror ? `${c.downloads.mirror}/${a.mirrorPath}` : a.url;
}

/**
 * Release files whose binaries the artifacts step only unpacks: the running containerd
 * executes its shim (and the shim runc) for every new pod, so a newer shim or runc must not
 * reach a node before that node is drained and its containerd restarts (seen moving 2.2.0 →
 * 2.3.5: the 2.2.0 daemons could start no pod with the 2.3.5 shim, "unsupported protocol").
 * The containerd step installs them (runtimeInstallLines).
 */
export const RUNTIME_ARTIFACTS: ArtifactName[] = ["containerd", "runc"];

/** Where the artifacts step leaves each binary of `a` (unpacked or cached), keyed by installed name. */
function stagedBinaries(a: ArtifactSpec): Record<string, string> {
  if (a.format === "binary") return Object.fromEntries(Object.values(binariesOf(a)).map((name) => [name, `${CACHE_DIR}/${a.fileName}`]));
  const dir = `${OPT_DIR}/${a.name}-${a.version}`;
  return Object.fromEntries(Object.entries(binariesOf(a)).map(([inner, name]) => [name, `${dir}/${inner}`]));
}

/** The container runtime's binaries (containerd, its shim, ctr, runc) installed from what the artifacts step left: the containerd step runs it. */
export function runtimeInstallLines(c: ClusterConfig): string[] {
  return RUNTIME_ARTIFACTS.map((n) => c.artifacts[n])
    .filter((a): a is ArtifactSpec => a !== undefined)
    .flatMap((a) => Object.entries(stagedBinaries(a)).map(([name, from]) => `install -m 0755 ${from} ${BIN_DIR}/${name}`));
}

/** The runtime's installed names (containerd, its shim, ctr, runc). */
const RUNTIME_NAMES: string[] = RUNTIME_ARTIFACTS.flatMap((n) => Object.values(BINARIES[n]));

/** The paths runtimeInstallLines writes. */
export function runtimeBinaries(): string[] {
  return RUNTIME_NAMES.map((b) => `${BIN_DIR}/${b}`);
}

/** The list of the plugins a CNI plugins release put in CNI_BIN_DIR (its delete removes those, and only those). */
const cniListOf = (a: ArtifactSpec) => `${OPT_DIR}/${a.name}-${a.version}/installed`;

function installLines(a: ArtifactSpec): string[] {
  const file = `${CACHE_DIR}/${a.fileName}`;
  const staged = RUNTIME_ARTIFACTS.includes(a.name);
  if (a.name === "cni-plugins") {
    // the pod network's own plugins (weave-net, flannel) share the directory: they stay
    return [
      `install -d -m 0755 ${CNI_BIN_DIR} ${OPT_DIR}/${a.name}-${a.version}`,
      `tar -xzf ${file} -C ${CNI_BIN_DIR}`,
      `tar -tzf ${file} | grep -v '/$' > ${cniListOf(a)}`,
    ];
  }
  if (a.format === "binary") {
    if (staged) return [];
    const [[, name]] = Object.entries(binariesOf(a));
    return [`install -m 0755 ${file} ${BIN_DIR}/${name}`];
  }
  const dir = `${OPT_DIR}/${a.name}-${a.version}`;
  return [
    `if [[ ! -f ${dir}/.complete ]]; then rm -rf ${dir}; install -d ${dir}; tar -xzf ${file} -C ${dir}; touch ${dir}/.complete; fi`,
    ...(staged ? [] : Object.entries(binariesOf(a)).map(([inner, name]) => `install -m 0755 ${dir}/${inner} ${BIN_DIR}/${name}`)),
  ];
}

/**
 * Where the carryover step keeps copies of the running container runtime's binaries and of
 * the CNI plugins directory until the artifacts step has run (which consumes them).
 */
export const CARRYOVER_DIR = "/var/lib/k8s-lab/carryover";

/**
 * Before a node's artifacts step runs, copies of what its pods run on: the container runtime's
 * binaries and the CNI plugins (the pod network's among them). A lab made before the
 * containerd step owned the runtime has an artifacts step whose stored delete removes
 * /usr/local/bin's runtime binaries and the whole CNI plugins directory; that delete runs
 * when the step is replaced, on every node before any drain, so the nodes not yet drained
 * could start no pod until their turn. The artifacts step puts back what its predecessor
 * took and it does not install (carryoverRestoreLines). Runs once, before the node's first
 * artifacts step of this version of the program.
 */
export function planCarryover(node: NodeSpec): HostStepPlan {
  return {
    node: node.name,
    ip: node.ip,
    layer: "carryover",
    description: "keep copies of the running container runtime and CNI plugins until the artifacts step has run (an older version's artifacts step removed them in its delete)",
    files: [],
    activate: [
      `rm -rf ${CARRYOVER_DIR}`,
      `install -d -m 0700 ${CARRYOVER_DIR}/bin ${CARRYOVER_DIR}/cni`,
      `for b in ${RUNTIME_NAMES.join(" ")}; do if [[ -f ${BIN_DIR}/$b ]]; then cp -p ${BIN_DIR}/$b ${CARRYOVER_DIR}/bin/; fi; done`,
      `if [[ -d ${CNI_BIN_DIR} ]]; then cp -a ${CNI_BIN_DIR}/. ${CARRYOVER_DIR}/cni/; fi`,
    ],
    deactivate: [],
    createdPaths: [CARRYOVER_DIR],
    healthGate: "the copies are made before the artifacts step runs",
  };
}

/** The artifacts step's last lines on a node with a carryover: put back each kept file that is missing (never over one just installed), then drop the copies. */
export function carryoverRestoreLines(): string[] {
  return [
    `if [[ -d ${CARRYOVER_DIR} ]]; then`,
    `  for f in ${CARRYOVER_DIR}/bin/* ${CARRYOVER_DIR}/cni/*; do`,
    '    [[ -e $f ]] || continue',
    `    if [[ $f == ${CARRYOVER_DIR}/bin/* ]]; then t=${BIN_DIR}/\${f##*/}; else t=${CNI_BIN_DIR}/\${f##*/}; fi`,
    '    if [[ ! -e $t ]]; then cp -a "$f" "$t"; echo "put back $t (removed by the replaced artifacts step of an older version)" >&2; fi',
    "  done",
    `  rm -rf ${CARRYOVER_DIR}`,
    "fi",
  ];
}

export function planArtifacts(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const artifacts = artifactsFor(c, node);
  const airGapped = c.downloads.artifactDir !== undefined;
  const upload: HostUpload | undefined = airGapped
    ? { sourceDir: path.resolve(c.downloads.artifactDir!), targetDir: UPLOAD_DIR, files: artifacts.map((a) => ({ name: a.fileName, digest: a.digest })) }
    : undefined;
  const activate = [`install -d -m 0755 ${CACHE_DIR} ${OPT_DIR} ${BIN_DIR}`, ...VERIFY];
  if (airGapped) {
    activate.push(...takeUploads(CACHE_DIR, artifacts.map((a) => ({ name: a.fileName, digest: a.digest })), "the artifact directory"));
  } else {
    activate.push(
      "# shellcheck source=/dev/null",
      `if [[ -f ${PROXY_ENV_FILE} ]]; then set -a; . ${PROXY_ENV_FILE}; set +a; fi`,
      ...shellAsset(__dirname, "fetch.sh", { CACHE_DIR }),
      ...artifacts.map((a) => `fetch ${shq(a.fileName)} ${shq(sourceUrl(c, a))} ${a.digest}`),
    );
  }
  for (const a of artifacts) activate.push(...installLines(a));
  if (runsKubelet(node)) activate.push(...carryoverRestoreLines());
  const cni = artifacts.filter((a) => a.name === "cni-plugins");
  const installed = artifacts.filter((a) => !RUNTIME_ARTIFACTS.includes(a.name)).flatMap((a) => Object.values(binariesOf(a)).map((b) => `${BIN_DIR}/${b}`));
  return {
    node: node.name,
    ip: node.ip,
    layer: "artifacts",
    description: `${airGapped ? "copy" : "download"}, verify and install ${artifacts.map((a) => `${a.name} ${a.version}`).join(", ")}`,
    files: [],
    upload,
    activate,
    deactivate: cni.map((a) => `if [[ -f ${cniListOf(a)} ]]; then while IFS= read -r f; do rm -f -- "${CNI_BIN_DIR}/\${f#./}"; done < ${cniListOf(a)}; fi`),
    createdPaths: [...installed, ...artifacts.map((a) => `${OPT_DIR}/${a.name}-${a.version}`), ...artifacts.map((a) => `${CACHE_DIR}/${a.fileName}`)],
    // the CNI plugins' directory (its files are the release's list, removed above)
    ...(cni.length ? { madeDirs: [CNI_BIN_DIR] } : {}),
    healthGate: "every checksum matches before anything is installed",
  };
}
