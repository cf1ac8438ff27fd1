// Day two through `pulumi up`: each scenario runs the program twice under the stand-in
// engine (the first `up`, then the changed config on the cluster it left running) and
// asserts the exact set of resources created, updated, replaced and deleted.
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../components/config";
import { hostSteps as hostStepsOf, planCluster } from "../components/cluster/plan";
import { materialRefs } from "../components/host/plan";
import { planPki } from "../components/pki/plan";
import { forgetProviderState } from "../components/render/engine";
import { Change, changeConfig, summary } from "./two-runs";
import { runProgram, settle, stackConfig } from "./harness";

const dev = stackConfig("dev");

describe("add a worker", () => {
  it("creates the new node's VM, certificates and steps, and changes nothing on the running nodes but the gate that lists them", async () => {
    const after = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };
    const { changes } = await changeConfig(dev, after);
    const notNew = changes.filter((c) => !c.name.includes("k8s-4"));
    expect(summary(notNew)).toEqual(["replace nodes-registered"]);
    const created = summary(changes.filter((c) => c.name.includes("k8s-4")));
    expect(created.every((x) => x.startsWith("create "))).toBe(true);
    expect(created).toEqual(expect.arrayContaining(["create domain-k8s-4", "create ready-k8s-4", "create prep-k8s-4", "create kubelet-k8s-4", "create kube-proxy-k8s-4", "create kubelet-k8s-4"]));
  }, 60000);
});

describe("certificates", () => {
  const LEAF_TYPES = ["tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert"];
  const hostSteps = (c: Change[]) => c.filter((x) => x.type === "command:remote:Command");

  it("a certificate re-issued inside its renewal window restarts exactly the services that read it", async () => {
    const { changes, second } = await changeConfig(dev, dev, () => {
      expect(forgetProviderState("tls:index/locallySignedCert:LocallySignedCert", "apiserver")).toBe(1);
    });
    expect(summary(changes).sort()).toEqual([
      "replace apiserver",
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
    ]);
    // one node at a time: each control-plane step waits for the previous one
    expect(second.dependsOnNames("k8slab:host:HostStep", "control-plane-k8s-2")).toContain("control-plane-k8s-1");
    expect(second.dependsOnNames("k8slab:host:HostStep", "control-plane-k8s-3")).toContain("control-plane-k8s-2");
  }, 60000);

  it("pkiRotation re-issues every leaf key and certificate (never a CA) and restarts every service holding one, rolling", async () => {
    const { changes, second } = await changeConfig(dev, { ...dev, pkiRotation: "2026-11-27" });
    const leaves = planPki(loadConfig(dev).config!).certs.map((c) => c.id);
    const tls = changes.filter((c) => c.type.startsWith("tls:"));
    expect(tls.every((c) => c.op === "replace")).toBe(true);
    expect(tls.map((c) => `${c.type} ${c.name}`).sort()).toEqual(leaves.flatMap((id) => LEAF_TYPES.map((t) => `${t} ${id}`)).sort());
    // every host step that carries a leaf, and no other
    const plan = planCluster(loadConfig(dev).config!);
    const carriers = hostStepsOf(plan)
      .filter((s) => materialRefs(s.plan).some((r) => r.kind === "cert" || r.kind === "key" || r.kind === "kubeconfig"))
      .map((s) => `replace ${s.id}`)
      .sort();
    expect(carriers.length).toBeGreaterThanOrEqual(3 * 4);
    expect(summary(hostSteps(changes)).sort()).toEqual(carriers);
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-2")).toContain("etcd-k8s-1");
    // nothing else but the provider taking the new admin kubeconfig (same server: an
    // update, no object replaced): no VM, no addon object, no CA
    expect(summary(changes.filter((c) => !c.type.startsWith("tls:") && c.type !== "command:remote:Command"))).toEqual(["update k8s-lab-api"]);
  }, 60000);

  it("puts every CA's and certificate's expiry into the stack outputs", async () => {
    const { outputs, error } = await runProgram(dev);
    expect(error).toBeUndefined();
    const expiry = (await settle(outputs!.certificateExpiry as pulumi.Output<Record<string, string>>)).value;
    const pki = planPki(loadConfig(dev).config!);
    expect(Object.keys(expiry).sort()).toEqual([...pki.cas.map((c) => c.id), ...pki.certs.map((c) => c.id)].sort());
    const years = (id: string) => (Date.parse(expiry[id]) - Date.now()) / (365 * 24 * 3600e3);
    expect(years("apiserver")).toBeGreaterThan(0.99);
    expect(years("apiserver")).toBeLessThan(1.01);
    expect(years("cluster-ca")).toBeGreaterThan(9.9);
  }, 60000);
});
