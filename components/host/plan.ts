// Host-step planning: what one layer puts on one node — files (content, mode, owner,
// secret or not), the commands that activate them, and what undoes them — and the pure
// functions that turn that into the apply and delete scripts and the digests that trigger
// a re-run. Secret file contents are references (`MaterialRef`) resolved at ship time,
// so plans stay plain data the render command and the tests can read.
// Pure. Depends on: pki/material (the reference type).
import { createHash } from "crypto";
import { MaterialRef, materialName } from "../pki/material";
import { shellAsset } from "./assets";

export type { MaterialRef };

export interface HostFile {
  /** Absolute path on the node. */
  path: string;
  /** Literal content, or a reference to key material. */
  content: string | { ref: MaterialRef };
  /** Octal mode, e.g. "0644"; secret files are 0600. */
  mode: string;
  /** Owner:group; root:root by default. */
  owner?: string;
  /** Holds key material: the step's script and output become secrets. */
  secret?: boolean;
}

/**
 * A directory copied from the machine running Pulumi in one SSH session (air-gapped
 * artifacts): its contents land in `targetDir`; the step's script checks and takes the
 * listed files.
 */
export interface HostUpload {
  /** Local directory. */
  sourceDir: string;
  /** Staging directory on the node (the SSH user can write it). */
  targetDir: string;
  /** The files the step needs from it, with their expected digests (`sha256:…`/`sha512:…`). */
  files: Array<{ name: string; digest: string }>;
}

export interface HostStepPlan {
  /** Node name. */
  node: string;
  /** Node IP (where SSH connects). */
  ip: string;
  /** The layer: prep, artifacts, etcd, kube-nginx… */
  layer: string;
  /** One line for the runbook. */
  description: string;
  files: HostFile[];
  /** A directory to copy from the Pulumi machine before the script runs. */
  upload?: HostUpload;
  /** Commands run as root after the files are in place; must be idempotent. */
  activate: string[];
  /** Commands run as root on delete, before the files are removed. */
  deactivate: string[];
  /** Removed on delete only when `wipeDataOnDestroy` is set. */
  dataDirs?: string[];
  /**
   * Directories the step fills or its services make as they run (the CNI plugins directory,
   * containerd's, the kubelet's…), besides those of its files and created paths: on a machine
   * the program did not make, its footprint removes those the machine did not have, where
   * empty. Not part of the step's digest.
   */
  madeDirs?: string[];
  /** Extra paths (besides `files`) this step creates and its delete removes. */
  createdPaths?: string[];
  /** Commands run on delete after the files are gone (e.g. systemctl daemon-reload). */
  afterRemove?: string[];
  /** How the step proves it worked, for the runbook. */
  healthGate?: string;
  /**
   * The release files whose binaries this step's services run (`name version digest`):
   * part of its triggers, so a new version (an upgrade) restarts the step, in its layer's
   * rolling order, after the artifacts step installed the binaries.
   */
  runs?: string[];
  /**
   * For a step whose delete undoes a membership (etcd member remove, drain and delete the
   * Node): what it stands for. Only a change of these values (or of the machine) replaces
   * it; a changed script re-runs its create in place and records the new delete, so a new
   * version of the program never runs the old delete on a member that stays. Default: the
   * step is replaced whenever what lands on the host changes.
   */
  identity?: string[];
}

export interface FileDigest {
  path: string;
  sha256: string;
}

export function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** Sets `family` (debian, rhel or other) from /etc/os-release: the first lines of the distro-specific part of a script. */
export const OS_FAMILY: string[] = [
  "# shellcheck source=/dev/null",
  ". /etc/os-release",
  'case " ${ID:-} ${ID_LIKE:-} " in *" debian "*|*" ubuntu "*) family=debian ;; *" rhel "*|*" fedora "*|*" centos "*) family=rhel ;; *) family=other ;; esac',
];

/** A bash word for a literal string. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function heredocMarker(content: string): string {
  let marker = "K8SLAB_EOF";
  while (content.includes(marker)) marker += "_";
  return marker;
}

/** Resolves every file's content with `resolve` for references. */
export function resolvedFiles(step: HostStepPlan, resolve: (ref: MaterialRef) => string): Array<HostFile & { text: string }> {
  return step.files.map((f) => ({ ...f, text: typeof f.content === "string" ? f.content : resolve(f.content.ref) }));
}

/**
 * The apply script: writes each file atomically (temp file + mv, mode and owner set before
 * the move), then runs the activation commands. Re-running it with the same plan changes nothing.
 */
export function renderApplyScript(step: HostStepPlan, resolve: (ref: MaterialRef) => string): string {
  const lines = [
    "#!/usr/bin/env bash",
    `# ${step.layer} on ${step.node}: ${step.description}`,
    "set -euo pipefail",
    "umask 022",
  ];
  if (step.files.length) {
    lines.push(...shellAsset(__dirname, "put.sh"));
  }
  for (const f of resolvedFiles(step, resolve)) {
    const b64 = Buffer.from(f.text, "utf8").toString("base64").replace(/(.{76})/g, "$1\n").trimEnd();
    const marker = heredocMarker(b64);
    lines.push(`put ${shq(f.path)} ${f.mode} ${f.owner ?? "root:root"} <<'${marker}'`, b64, marker);
  }
  lines.push(...step.activate);
  return lines.join("\n") + "\n";
}

/**
 * The delete script: deactivation, then every file and created path. It never removes the
 * step's data directories: a replaced step runs its delete too (a rolled kubelet or an etcd
 * upgrade), and the data must outlive that. wipeDataOnDestroy removes them in the node's
 * footprint delete instead, which only the node's removal or a destroy runs (host/footprint).
 */
export function renderDeleteScript(step: HostStepPlan): string {
  return deleteScriptLines(step, false).join("\n") + "\n";
}

/** The delete script's lines; `withDataRemoval`: as deletes were written before the data removal moved to the footprint. */
function deleteScriptLines(step: HostStepPlan, withDataRemoval: boolean): string[] {
  const paths = [...step.files.map((f) => f.path), ...(step.createdPaths ?? [])];
  const lines = ["#!/usr/bin/env bash", `# undo ${step.layer} on ${step.node}`, "set -euo pipefail", ...step.deactivate];
  if (paths.length) lines.push(`rm -rf -- ${paths.map(shq).join(" ")}`);
  if (withDataRemoval && step.dataDirs?.length) lines.push(`rm -rf -- ${step.dataDirs.map(shq).join(" ")}`);
  lines.push(...(step.afterRemove ?? []));
  return lines;
}

/**
 * What triggers a re-run: a digest per file (path + mode + owner + content) and one of the
 * script. With `wipeData` the script's digest still counts the data removal that deletes
 * carried before it moved to the footprint: a lab made then keeps its steps (replacing them
 * would run the delete recorded with them, data removal included); their delete is updated
 * in place instead.
 */
export function stepDigests(step: HostStepPlan, resolve: (ref: MaterialRef) => string, wipeData: boolean): { files: FileDigest[]; script: string } {
  const files = resolvedFiles(step, resolve).map((f) => ({ path: f.path, sha256: sha256(`${f.mode}\0${f.owner ?? "root:root"}\0${f.text}`) }));
  const uploads = (step.upload?.files ?? []).map((u) => `${step.upload!.targetDir}/${u.name}\0${u.digest}`);
  const runs = step.runs?.length ? ["\0", ...step.runs] : [];
  const deleteAsRecorded = deleteScriptLines(step, wipeData).join("\n") + "\n";
  const script = sha256([...step.activate, "\0", ...step.deactivate, "\0", ...uploads, "\0", deleteAsRecorded, ...runs].join("\n"));
  return { files, script };
}

/** Every reference a step needs resolved, once each, in file order. */
export function materialRefs(step: HostStepPlan): MaterialRef[] {
  const seen = new Map<string, MaterialRef>();
  for (const f of step.files) if (typeof f.content !== "string") seen.set(materialName(f.content.ref), f.content.ref);
  return [...seen.values()];
}

// ---- shell helpers shared by every layer's plan --------------------------------------

/**
 * A bounded wait, honest about its time: runs `check` (quietly) every `interval` seconds
 * until it succeeds; after `seconds` it prints `failure` (which should say what was waited
 * for and where to look) to stderr and fails the step. Execution continues after success.
 * The time is bash's SECONDS, in whole seconds of the wall clock: it gives up between
 * `seconds - 1` and `seconds + interval` after it starts (a second early at most).
 */
export function waitUntil(check: string, seconds: number, failure: string, interval = 2): string[] {
  return [
    `deadline=$((SECONDS + ${seconds}))`,
    `until ${check} >/dev/null 2>&1; do`,
    `  if ((SECONDS >= deadline)); then echo ${shq(failure)} >&2; exit 1; fi`,
    `  sleep ${interval}`,
    "done",
  ];
}

/** Reload units, enable them and restart them (in order). */
export function restartUnits(...units: string[]): string[] {
  return ["systemctl daemon-reload", `systemctl enable -q ${units.join(" ")}`, `systemctl restart ${units.join(" ")}`];
}

/** Stop and disable units on delete; gone or never started is fine. */
export function disableUnits(...units: string[]): string {
  return `systemctl disable -q --now ${units.join(" ")} 2>/dev/null || true`;
}

/** How a service proves it is up after a restart. */
export interface ServiceHealth {
  /** A command that succeeds once the service is up. */
  check: string;
  /** How long to wait for it. */
  seconds: number;
  /** What is wrong when it never succeeds, e.g. "is not healthy (http://127.0.0.1:10248/healthz)". */
  failing: string;
  /** Seconds between checks. Default: 2. */
  interval?: number;
  /** Another command worth running besides the unit's journal. */
  seeAlso?: string;
}

/** The message of a service that did not come up: what, where, how long, and where to look. */
export function notUpMessage(unit: string, node: string, h: ServiceHealth): string {
  return `${unit} on ${node} ${h.failing} ${h.seconds} s after its restart; see: journalctl -u ${unit}${h.seeAlso ? `, and ${h.seeAlso}` : ""}`;
}

/** Waits until a restarted unit is healthy, or fails the step saying why (see waitUntil). */
export function awaitHealthy(unit: string, node: string, h: ServiceHealth): string[] {
  return waitUntil(h.check, h.seconds, notUpMessage(unit, node, h), h.interval);
}

/** (Re)starts a unit on a node and waits until it is healthy. */
export function restartAndAwait(unit: string, node: string, h: ServiceHealth): string[] {
  return [...restartUnits(unit), ...awaitHealthy(unit, node, h)];
}

/**
 * The delete side of a step that runs units: `before` (e.g. a last snapshot), stop and
 * disable the units, `after` (e.g. give back what the step took over); once the unit files
 * are gone, systemd forgets them.
 */
export function unitRemoval(units: string[], o: { before?: string[]; after?: string[] } = {}): Pick<HostStepPlan, "deactivate" | "afterRemove"> {
  return { deactivate: [...(o.before ?? []), disableUnits(...units), ...(o.after ?? [])], afterRemove: ["systemctl daemon-reload"] };
}
