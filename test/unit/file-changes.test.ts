// The preview shows a change, not a hash: the previous `up` records its host steps' files
// (stack output hostFiles) and the next run says beside each changed step which file
// changes and how — the changed lines of a file without secrets, only "changed" for one
// with secrets. Pure functions over two plans, then the program twice under the stand-in
// engine, reading the messages it logs against its resources.
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../components/config";
import { hostSteps, planCluster } from "../../components/cluster/plan";
import { decodeRecord, encodeRecord, fileChanges, HOST_FILES_OUTPUT, recordFiles } from "../../components/host/file-changes";
import { stackConfig } from "../harness";
import { changeConfig, summary } from "../two-runs";

const dev = stackConfig("dev");
const record = (v: Record<string, unknown> = {}) => recordFiles(hostSteps(planCluster(loadConfig({ ...dev, ...v }).config!)));

describe("the record of the files a lab's host steps write", () => {
  it("holds each file without secrets as its text and each secret one only as a digest", () => {
    const plan = planCluster(loadConfig(dev).config!);
    const r = record();
    let plain = 0;
    for (const s of plan.steps) {
      if (s.kind !== "host") continue;
      for (const f of s.plan.files) {
        if (typeof f.content !== "string") continue;
        const v = r[s.id][f.path];
        if (f.secret) expect(v).toMatch(/^sha256:[0-9a-f]{64}$/);
        else (expect(v).toBe(f.content), plain++);
      }
    }
    expect(plain).toBeGreaterThan(50);
    // no secret's text in the record, whatever its shape
    for (const s of plan.steps) if (s.kind === "host") for (const f of s.plan.files) if (f.secret && typeof f.content === "string") expect(JSON.stringify(r)).not.toContain(f.content);
    // (the dev plan's secret files are all key material issued at run time, so a step of its own:)
    const own = recordFiles([{ id: "s", plan: { files: [{ path: "/etc/k", content: "TOP-SECRET", mode: "0600", secret: true }, { path: "/etc/c", content: "x: 1\n", mode: "0644" }] } as never }]);
    expect(own).toEqual({ s: { "/etc/k": "sha256:" + require("crypto").createHash("sha256").update("TOP-SECRET").digest("hex"), "/etc/c": "x: 1\n" } });
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
    expect(encodeRecord(r).length).toBeLessThan(JSON.stringify(r).length / 3);
    expect(decodeRecord("not a record")).toBeUndefined();
    expect(decodeRecord(undefined)).toBeUndefined();
  });

  it("says which file of which step changes, and the changed lines: kubeletMaxPods 110 → 90", () => {
    const changes = fileChanges(record(), record({ kubeletMaxPods: 90 }));
    expect(changes.map((c) => c.step)).toEqual(["kubelet-k8s-1", "kubelet-k8s-2", "kubelet-k8s-3"]);
    for (const c of changes) {
      const lines = c.text.split("\n");
      expect(lines[0]).toBe("/var/lib/kubelet/config.yaml:");
      expect(lines.filter((l) => /^[-+]/.test(l))).toEqual(["-maxPods: 110", "+maxPods: 90"]);
    }
  });

  it("names a secret file's change without showing it, and files added or no longer written", () => {
    const text = fileChanges(
      { s: { "/etc/k.key": "sha256:aa", "/etc/a.conf": "a: 1\n", "/etc/gone": "x\n" } },
      { s: { "/etc/k.key": "sha256:bb", "/etc/a.conf": "a: 1\n", "/etc/new": "y\n" } },
    );
    expect(text).toEqual([{ step: "s", text: "/etc/k.key: changed (it holds secrets: not shown)\n/etc/new: a new file\n/etc/gone: no longer written (the step's undo removes it)" }]);
    expect(fileChanges(undefined, record())).toEqual([]);
    expect(fileChanges(record(), record())).toEqual([]);
  });

  it("is logged by the program beside each changed step, from the record the previous up left", async () => {
    const info = jest.spyOn(pulumi.log, "info");
    try {
      const { changes, outputs } = await changeConfig(dev, { ...dev, kubeletMaxPods: 90 });
      expect(summary(changes).sort()).toEqual(["replace kubelet-k8s-1", "replace kubelet-k8s-2", "replace kubelet-k8s-3"]);
      const logged = info.mock.calls.filter(([m]) => String(m).startsWith("files this step changes on its node:"));
      expect(logged).toHaveLength(3);
      const names = await Promise.all(logged.map(([, res]) => new Promise((ok) => (res as pulumi.CustomResource).urn.apply(ok))));
      expect((names as string[]).map((u) => u.split("::").pop()).sort()).toEqual(["kubelet-k8s-1", "kubelet-k8s-2", "kubelet-k8s-3"]);
      for (const [m] of logged) expect(m).toContain("-maxPods: 110\n+maxPods: 90");
      expect(decodeRecord(outputs[HOST_FILES_OUTPUT])!["kubelet-k8s-1"]["/var/lib/kubelet/config.yaml"]).toContain("maxPods: 90");
    } finally {
      info.mockRestore();
    }
  }, 120000);
});
