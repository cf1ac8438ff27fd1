// systemd unit files as data: sections of key → value(s), rendered in a stable order.
// Depends on nothing.

export type UnitValue = string | number | boolean | string[];
export type UnitFile = Record<"Unit" | "Service" | "Install" | string, Record<string, UnitValue>>;

function value(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
}

/** Renders a unit; array values repeat the key (After=, Environment=…). */
export function renderUnit(u: UnitFile, header?: string): string {
  const out: string[] = [];
  if (header) out.push(...header.split("\n").map((l) => `# ${l}`), "");
  for (const [section, entries] of Object.entries(u)) {
    out.push(`[${section}]`);
    for (const [k, v] of Object.entries(entries)) {
      for (const item of Array.isArray(v) ? v : [v]) out.push(`${k}=${value(item)}`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** An ExecStart command line with one flag per line (backslash continuations). */
export function commandLine(binary: string, flags: Record<string, string | number | boolean | undefined>): string {
  const parts = [binary];
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    parts.push(`--${k}=${typeof v === "boolean" ? String(v) : v}`);
  }
  return parts.join(" \\\n  ");
}
