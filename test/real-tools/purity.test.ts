// Planning is pure: every module under components/ except the shipping ones loads without
// the Pulumi SDK (each is required from its source, through tsx, in a fresh Node process,
// and require.cache is checked), so the render, the tests and any tool can read the plan
// without an engine. The shipping modules are listed, and must really load the SDK. The
// program imports none of the test doubles (tools/), and the layers' folders import one
// another in one direction only.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { run } from "../tools";

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
  "vm/index",
]);

const sources = (dir: string) =>
  (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.replace(/\.ts$/, "").split(path.sep).join("/"))
    .sort();
const modules = sources("components");

/** Relative imports of a source file, resolved to paths relative to ROOT (without .ts). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, `${file}.ts`), "utf8");
  return [...text.matchAll(/^(?:import|export)\b[^;]*? from "(\.[^"]+)"/gms)].map((m) => {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
    return fs.existsSync(path.join(ROOT, `${target}.ts`)) ? target : `${target}/index`;
  });
}

/** The @pulumi packages a module pulls in when required alone. */
function pulumiLoadedBy(mod: string): string[] {
  const script = `require(${JSON.stringify(path.join(ROOT, "components", `${mod}.ts`))}); const s = new Set(); for (const k of Object.keys(require.cache)) { const m = /node_modules[\\\\/](@pulumi[\\\\/][^\\\\/]+)/.exec(k); if (m) s.add(m[1]); } console.log(JSON.stringify([...s].sort()));`;
  const r = run("node", ["--require", "tsx/cjs", "-e", script]);
  if (r.status !== 0) throw new Error(`${mod}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("planning modules", () => {
  it("are the modules of components/ (the list below is not empty and names real files)", () => {
    expect(modules.length).toBeGreaterThan(30);
    for (const m of SHIPPING) expect(modules).toContain(m);
  });

  for (const mod of modules.filter((m) => !SHIPPING.has(m))) {
    it(`${mod} loads no Pulumi SDK`, () => {
      expect(pulumiLoadedBy(mod)).toEqual([]);
    });
  }

  for (const mod of SHIPPING) {
    it(`${mod} (shipping) does load it`, () => {
      expect(pulumiLoadedBy(mod)).toContain("@pulumi/pulumi");
    });
  }

  it("the render command imports no shipping module", () => {
    const imports = importsOf("tools/render").filter((i) => i.startsWith("components/"));
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) {
      const mod = i.replace(/^components\//, "");
      expect(modules).toContain(mod);
      expect({ mod, shipping: SHIPPING.has(mod) }).toEqual({ mod, shipping: false });
    }
  });
});

describe("the import graph", () => {
  const program = ["index", ...modules.map((m) => `components/${m}`)];

  it("no program module imports the test doubles or tools (tools/)", () => {
    const edges = program.flatMap((f) => importsOf(f).map((i) => `${f} → ${i}`));
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.filter((e) => / → tools\//.test(e))).toEqual([]);
    // the check sees an import of tools/ when there is one
    expect(importsOf("tools/bench")).toContain("tools/engine");
  });

  it("has no circle between modules (an import type counts: a reader follows it too)", () => {
    const deps = new Map(program.map((f) => [f, importsOf(f).filter((i) => i !== f)]));
    const circles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "visiting") return void circles.push([...trail.slice(trail.indexOf(f)), f].join(" → "));
      state.set(f, "visiting");
      for (const d of deps.get(f) ?? []) visit(d, [...trail, f]);
      state.set(f, "done");
    };
    for (const f of program) visit(f, []);
    expect(deps.size).toBeGreaterThan(40);
    expect(circles).toEqual([]);
  });

  it("runs one way between the folders of components/: no folder imports one that imports it back", () => {
    const folder = (f: string) => (f.startsWith("components/") ? f.split("/")[1] : f);
    const deps = new Map<string, Set<string>>();
    for (const f of program) for (const i of importsOf(f)) if (folder(i) !== folder(f)) deps.set(folder(f), (deps.get(folder(f)) ?? new Set()).add(folder(i)));
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      [...(deps.get(from) ?? [])].some((d) => d === to || (!seen.has(d) && (seen.add(d), reaches(d, to, seen))));
    const back = [...deps].flatMap(([f, ds]) => [...ds].filter((d) => reaches(d, f)).map((d) => `${f} ⇄ ${d}`));
    expect(deps.size).toBeGreaterThan(8);
    expect(back).toEqual([]);
  });
});
