// Pulumi.yaml is the catalogue as the engine reads it: every key with a default is declared
// with its type, description and default; no declared key lacks a default (the engine would
// make it required and refuse to run the program: "Stack 'dev' is missing configuration
// values …"); optional keys are documented in the header instead.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KEYS } from "../../components/config";
import { DECLARED_KEYS, OPTIONAL_KEYS, projectFile } from "../../components/config/project-file";
import { ROOT } from "../harness";

const text = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
const project = YAML.parse(text);

describe("Pulumi.yaml", () => {
  it("is the generated file (npm run gen:project-file)", () => {
    expect(text).toBe(projectFile());
  });

  it("is a TypeScript nodejs project named k8s-lab", () => {
    expect(project.name).toBe("k8s-lab");
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
  });

  it("declares no key without a default: the engine would require it in every stack", () => {
    const required = Object.entries(project.config as Record<string, { default?: unknown; value?: unknown }>).filter(([, d]) => d.default === undefined && d.value === undefined);
    expect(required.map(([k]) => k)).toEqual([]);
  });

  it("declares no secret key: the engine rejects a declared secret's plain default", () => {
    expect(Object.entries(project.config as Record<string, { secret?: boolean }>).filter(([, d]) => d.secret).map(([k]) => k)).toEqual([]);
  });

  it("declares every key with a default and lists every optional key in its header", () => {
    expect(Object.keys(project.config).sort()).toEqual(DECLARED_KEYS.map((k) => k.key).sort());
    for (const k of OPTIONAL_KEYS) expect(text).toContain(`#   ${k.key}`);
    expect(DECLARED_KEYS.length + OPTIONAL_KEYS.length).toBe(KEYS.length);
    expect(OPTIONAL_KEYS.length).toBeGreaterThan(0);
  });

  it.each(DECLARED_KEYS.map((k) => [k.key, k] as const))("declares %s with its type, description and default", (key, spec) => {
    const decl = project.config[key];
    expect(decl.type).toBe(spec.type);
    expect(decl.description).toBe(spec.description);
    expect(decl.default).toEqual(spec.default);
    if (spec.type === "array") expect(decl.items).toEqual({ type: "string" });
  });

  it("gives no secret key a default", () => {
    for (const k of KEYS.filter((x) => x.secret)) expect(k.default).toBeUndefined();
  });
});
