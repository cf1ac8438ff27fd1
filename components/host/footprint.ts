// The footprint of the cluster on a machine the program did not make (hostMode: existing):
// the directories its steps and services create. The node's first step records which of
// them the machine did not have; its delete — the node's last, after every other step's
// delete removed its files — removes those again, each only as far as it is empty, so no
// file is ever deleted here but the steps' data with wipeDataOnDestroy (kept by their own
// deletes, which a replacement runs too); without it, data keeps its directories. A lab VM
// needs none of this: its disk goes with it.
// Pure. Depends on: config, host/plan.
import * as path from "path";
import { NodeSpec } from "../config";
import { HostStepPlan, shq } from "./plan";

/** Where a machine's footprint records the directories the cluster made there. */
export const FOOTPRINT_DIR = "/var/lib/k8s-lab";
export const FOOTPRINT_RECORD = `${FOOTPRINT_DIR}/made-directories`;

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
 * where empty; then the record.
 */
export function planFootprint(node: NodeSpec, steps: HostStepPlan[], wipeData = false): HostStepPlan {
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
    ],
    deactivate: [
      // wipeDataOnDestroy: the data of every step of the node, which their own deletes keep
      // (a replaced step runs its delete too); this delete runs only when the node goes
      ...(data.length ? [`rm -rf -- ${data.map(shq).join(" ")}`] : []),
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
