// Pulumi.yaml declares exactly the keys of the catalogue, with the same types and
// defaults, so `pulumi config` documents what the program reads.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KEYS } from "../components/config";
import { ROOT } from "./harness";

const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

describe("Pulumi.yaml", () => {
  it("is a TypeScript nodejs project named k8s-lab", () => {
    expect(project.name).toBe("k8s-lab");
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
  });

  it("declares every key the program reads, and no other", () => {
    expect(Object.keys(project.config).sort()).toEqual(KEYS.map((k) => k.key).sort());
  });

  it.each(KEYS.map((k) => [k.key, k] as const))("declares %s with its type, description and default", (key, spec) => {
    const decl = project.config[key];
    expect(decl.type).toBe(spec.type);
    expect(decl.description).toBe(spec.description);
    expect(decl.default).toEqual(spec.default);
    if (spec.type === "array") expect(decl.items).toEqual({ type: "string" });
    expect(decl.secret ?? false).toBe(spec.secret ?? false);
  });

  it("gives no secret key a default", () => {
    for (const k of KEYS.filter((x) => x.secret)) expect(k.default).toBeUndefined();
  });
});
