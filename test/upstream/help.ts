// Reads a binary's own `--help` into the list of flags it accepts, and which of them it
// marks deprecated: the fixtures in test/upstream/flags/ are this parser's output over the
// real binaries of the pinned releases (`npm run fixtures:flags`), and the flag test judges
// every rendered unit against them.
//   Kubernetes (cobra/pflag): "      --name type   text … (DEPRECATED: …)"; flags that
//   pflag marks deprecated are hidden from --help, so they count as unknown.
//   etcd: "  --name 'default'" then an indented description ("Deprecated in v3.6 …"), and
//   "  etcd --config-file" in its usage section.
import * as fs from "fs";

export interface FlagFixture {
  binary: string;
  version: string;
  /** how the fixture was made */
  source: string;
  /** flag name (without dashes) → deprecated */
  flags: Record<string, { deprecated: boolean }>;
}

const FLAG_LINE = /^\s{1,10}(?:-[A-Za-z], )?--([a-z0-9][a-z0-9.-]*)(?=[\s=]|$)/;
// etcd's usage section: "  etcd --config-file" then its description
const USAGE_LINE = /^\s{1,4}[a-z][a-z0-9-]* (?:-[A-Za-z] \| )?--([a-z0-9][a-z0-9.-]*)\s*$/;
// the binaries' own markers: Kubernetes "(DEPRECATED: …)", etcd "Deprecated in v3.6 …" and
// "Deprecated and scheduled …"; not "Will be deprecated" nor "value X is deprecated"
const DEPRECATED = /\bDEPRECATED\b|\bDeprecated (?:in v|and )/;

export function parseHelp(binary: string, version: string, help: string): FlagFixture {
  const flags: Record<string, { deprecated: boolean }> = {};
  let current: string | undefined;
  for (const line of help.split("\n")) {
    const m = FLAG_LINE.exec(line) ?? USAGE_LINE.exec(line);
    if (m) {
      current = m[1];
      flags[current] = { deprecated: DEPRECATED.test(line.slice(m[0].length)) };
    } else if (current && /^\s{4,}\S/.test(line)) {
      if (DEPRECATED.test(line)) flags[current].deprecated = true;
    } else if (line.trim() === "" || /^\S/.test(line)) {
      current = undefined;
    }
  }
  if (Object.keys(flags).length < 20) throw new Error(`${binary} --help: only ${Object.keys(flags).length} flags found; is this its help text?`);
  return { binary, version, source: `${binary} --help of the binary built from the v${version} Go module (npm run fixtures:flags)`, flags: Object.fromEntries(Object.entries(flags).sort(([a], [b]) => a.localeCompare(b))) };
}

export const fixtureFile = (binary: string, version: string) => `${binary}-v${version}.json`;

// node bin/test/upstream/help.js BINARY VERSION < help.txt > fixture.json
if (require.main === module) {
  const [binary, version] = process.argv.slice(2);
  if (!binary || !version) {
    console.error("usage: help.js BINARY VERSION < help-text");
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(parseHelp(binary, version, fs.readFileSync(0, "utf8")), null, 1) + "\n");
}
