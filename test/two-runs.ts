// Day two under the stand-in engine: the program runs once (the first `up`), then again
// with a changed config, with the provider state kept between the runs as the engine keeps
// it; the two registrations are compared by URN, and each difference is classified the
// way the engine and the providers would: create, delete, replace or update.
import { Recorded, Recorder } from "../tools/engine";
import { resolvedOutputs, runProgram } from "./harness";

export type Op = "create" | "delete" | "replace" | "update";

export interface Change {
  op: Op;
  type: string;
  name: string;
  urn: string;
  /** The inputs that differ (top-level keys). */
  keys: string[];
}

/** How a changed input is applied by its provider. */
function opFor(type: string, changed: string[]): Op {
  if (type.startsWith("command:")) return changed.includes("triggers") ? "replace" : "update";
  if (type.startsWith("tls:") || type.startsWith("random:")) return "replace";
  return "update";
}

function recordedByUrn(rec: Recorder): Map<string, Recorded> {
  const urns = [...rec.byUrn.keys()];
  const out = new Map<string, Recorded>();
  for (const r of rec.resources) {
    if (!r.custom) continue;
    const urn = urns.find((u) => u.endsWith(`$${r.type}::${r.name}`) || u === `${r.type}::${r.name}`);
    if (!urn) throw new Error(`no URN for ${r.type}::${r.name}`);
    out.set(urn, r);
  }
  return out;
}

/** The inputs a resource's ignoreChanges option names (top-level keys). */
function ignoredInputs(rec: Recorder, r: Recorded): string[] {
  return ((rec.options.get(`${r.type}::${r.name}`)?.ignoreChanges ?? []) as string[]).map((k) => k.split(/[.[]/)[0]);
}

/** The changes from one run's registrations to the next one's. */
export function diffRuns(before: Recorder, after: Recorder): Change[] {
  const a = recordedByUrn(before);
  const b = recordedByUrn(after);
  const out: Change[] = [];
  for (const [urn, r] of b) {
    const old = a.get(urn);
    if (!old) {
      out.push({ op: "create", type: r.type, name: r.name, urn, keys: [] });
      continue;
    }
    // the engine leaves inputs the program asks it to ignore as they were (ignoreChanges)
    const ignored = ignoredInputs(after, r);
    const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])].filter((k) => !ignored.includes(k) && JSON.stringify(old.inputs[k]) !== JSON.stringify(r.inputs[k]));
    const trigger = (rec: Recorder) => JSON.stringify(rec.options.get(`${r.type}::${r.name}`)?.replacementTrigger ?? null);
    if (trigger(before) !== trigger(after)) keys.push("(replacementTrigger)");
    // same inputs, new outputs: the provider re-issued it (a certificate inside its renewal window)
    if (!keys.length && /^(tls|random):/.test(r.type) && JSON.stringify(old.state) !== JSON.stringify(r.state)) keys.push("(re-issued)");
    if (keys.length) out.push({ op: keys.some((k) => k.startsWith("(")) ? "replace" : opFor(r.type, keys), type: r.type, name: r.name, urn, keys });
  }
  for (const [urn, r] of a) if (!b.has(urn)) out.push({ op: "delete", type: r.type, name: r.name, urn, keys: [] });
  // a replaced resource gets a new id: whatever names that id in its triggers (a domain its
  // disks, a readiness gate its domain, a host step its node's gate) is replaced with it
  for (let grew = true; grew; ) {
    grew = false;
    const newIds = out.filter((c) => c.op === "replace" || c.op === "create").map((c) => `"${c.name}-id"`);
    for (const [urn, r] of b) {
      if (ignoredInputs(after, r).includes("triggers")) continue;
      const triggers = JSON.stringify(r.inputs.triggers ?? null);
      if (!newIds.some((id) => triggers.includes(id))) continue;
      const existing = out.find((c) => c.urn === urn);
      if (existing?.op === "replace" || existing?.op === "create") continue;
      if (existing) existing.op = "replace";
      else out.push({ op: "replace", type: r.type, name: r.name, urn, keys: ["triggers"] });
      grew = true;
    }
  }
  return out.sort((x, y) => x.op.localeCompare(y.op) || x.urn.localeCompare(y.urn));
}

/** `up` with `before`, then `up` with `after` on the cluster the first one left running. */
export async function changeConfig(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  /** What happens between the two runs (e.g. a certificate reaches its renewal window). */
  between: () => void = () => {},
  /** The outputs as the second run reads them (e.g. as an older version of the program recorded them). */
  recorded: (outputs: Record<string, unknown>) => Record<string, unknown> = (o) => o,
): Promise<{ first: Recorder; second: Recorder; changes: Change[]; outputs: Record<string, unknown> }> {
  const first = await runProgram(before, { established: [] });
  if (first.error) throw first.error;
  between();
  // the second `up` reads what the first recorded (establishedNodes, lastUp), as through
  // the program's reference to its own stack
  const previousOutputs = recorded(await resolvedOutputs(first.outputs!));
  const second = await runProgram(after, { previousOutputs });
  if (second.error) throw second.error;
  return { first: first.rec, second: second.rec, changes: diffRuns(first.rec, second.rec), outputs: await resolvedOutputs(second.outputs!) };
}

/** `op name` for every change, in a stable order, for exact assertions. */
export function summary(changes: Change[], filter: (c: Change) => boolean = () => true): string[] {
  return changes.filter(filter).map((c) => `${c.op} ${c.name}`);
}
