// Raw values: the stack's values with the catalogue's defaults merged, checked against the
// schema declared with each key (config/keys) — one Problem per bad key, naming the key
// and the fix. Pure. Depends on: keys, model (Problem).
import { KEYS, KeySpec, RawConfig, rawSchema } from "./keys";
import type { Problem } from "./model";

/** Fills in defaults from the key catalogue. Unknown keys are reported, not ignored. */
export function withDefaults(values: Record<string, unknown>): { merged: Record<string, unknown>; problems: Problem[] } {
  const merged: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const k of KEYS) {
    const v = values[k.key];
    merged[k.key] = v === undefined || v === null ? k.default : v;
  }
  for (const key of Object.keys(values)) {
    if (!KEYS.some((k) => k.key === key)) {
      problems.push({
        severity: "error",
        key,
        message: "is not a configuration key of this program",
        fix: `remove it (pulumi config rm ${key}), or check its spelling against Pulumi.yaml`,
      });
    }
  }
  return { merged, problems };
}

function describeType(k: KeySpec | undefined): string {
  if (!k) return "a valid value";
  if (k.type === "array") return "a list of strings";
  return `a ${k.type}`;
}

/** Checks raw values against the schema; one problem per bad key. */
export function parseRaw(values: Record<string, unknown>): { raw?: RawConfig; problems: Problem[] } {
  const { merged, problems } = withDefaults(values);
  const res = rawSchema.safeParse(merged);
  if (res.success) return { raw: res.data, problems };
  for (const issue of res.error.issues) {
    const key = String(issue.path[0] ?? "config");
    const spec = KEYS.find((k) => k.key === key);
    const where = issue.path.length > 1 ? `${key}[${issue.path.slice(1).join("].[")}]` : key;
    problems.push({
      severity: "error",
      key: where,
      message: `${issue.message} (got ${JSON.stringify(merged[key])})`,
      fix: `set it to ${describeType(spec)}: ${spec?.description ?? ""}`.trim(),
    });
  }
  return { problems };
}
