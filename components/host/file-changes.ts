// What a change does to the files on the hosts, in words a preview can show: the previous
// `up` records every host step's files (the text of each file that holds no secret, a
// digest of each secret one) in the stack output `hostFiles`; the next run compares its
// plan with that record and says, per step, which file changes and how — the changed lines
// of a file without secrets, only "changed" for a secret one. The step's trigger stays a
// digest (nothing is replaced because of this record). Pure. Depends on: host/plan, diff.
import { createHash } from "crypto";
import { gunzipSync, gzipSync } from "zlib";
import { structuredPatch } from "diff";
import { HostStepPlan } from "./plan";

/** The stack output that holds the record. */
export const HOST_FILES_OUTPUT = "hostFiles";

/** Step id → file path → its text, or `sha256:<hex>` for a secret file. */
export type FileRecord = Record<string, Record<string, string>>;

const SECRET = "sha256:";

/** The record of these steps' files (files whose content is key material issued at run time are left out: a new certificate is the PKI's change). */
export function recordFiles(steps: Array<{ id: string; plan: HostStepPlan }>): FileRecord {
  const out: FileRecord = {};
  for (const s of steps) {
    const files: Record<string, string> = {};
    for (const f of s.plan.files) {
      if (typeof f.content !== "string") continue;
      files[f.path] = f.secret ? SECRET + createHash("sha256").update(f.content).digest("hex") : f.content;
    }
    if (Object.keys(files).length) out[s.id] = files;
  }
  return out;
}

/** The record as the stack output stores it (gzip, base64: a lab's configs are a few hundred kB). */
export function encodeRecord(r: FileRecord): string {
  return gzipSync(JSON.stringify(r)).toString("base64");
}

/** The record a previous `up` stored; undefined when there is none or it cannot be read. */
export function decodeRecord(v: unknown): FileRecord | undefined {
  if (typeof v !== "string" || !v) return undefined;
  try {
    const r = JSON.parse(gunzipSync(Buffer.from(v, "base64")).toString("utf8"));
    return r && typeof r === "object" && !Array.isArray(r) ? (r as FileRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Per step whose files differ from the record: what changes, file by file. */
export function fileChanges(before: FileRecord | undefined, now: FileRecord): Array<{ step: string; text: string }> {
  if (!before) return [];
  const out: Array<{ step: string; text: string }> = [];
  for (const [step, files] of Object.entries(now)) {
    const old = before[step];
    if (!old) continue; // a new step: the preview shows it created
    const lines: string[] = [];
    for (const [file, text] of Object.entries(files)) {
      const was = old[file];
      if (was === text) continue;
      if (was === undefined) lines.push(`${file}: a new file`);
      else if (text.startsWith(SECRET) || was.startsWith(SECRET)) lines.push(`${file}: changed (it holds secrets: not shown)`);
      else {
        const patch = structuredPatch(file, file, was, text, "", "", { context: 1 });
        lines.push(`${file}:`, ...patch.hunks.flatMap((h) => [`@@ line ${h.newStart} @@`, ...h.lines.filter((l) => !l.startsWith("\\"))]));
      }
    }
    for (const file of Object.keys(old)) if (!(file in files)) lines.push(`${file}: no longer written (the step's undo removes it)`);
    if (lines.length) out.push({ step, text: lines.join("\n") });
  }
  return out;
}
