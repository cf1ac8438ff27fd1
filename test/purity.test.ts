// Planning is pure: every module under components/ except the shipping ones loads without
// the Pulumi SDK (each is required in a fresh Node process, from the compiled tree, and
// require.cache is checked), so the render, the tests and any tool can read the plan
// without an engine. The shipping modules are listed, and must really load the SDK.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./harness";
import { run } from "./tools";

/** Modules that make Pulumi resources or read Pulumi's config (relative to components/). */
const SHIPPING = new Set([
  "addons/index",
  "cluster/index",
  "config/stack",
  "control-plane/index",
  "host/established",
  "host/index",
  "host/step",
  "pki/index",
  "render/bench",
  "render/engine",
  "vm/index",
]);
/** Command-line entry points: they run on require, so they are checked by their imports instead. */
const ENTRY = new Set(["render/bench", "render/cli"]);

const BIN = path.join(ROOT, "bin/components");
const modules = (fs.readdirSync(path.join(ROOT, "components"), { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.replace(/\.ts$/, "").split(path.sep).join("/"))
  .sort();

/** The @pulumi packages a module pulls in when required alone. */
function pulumiLoadedBy(mod: string): string[] {
  const script = `require(${JSON.stringify(path.join(BIN, mod))}); const s = new Set(); for (const k of Object.keys(require.cache)) { const m = /node_modules[\\\\/](@pulumi[\\\\/][^\\\\/]+)/.exec(k); if (m) s.add(m[1]); } console.log(JSON.stringify([...s].sort()));`;
  const r = run("node", ["-e", script]);
  if (r.status !== 0) throw new Error(`${mod}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("planning modules", () => {
  it("are the modules of components/ (the list below is not empty and names real files)", () => {
    expect(modules.length).toBeGreaterThan(30);
    for (const m of SHIPPING) expect(modules).toContain(m);
  });

  for (const mod of modules.filter((m) => !SHIPPING.has(m) && !ENTRY.has(m))) {
    it(`${mod} loads no Pulumi SDK`, () => {
      expect(pulumiLoadedBy(mod)).toEqual([]);
    });
  }

  for (const mod of [...SHIPPING].filter((m) => !ENTRY.has(m))) {
    it(`${mod} (shipping) does load it`, () => {
      expect(pulumiLoadedBy(mod)).toContain("@pulumi/pulumi");
    });
  }

  it("the render command imports no shipping module", () => {
    const text = fs.readFileSync(path.join(ROOT, "components/render/cli.ts"), "utf8");
    const imports = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]).filter((s) => s.startsWith("."));
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) {
      const target = path.posix.join("render", i);
      const mod = modules.includes(target) ? target : `${target}/index`;
      expect(modules).toContain(mod);
      expect({ mod, shipping: SHIPPING.has(mod) }).toEqual({ mod, shipping: false });
    }
  });
});
