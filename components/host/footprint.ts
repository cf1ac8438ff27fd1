// The footprint of the cluster on a machine the program did not make (hostMode: existing):
// the directories its steps and services create. The node's first step records which of
// them the machine did not have; its delete — the node's last, after every other step's
// delete removed its files — removes those again, each only as far as it is empty, so no
// file is ever deleted here but the steps' data with wipeDataOnDestroy (kept by their own
// deletes, which a replacement runs too); without it, data keeps its directories. It also
// notes the packages the machine has before node prep installs any (unless
// skipPackageInstall), and its delete removes those of prep's packages the machine did not
// have, with the dependencies they brought. A lab VM needs none of this: its disk goes.
// Pure. Depends on: config, host/plan.
import * as path from "path";
import { NodeSpec } from "../config";
import { HostStepPlan, OS_FAMILY, shq } from "./plan";

/** Where a machine's footprint records the directories the cluster made there. */
export const FOOTPRINT_DIR = "/var/lib/k8s-lab";
export const FOOTPRINT_RECORD = `${FOOTPRINT_DIR}/made-directories`;
/** The packages the machine had before the cluster's first step (one name a line, sorted). */
export const PACKAGES_BEFORE = `${FOOTPRINT_DIR}/packages-before`;

/** The packages node prep installs when they are missing, by distro family. */
export interface PrepPackages {
  debian: string[];
  rhel: string[];
}

/** Prints the machine's installed packages, one name a line, sorted (needs `family`). */
const INSTALLED = `installed() { case "$family" in debian) dpkg-query -W -f='\${db:Status-Abbrev} \${Package}\\n' 2>/dev/null | awk '$1 == "ii" {print $2}' ;; rhel) rpm -qa --qf '%{NAME}\\n' ;; esac | LC_ALL=C sort -u; }`;

/** Create: the packages there before the cluster, once (a listing that failed is no note: the next run takes it). */
function packagesNoted(): string[] {
  return [...OS_FAMILY, INSTALLED, `if [[ ! -f ${PACKAGES_BEFORE} ]]; then installed > ${PACKAGES_BEFORE}.new && mv ${PACKAGES_BEFORE}.new ${PACKAGES_BEFORE}; fi`];
}

/** Delete: prep's packages that came after the note, then what apt would now auto-remove of what came after it too; the note goes. */
function packagesRemoved(node: NodeSpec, pkgs: PrepPackages): string[] {
  const list = (xs: string[]) => xs.map(shq).join(" ");
  return [
    `if [[ -f ${PACKAGES_BEFORE} ]]; then`,
    ...OS_FAMILY.map((l) => "  " + l),
    "  " + INSTALLED,
    `  came() { LC_ALL=C comm -13 ${PACKAGES_BEFORE} <(installed); }`,
    `  case "$family" in debian) mine=(${list(pkgs.debian)}) ;; rhel) mine=(${list(pkgs.rhel)}) ;; *) mine=() ;; esac`,
    `  mapfile -t ours < <(LC_ALL=C comm -12 <(printf '%s\\n' "\${mine[@]}" | LC_ALL=C sort -u) <(came))`,
    `  if ((\${#ours[@]})); then`,
    `    case "$family" in`,
    `      debian)`,
    `        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "\${ours[@]}" >&2`,
    `        mapfile -t deps < <(LC_ALL=C comm -12 <(apt-get -s autoremove | awk '$1 == "Remv" {print $2}' | LC_ALL=C sort -u) <(came))`,
    `        if ((\${#deps[@]})); then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "\${deps[@]}" >&2; fi ;;`,
    `      rhel) dnf remove -y -q "\${ours[@]}" >&2 ;;`,
    `    esac`,
    `    echo "${node.name}: removed the packages node prep installed: \${ours[*]} \${deps[*]:-}" >&2`,
    `  fi`,
    `  rm -f -- ${PACKAGES_BEFORE}`,
    "fi",
  ];
}

/** Every directory a step's files, created paths, data, uploads and services live in — with their parents up to /. */
export function footprintDirs(steps: HostStepPlan[]): string[] {
  const out = new Set<string>([FOOTPRINT_DIR]);
  const add = (dir: string) => {
    for (let d = dir; d !== "/" && d !== "."; d = path.posix.dirname(d)) out.add(d);
  };
  for (const s of steps) {
    for (const f of s.files) add(path.posix.dirname(f.path));
    for (const p of s.createdPaths ?? []) add(path.posix.dirname(p));
    for (const d of [...(s.dataDirs ?? []), ...(s.madeDirs ?? [])]) add(d);
    if (s.upload) add(s.upload.targetDir);
  }
  return [...out].sort();
}

/**
 * The node's footprint step. Create: append to the record each directory of the list the
 * machine does not have yet and the record does not name (a later version of the program
 * that writes somewhere new records only that). Delete: with `wipeData`, the data
 * directories of the node's steps; then every recorded directory, deepest first, removed
 * where empty; then the record. With `packages` (node prep may install them): create notes
 * the machine's packages once, before any step; delete removes those of `packages` that
 * came after, and the dependencies that came with them.
 */
export function planFootprint(node: NodeSpec, steps: HostStepPlan[], wipeData = false, packages?: PrepPackages): HostStepPlan {
  const dirs = footprintDirs(steps);
  const data = wipeData ? [...new Set(steps.flatMap((st) => st.dataDirs ?? []))].sort() : [];
  return {
    node: node.name,
    ip: node.ip,
    layer: "footprint",
    description: "records the directories the cluster makes on a machine it did not make, so that its removal takes them away again",
    files: [],
    activate: [
      `made=()`,
      `for d in ${dirs.map(shq).join(" ")}; do`,
      `  if [[ ! -e $d ]] && ! grep -qxF -- "$d" ${FOOTPRINT_RECORD} 2>/dev/null; then made+=("$d"); fi`,
      "done",
      `install -d -m 0755 ${FOOTPRINT_DIR}`,
      `if ((\${#made[@]})); then printf '%s\\n' "\${made[@]}" >> ${FOOTPRINT_RECORD}; fi`,
      `touch ${FOOTPRINT_RECORD}`,
      ...(packages ? packagesNoted() : []),
    ],
    deactivate: [
      // wipeDataOnDestroy: the data of every step of the node, which their own deletes keep
      // (a replaced step runs its delete too); this delete runs only when the node goes
      ...(data.length ? [`rm -rf -- ${data.map(shq).join(" ")}`] : []),
      ...(packages ? packagesRemoved(node, packages) : []),
      `if [[ -f ${FOOTPRINT_RECORD} ]]; then`,
      `  mapfile -t made < ${FOOTPRINT_RECORD}`,
      `  rm -f -- ${FOOTPRINT_RECORD}`,
      `  for d in "\${made[@]}"; do if [[ -d $d ]]; then find "$d" -depth -type d -empty -delete; fi; done`,
      "fi",
    ],
    healthGate: `${FOOTPRINT_RECORD} names the directories this machine did not have`,
    identity: [node.name],
  };
}
