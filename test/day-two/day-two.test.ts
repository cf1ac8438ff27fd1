// Day two through `pulumi up`: each scenario runs the program twice under the stand-in
// engine (the first `up`, then the changed config on the cluster it left running) and
// asserts the exact set of resources created, updated, replaced and deleted.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { renderDeleteScript } from "../../components/host/plan";
import { tmpdir } from "../tools";
import { UPLOAD_DIR } from "../../components/node-prep/artifacts";
import { renderTree } from "../../components/render";
import { BRIDGE_CONFLIST, BRIDGE_NAME } from "../../components/worker/pod-network";
import { LastUp, lastUpProblems, loadConfig, lostMachineProblems } from "../../components/config";
import { hostSteps as hostStepsOf, planCluster } from "../../components/cluster/plan";
import { materialRefs } from "../../components/host/plan";
import { planPki } from "../../components/pki/plan";
import { Recorder, forgetProviderState } from "../../tools/engine";
import { Change, changeConfig, diffRuns, summary } from "../two-runs";
import { resolvedOutputs, runProgram, settle, stackConfig } from "../harness";

const dev = stackConfig("dev");

/** The delete script a recorded host step's command would run (it travels base64-encoded). */
const deleteScriptOf = (cmd: string) => Buffer.from(/^echo (\S+) \|/.exec(cmd)![1], "base64").toString();

/** `type::name` of the resource a step's delete is skipped with. */
function deletedWithOf(rec: Recorder, step: string): string | undefined {
  const w = rec.options.get(`command:remote:Command::${step}`)?.deletedWith as { __pulumiType?: string; __name?: string } | undefined;
  return w && `${w.__pulumiType}::${w.__name}`;
}

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

  it("with the bridge pod network: each running node gets the new route, and no step whose delete runs takes the running pods' bridge", async () => {
    const bridge = { ...dev, cni: "bridge" };
    const after = { ...bridge, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };
    const { changes, first } = await changeConfig(bridge, after);
    const running = changes.filter((c) => !c.name.includes("k8s-4"));
    expect(summary(running).sort()).toEqual(["replace nodes-registered", "replace pod-network-k8s-1", "replace pod-network-k8s-2", "replace pod-network-k8s-3"]);
    expect(summary(changes.filter((c) => c.name === "pod-bridge-k8s-4"))).toContain("create pod-bridge-k8s-4");
    // a replaced step's delete is the one the first up recorded: decode what it would run
    const deletes = running
      .filter((c) => c.type === "command:remote:Command" && c.op !== "create")
      .map((c) => first.resources.find((r) => r.type === c.type && r.name === c.name)!.inputs.delete as string)
      .map(deleteScriptOf);
    expect(deletes).toHaveLength(4);
    for (const d of deletes) {
      expect(d).not.toContain(BRIDGE_NAME);
      expect(d).not.toContain(BRIDGE_CONFLIST);
    }
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
    expect(second.dependsOnNames("command:remote:Command", "control-plane-k8s-2")).toContain("control-plane-k8s-1");
    expect(second.dependsOnNames("command:remote:Command", "control-plane-k8s-3")).toContain("control-plane-k8s-2");
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
    expect(second.dependsOnNames("command:remote:Command", "etcd-k8s-2")).toContain("etcd-k8s-1");
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

describe("remove a worker", () => {
  const withK8s4 = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };

  it("deletes the node's VM, certificates and steps only, the drain first, and changes nothing else but the gate", async () => {
    const { changes, first } = await changeConfig(withK8s4, dev);
    expect(summary(changes.filter((c) => !c.name.includes("k8s-4")))).toEqual(["replace nodes-registered"]);
    const gone = changes.filter((c) => c.name.includes("k8s-4"));
    expect(gone.every((c) => c.op === "delete")).toBe(true);
    expect(summary(gone)).toEqual(expect.arrayContaining(["delete node-k8s-4", "delete kubelet-k8s-4", "delete domain-k8s-4", "delete address-k8s-4"]));
    // Pulumi deletes a resource before what it depends on: the drain (node-k8s-4) before the
    // kubelet and kube-proxy, those before containerd and the VM
    const waitsFor = (name: string) => first.dependsOnNames("command:remote:Command", name);
    expect(waitsFor("node-k8s-4")).toEqual(expect.arrayContaining(["kubelet-k8s-4", "kube-proxy-k8s-4"]));
    expect(waitsFor("kubelet-k8s-4")).toContain("containerd-k8s-4");
    // in a whole destroy the control plane goes too, and the drain is skipped: the step is
    // deleted with the cluster CA's key, which only a whole destroy deletes
    expect(deletedWithOf(first, "node-k8s-4")).toBe("tls:index/privateKey:PrivateKey::cluster-ca");
  }, 60000);

});

describe("etcd snapshots", () => {
  it("a new schedule changes only the snapshot steps, never etcd itself", async () => {
    const { changes } = await changeConfig(dev, { ...dev, etcdSnapshotSchedule: "hourly" });
    expect(summary(changes).sort()).toEqual(["replace etcd-snapshots-k8s-1", "replace etcd-snapshots-k8s-2", "replace etcd-snapshots-k8s-3"]);
  }, 60000);

  it("the runbook says how to restore, with this cluster's names and paths", () => {
    const runbook = renderTree(loadConfig(dev).config!).get("RUNBOOK.md")!;
    const restore = runbook.slice(runbook.indexOf("## Restore etcd from a snapshot"));
    expect(restore).toContain("etcdutl snapshot restore /root/restore.db --name k8s-2 --initial-cluster k8s-1=https://192.168.253.140:2380,k8s-2=https://192.168.253.139:2380,k8s-3=https://192.168.253.141:2380");
  });
});

describe("etcd members and control-plane nodes", () => {
  const k8s4 = "name=k8s-4 ip=192.168.253.142 roles=etcd,control-plane,worker";
  const k8s5 = "name=k8s-5 ip=192.168.253.143 roles=etcd,control-plane,worker";
  const five = { ...dev, nodes: [...(dev.nodes as string[]), k8s4, k8s5] };
  const isNew = (c: Change) => /k8s-[45]/.test(c.name);

  it("adding two members announces and starts them one at a time and never restarts the running members", async () => {
    const { changes, second } = await changeConfig(dev, five);
    // the running members keep their files: how each started is recorded (lastUp), not re-derived
    expect(summary(changes.filter((c) => !isNew(c) && c.type === "command:remote:Command")).sort()).toEqual([
      "replace control-plane-k8s-1", // the apiserver certificate's SANs, --etcd-servers
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace etcd-health", // asks every member
      "replace kube-nginx-k8s-1", // its upstreams: every apiserver
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(summary(changes.filter((c) => !isNew(c) && c.type !== "command:remote:Command")).sort()).toEqual(["replace apiserver", "replace apiserver"]); // its request and certificate
    expect(summary(changes.filter(isNew)).every((x) => x.startsWith("create "))).toBe(true);
    // k8s-4 joins after the running members, k8s-5 after k8s-4; the apiservers restart (one
    // at a time) only once every member runs
    expect(second.dependsOnNames("command:remote:Command", "etcd-k8s-4")).toEqual(expect.arrayContaining(["etcd-k8s-1", "etcd-k8s-2", "etcd-k8s-3"]));
    expect(second.dependsOnNames("command:remote:Command", "etcd-k8s-5")).toContain("etcd-k8s-4");
    expect(second.dependsOnNames("command:remote:Command", "etcd-health")).toEqual(expect.arrayContaining(["etcd-k8s-4", "etcd-k8s-5"]));
    expect(second.dependsOnNames("command:remote:Command", "control-plane-k8s-2")).toEqual(expect.arrayContaining(["control-plane-k8s-1", "etcd-health"]));
    expect(second.dependsOnNames("command:remote:Command", "kube-nginx-k8s-2")).toContain("kube-nginx-k8s-1");
    // each joiner's initial-cluster is the membership at the moment it joins
    const out = await resolvedOutputs((await runProgram(five, { previousOutputs: await resolvedOutputs((await runProgram(dev, { established: [] })).outputs!) })).outputs!);
    const joins = (out.lastUp as LastUp).etcd;
    const peers = ["k8s-1=https://192.168.253.140:2380", "k8s-2=https://192.168.253.139:2380", "k8s-3=https://192.168.253.141:2380"];
    expect(joins["k8s-1"]).toEqual({ cluster: peers.join(","), state: "new" });
    expect(joins["k8s-4"]).toEqual({ cluster: [...peers, "k8s-4=https://192.168.253.142:2380"].join(","), state: "existing" });
    expect(joins["k8s-5"]).toEqual({ cluster: [...peers, "k8s-4=https://192.168.253.142:2380", "k8s-5=https://192.168.253.143:2380"].join(","), state: "existing" });
  }, 90000);

  it("removing two of five members takes each out of etcd through its own member before its etcd stops, and restarts no member", async () => {
    const { changes, first } = await changeConfig(five, dev);
    expect(summary(changes.filter((c) => !isNew(c) && c.type === "command:remote:Command")).sort()).toEqual([
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace etcd-health",
      "replace kube-nginx-k8s-1",
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(changes.filter(isNew).every((c) => c.op === "delete")).toBe(true);
    expect(summary(changes.filter(isNew))).toEqual(expect.arrayContaining(["delete etcd-membership-k8s-4", "delete etcd-k8s-4", "delete etcd-membership-k8s-5", "delete control-plane-k8s-5", "delete node-k8s-5", "delete domain-k8s-5"]));
    // deleted before the member's etcd step (which stops it); skipped in a whole destroy
    expect(first.dependsOnNames("command:remote:Command", "etcd-membership-k8s-4")).toContain("etcd-k8s-4");
    expect(deletedWithOf(first, "etcd-membership-k8s-4")).toBe("tls:index/privateKey:PrivateKey::cluster-ca");
  }, 90000);

  it("a control-plane node without etcd: its apiserver joins the others' certificate and every node's proxy, rolling; etcd is untouched", async () => {
    const withCp = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=control-plane,worker"] };
    const { changes, second } = await changeConfig(dev, withCp);
    expect(summary(changes.filter((c) => !c.name.includes("k8s-4"))).sort()).toEqual([
      "replace apiserver",
      "replace apiserver",
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace kube-nginx-k8s-1",
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(changes.filter((c) => c.name.includes("k8s-4")).every((c) => c.op === "create")).toBe(true);
    expect(changes.some((c) => c.name === "etcd-k8s-4")).toBe(false);
    expect(second.dependsOnNames("command:remote:Command", "kube-nginx-k8s-3")).toContain("kube-nginx-k8s-2");
    // and back: removing it (not the first control-plane node) undoes exactly that
    const back = await changeConfig(withCp, dev);
    expect(summary(back.changes.filter((c) => !c.name.includes("k8s-4"))).sort()).toEqual(summary(changes.filter((c) => !c.name.includes("k8s-4"))).sort());
    expect(back.changes.filter((c) => c.name.includes("k8s-4")).every((c) => c.op === "delete")).toBe(true);
  }, 90000);

  it("etcdRejoin: the member that lost its data is the only step replaced; recorded as its next generation; the following up without it changes nothing", async () => {
    const asked = { ...dev, etcdRejoin: ["k8s-2"] };
    const { changes, outputs } = await changeConfig(dev, asked);
    expect(summary(changes)).toEqual(["replace etcd-k8s-2"]);
    const last = outputs.lastUp as LastUp;
    expect(last.etcdRejoin).toEqual(["k8s-2"]);
    expect(last.etcd["k8s-2"]).toMatchObject({ state: "existing", generation: 2 });
    expect(last.etcd["k8s-1"]).toEqual({ cluster: expect.any(String), state: "new" });
    // the third up reads what the second recorded: without the name, nothing changes
    const second = await runProgram(asked, { previousOutputs: await resolvedOutputs((await runProgram(dev, { established: [] })).outputs!) });
    const third = await runProgram(dev, { previousOutputs: outputs });
    expect(third.error).toBeUndefined();
    expect(summary(diffRuns(second.rec, third.rec))).toEqual([]);
    // and naming it again is refused before anything is registered
    expect(lastUpProblems(loadConfig(asked).config!, last).map((p) => `${p.key}: ${p.message}`)).toEqual(["etcdRejoin: k8s-2 rejoined etcd in the last up; etcdRejoin is a one-time request"]);
    // two of three would leave no quorum to take them out
    const two = loadConfig({ ...dev, etcdRejoin: ["k8s-2", "k8s-3"] }).config!;
    expect(lastUpProblems(two, { ...last, etcdRejoin: undefined }).map((p) => p.key + ": " + p.message)).toEqual([expect.stringContaining("etcdRejoin: rejoining k8s-2, k8s-3 leaves 1 of the 3 members with the data, less than the quorum of 2")]);
    // a name that is no etcd member is refused by preflight
    expect(loadConfig({ ...dev, etcdRejoin: ["k8s-9"] }).errors.map((p) => p.key + ": " + p.message)).toEqual([expect.stringContaining("etcdRejoin: 'k8s-9' is not an etcd member")]);
  }, 120000);

  it("a VM deleted by hand: up refuses until rebuildNodes names it; then only that node's machine and steps are made again, its etcd member rejoins, no membership is touched; the following up changes nothing", async () => {
    const first = await runProgram(dev, { established: [] });
    expect(first.error).toBeUndefined();
    const recorded = await resolvedOutputs(first.outputs!);
    // k8s-2's domain and disk deleted by hand: one line naming the key and the fix, nothing registered
    const refused = await runProgram(dev, { previousOutputs: recorded, goneMachines: ["k8s-2"] });
    expect(String(refused.error)).toContain("error: rebuildNodes: k8s-2 ran after the last up, and now its domain and its disk are gone from libvirt (qemu:///system)");
    expect(String(refused.error)).toContain("fix: name it to make its machine again from the base image (its etcd member rejoins, the node re-registers): pulumi config set --path 'rebuildNodes[0]' k8s-2");
    expect(refused.rec.resources).toEqual([]);

    const asked = { ...dev, rebuildNodes: ["k8s-2"] };
    const second = await runProgram(asked, { previousOutputs: recorded, goneMachines: ["k8s-2"] });
    expect(second.error).toBeUndefined();
    const changes = diffRuns(first.rec, second.rec);
    // exactly k8s-2's machine and every step that runs on it, each replaced
    expect(summary(changes).sort()).toEqual(
      ["volume", "cloudinit", "domain", "ready", "prep", "carryover", "artifacts", "etcd", "etcd-snapshots", "kube-nginx", "containerd", "control-plane", "kubelet", "kube-proxy", "upgrade-drain", "upgrade-uncordon"].map((s) => `replace ${s}-k8s-2`).sort(),
    );
    const replaced = changes.map((c) => c.name);
    // its memberships are kept (a replacement would first drain it, or take its member out)
    expect(replaced).not.toContain("node-k8s-2");
    expect(replaced).not.toContain("etcd-membership-k8s-2");
    expect(second.rec.options.get("command:remote:Command::etcd-membership-k8s-2")?.ignoreChanges).toEqual(["triggers"]);
    expect(second.rec.options.get("command:remote:Command::node-k8s-2")?.ignoreChanges).toEqual(["triggers"]);
    // the old machine's steps are not undone on it: they go with its domain, which is in the
    // engine's delete-before-replace chain of both the disk and the seed (the disk is the root
    // of its own chain, not marked deleted when the seed's chain runs first: the lab run's
    // uncordon step then dialled the gone machine)
    expect(deletedWithOf(second.rec, "kubelet-k8s-2")).toBe("command:local:Command::domain-k8s-2");
    expect(deletedWithOf(second.rec, "upgrade-uncordon-k8s-2")).toBe("command:local:Command::domain-k8s-2");
    const out = await resolvedOutputs(second.outputs!);
    const last = out.lastUp as LastUp;
    expect(last.machines).toEqual({ "k8s-2": 2 });
    expect(last.rebuildNodes).toEqual(["k8s-2"]);
    expect(last.etcd["k8s-2"]).toMatchObject({ state: "existing", generation: 2 });
    expect(last.etcd["k8s-1"]).toEqual({ cluster: expect.any(String), state: "new" });

    // the following up, without the name, on the new machine: nothing changes
    const third = await runProgram(dev, { previousOutputs: out });
    expect(third.error).toBeUndefined();
    expect(summary(diffRuns(second.rec, third.rec))).toEqual([]);
    // naming it again is refused (one-time), as is a node that never ran
    expect(lastUpProblems(loadConfig(asked).config!, last).map((p) => `${p.key}: ${p.message}`)).toEqual(["rebuildNodes: k8s-2 got a new machine in the last up; rebuildNodes is a one-time request"]);
    expect(lastUpProblems(loadConfig(asked).config!, { ...last, rebuildNodes: undefined }, new Set(["k8s-1", "k8s-3"])).map((p) => `${p.key}: ${p.message}`)).toEqual([
      "rebuildNodes: k8s-2 has no machine to make again: the last up did not leave it running",
    ]);
  }, 180000);

  it("a new machine for the first control-plane node re-runs its steps and the cluster-wide ones it runs, and drains nobody", async () => {
    const first = await runProgram(dev, { established: [] });
    const recorded = await resolvedOutputs(first.outputs!);
    const second = await runProgram({ ...dev, rebuildNodes: ["k8s-1"] }, { previousOutputs: recorded });
    expect(second.error).toBeUndefined();
    const changes = diffRuns(first.rec, second.rec);
    expect(changes.filter((c) => c.op !== "replace").map((c) => c.name)).toEqual([]);
    const replaced = changes.map((c) => c.name);
    expect(replaced).toEqual(expect.arrayContaining(["domain-k8s-1", "etcd-k8s-1", "admin-access"]));
    // the memberships run on k8s-1, and none is replaced
    expect(replaced.filter((n) => /^(node|etcd-membership)-/.test(n))).toEqual([]);
    // no other node's machine or steps
    expect(replaced.filter((n) => /k8s-[23]/.test(n))).toEqual([]);
  }, 120000);

  it("refuses what a new machine cannot do: two etcd members at once (no quorum to take them out), a member's new address, a gone member leaving the config", () => {
    const c3 = loadConfig(dev).config!;
    const joined = Object.fromEntries(c3.nodes.map((n) => [n.name, { cluster: c3.nodes.map((m) => `${m.name}=https://${m.ip}:2380`).join(","), state: "new" as const }]));
    const last: LastUp = { etcd: joined, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: c3.versions.kubernetes };
    const two = loadConfig({ ...dev, rebuildNodes: ["k8s-2", "k8s-3"] }).config!;
    expect(lastUpProblems(two, last).map((p) => `${p.key}: ${p.message}`)).toEqual([expect.stringContaining("rebuildNodes: rejoining k8s-2, k8s-3 leaves 1 of the 3 members with the data, less than the quorum of 2")]);
    const moved = loadConfig({ ...dev, nodes: (dev.nodes as string[]).map((n) => n.replace("ip=192.168.253.139", "ip=192.168.253.150")) }).config!;
    expect(lastUpProblems(moved, last).map((p) => `${p.key}: ${p.message}; ${p.fix}`)).toEqual([
      "nodes: k8s-2 is the etcd member https://192.168.253.139:2380, and its address would become 192.168.253.150: the other members know it by that address; keep ip=192.168.253.139 for k8s-2, or remove k8s-2 in one up and add it with the new address in the next",
    ]);
    const gone = [{ node: "k8s-3", domain: false, disk: true }];
    const without = loadConfig({ ...dev, nodes: (dev.nodes as string[]).slice(0, 2) }).config!;
    expect(lostMachineProblems(without, last, gone).map((p) => `${p.key}: ${p.message}`)).toEqual([
      "nodes: k8s-3 leaves the config, and its domain is gone from libvirt: its etcd member cannot take itself out of the cluster without its machine",
    ]);
    // named, or libvirt not answering: nothing to say
    expect(lostMachineProblems(loadConfig({ ...dev, rebuildNodes: ["k8s-3"] }).config!, last, gone)).toEqual([]);
    expect(lostMachineProblems(c3, last, undefined)).toEqual([]);
    expect(lostMachineProblems(c3, last, [{ node: "k8s-3", domain: true, disk: true }])).toEqual([]);
  });

  it("refuses, before changing anything, a removal that would lose etcd's quorum, naming the key and the fix", async () => {
    const first = await runProgram(dev, { established: [] });
    const oneMember = { ...dev, nodes: (dev.nodes as string[]).map((n, i) => (i === 0 ? n : n.replace("roles=etcd,", "roles="))) };
    const second = await runProgram(oneMember, { previousOutputs: await resolvedOutputs(first.outputs!) });
    expect(String(second.error)).toContain("error: nodes: removing k8s-2, k8s-3 from etcd in one up (3 → 1 members) leaves 1 of the 3 members that hold the data; a quorum of 3 is 2");
    expect(String(second.error)).toContain("remove etcd members one at a time");
    expect(second.rec.resources).toEqual([]);
    // one at a time is accepted (with the even-count warning of preflight)
    const twoMembers = { ...dev, nodes: (dev.nodes as string[]).map((n, i) => (i === 2 ? n.replace("roles=etcd,", "roles=") : n)) };
    expect((await runProgram(twoMembers, { previousOutputs: await resolvedOutputs(first.outputs!) })).error).toBeUndefined();
  }, 90000);

  it("refuses moving the first control-plane node, and a Kubernetes downgrade or skipped minor", () => {
    const c = loadConfig(dev).config!;
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: "1.36.0" };
    const moved = loadConfig({ ...dev, nodes: [(dev.nodes as string[])[1], (dev.nodes as string[])[0], (dev.nodes as string[])[2]] }).config!;
    expect(lastUpProblems(moved, last).map((p) => `${p.key}: ${p.message}`)).toEqual([
      expect.stringContaining("nodes: the first control-plane node was k8s-1 and would become k8s-2"),
    ]);
    expect(lastUpProblems(c, last)).toEqual([]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.36.2" }).map((p) => p.key + ": " + p.message)).toEqual([expect.stringContaining("kubernetesVersion: 1.36.0 is older than the 1.36.2")]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.34.3" }).map((p) => p.fix)).toEqual(["upgrade to 1.35.x first (pulumi up), then to 1.36.0"]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.35.4" })).toEqual([]);
  });
});

describe("Kubernetes upgrade", () => {
  it("1.35.4 → 1.36.0 installs the binaries everywhere, then restarts the control plane one node at a time, then the kubelets and kube-proxies, and nothing else", async () => {
    const { changes, second } = await changeConfig({ ...dev, kubernetesVersion: "1.35.4" }, dev);
    const steps = summary(changes.filter((c) => c.type === "command:remote:Command")).sort();
    expect(steps).toEqual(
      ["artifacts", "control-plane", "upgrade-drain", "kubelet", "kube-proxy", "upgrade-uncordon"].flatMap((l) => ["k8s-1", "k8s-2", "k8s-3"].map((n) => `replace ${l}-${n}`)).sort(),
    );
    // no VM, certificate, etcd member, runtime or addon object changes
    expect(summary(changes.filter((c) => c.type !== "command:remote:Command"))).toEqual([]);
    const waits = (s: string) => second.dependsOnNames("command:remote:Command", s);
    expect(waits("control-plane-k8s-1")).toContain("artifacts-k8s-1");
    expect(waits("control-plane-k8s-2")).toContain("control-plane-k8s-1");
    expect(waits("control-plane-k8s-3")).toContain("control-plane-k8s-2");
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waits(`kubelet-${n}`)).toEqual(expect.arrayContaining(["control-plane-k8s-1", "control-plane-k8s-2", "control-plane-k8s-3"]));
      expect(waits(`kube-proxy-${n}`)).toContain(`kubelet-${n}`);
    }
    expect(waits("kubelet-k8s-2")).toContain("kubelet-k8s-1");
    // each node drained before its kubelet restarts, uncordoned after, one node at a time
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waits(`kubelet-${n}`)).toContain(`upgrade-drain-${n}`);
      expect(waits(`upgrade-uncordon-${n}`)).toEqual(expect.arrayContaining([`kubelet-${n}`, `kube-proxy-${n}`]));
    }
    expect(waits("upgrade-drain-k8s-2")).toContain("upgrade-uncordon-k8s-1");
    expect(waits("upgrade-drain-k8s-3")).toContain("upgrade-uncordon-k8s-2");
  }, 90000);

  it("an etcd patch release (its checksum given in artifactChecksums) restarts only the members, one at a time", async () => {
    const next = { ...dev, etcdVersion: "3.6.15", artifactChecksums: [`etcd-v3.6.15-linux-amd64.tar.gz=sha256:${"ab".repeat(32)}`] };
    const { changes, second } = await changeConfig(dev, next);
    expect(summary(changes).sort()).toEqual(["artifacts", "etcd"].flatMap((l) => ["k8s-1", "k8s-2", "k8s-3"].map((n) => `replace ${l}-${n}`)).sort());
    expect(second.dependsOnNames("command:remote:Command", "etcd-k8s-2")).toContain("etcd-k8s-1");
    expect(second.dependsOnNames("command:remote:Command", "etcd-k8s-3")).toContain("etcd-k8s-2");
    // each member saves a snapshot before it stops (the delete half of its replacement)
    const member = hostStepsOf(planCluster(loadConfig(next).config!)).find((s) => s.id === "etcd-k8s-1")!;
    expect(renderDeleteScript(member.plan)).toMatch(/snapshot save "\/var\/lib\/etcd-snapshots\/\$\(date/);
  }, 90000);

  // Found on the real VMs (lab:e2e day two): the replaced artifacts step's delete removed the
  // cached release files and the upload directory — after the new copies had landed there
  // (the step depends on its uploads, so they come first) — and the unchanged files were
  // not copied again: the new step found nothing to install.
  it("air-gapped: a replaced artifacts step gets every file copied again, and its old delete leaves the copies alone", async () => {
    const dir = tmpdir("artifacts-");
    try {
      const base = { ...dev, artifactDir: dir };
      const next = { ...base, etcdVersion: "3.6.15", artifactChecksums: [`etcd-v3.6.15-linux-amd64.tar.gz=sha256:${"ab".repeat(32)}`] };
      for (const c of [base, next]) for (const a of Object.values(loadConfig({ ...c, artifactDir: undefined }).config!.artifacts)) fs.writeFileSync(path.join(dir, a!.fileName), "x");
      const { changes, first, second } = await changeConfig(base, next);
      const copies = (rec: Recorder, n: string) => rec.ofType("command:remote:CopyToRemote").filter((r) => r.name.startsWith(`artifacts-${n}-upload-`));
      for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
        expect(summary(changes, (c) => c.name === `artifacts-${n}`)).toEqual([`replace artifacts-${n}`]);
        const now = copies(second, n);
        expect(now.length).toBeGreaterThan(3);
        // every copy the new step takes is made in this up: new (etcd 3.6.15) or made again
        for (const cp of now) expect(summary(changes, (c) => c.name === cp.name)).toEqual([expect.stringMatching(/^(create|replace) /)]);
        const taken = [...(second.named(`artifacts-${n}`, "command:remote:Command").inputs.stdin as string).matchAll(/^take (\S+) /gm)].map((m) => `${UPLOAD_DIR}/${m[1]}`);
        expect(taken.sort()).toEqual(now.map((cp) => cp.inputs.remotePath as string).sort());
        // the delete that runs is the one the first up recorded: it removes no copy
        const oldDelete = deleteScriptOf(first.named(`artifacts-${n}`, "command:remote:Command").inputs.delete as string);
        const removed = oldDelete.split("\n").filter((l) => l.startsWith("rm -rf -- ")).flatMap((l) => l.slice("rm -rf -- ".length).split(" ").map((p) => p.replace(/^'|'$/g, "")));
        expect(removed.length).toBeGreaterThan(5);
        for (const p of removed) for (const t of taken) expect(t === p || t.startsWith(p.replace(/\/?$/, "/"))).toBe(false);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90000);
});

describe("a lab made by the previous version of this program moves to the supported releases", () => {
  // its defaults: Kubernetes 1.36.0, etcd 3.6.5, containerd 2.2.0, runc 1.3.3, crictl 1.35.0,
  // CNI plugins 1.8.0; its lastUp recorded no releases
  const previous = { ...dev, etcdVersion: "3.6.5", containerdVersion: "2.2.0", runcVersion: "1.3.3", crictlVersion: "1.35.0", cniPluginsVersion: "1.8.0" };
  const asRecordedByTheOldProgram = (o: Record<string, unknown>) => {
    const { releases: _dropped, ...lastUp } = o.lastUp as LastUp;
    return { ...o, lastUp };
  };

  it("in one up: new binaries everywhere, etcd one member at a time, each node drained before its runtime restarts and uncordoned after, one node at a time", async () => {
    expect(lastUpProblems(loadConfig(dev).config!, asRecordedByTheOldProgram({ lastUp: { etcd: {}, controlPlane: ["k8s-1"], kubernetesVersion: "1.36.0" } }).lastUp as LastUp)).toEqual([]);
    const { changes, second } = await changeConfig(previous, dev, undefined, asRecordedByTheOldProgram);
    const nodes = ["k8s-1", "k8s-2", "k8s-3"];
    expect(summary(changes).sort()).toEqual(
      ["artifacts", "etcd", "containerd", "upgrade-drain", "upgrade-uncordon"].flatMap((l) => nodes.map((n) => `replace ${l}-${n}`)).sort(),
    );
    const waits = (s: string) => second.dependsOnNames("command:remote:Command", s);
    // etcd member by member (each saves a snapshot before it stops: the etcd upgrade test)
    expect(waits("etcd-k8s-2")).toContain("etcd-k8s-1");
    expect(waits("etcd-k8s-3")).toContain("etcd-k8s-2");
    for (const n of nodes) {
      expect(waits(`containerd-${n}`)).toEqual(expect.arrayContaining([`artifacts-${n}`, `upgrade-drain-${n}`]));
      expect(waits(`upgrade-uncordon-${n}`)).toEqual(expect.arrayContaining([`kubelet-${n}`, `kube-proxy-${n}`]));
    }
    // one node out of service at a time: the next drain waits for the previous uncordon
    expect(waits("upgrade-drain-k8s-2")).toContain("upgrade-uncordon-k8s-1");
    expect(waits("upgrade-drain-k8s-3")).toContain("upgrade-uncordon-k8s-2");
    // the kubelet (same release) is not restarted, and nothing but host steps changes
    expect(changes.filter((c) => c.type !== "command:remote:Command")).toEqual([]);
  }, 90000);

  it("records the releases, so that the next up rolls only what moves", async () => {
    const { outputs } = await changeConfig(previous, dev, undefined, asRecordedByTheOldProgram);
    const c = loadConfig(dev).config!;
    expect((outputs.lastUp as LastUp).releases).toEqual({ etcd: c.versions.etcd, containerd: c.versions.containerd, runc: c.versions.runc });
    const established = new Set(["k8s-1", "k8s-2", "k8s-3"]);
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: "1.36.0", releases: { etcd: "3.6.14", containerd: "2.3.5", runc: "1.5.1" } };
    const chain = (l: LastUp) => planCluster(c, { established, lastUp: l }).edges.filter((e) => e.after.startsWith("upgrade-drain-") && e.before.startsWith("upgrade-uncordon-")).length;
    expect(chain(last)).toBe(0);
    expect(chain({ ...last, releases: { ...last.releases!, runc: "1.4.3" } })).toBe(2);
    expect(chain({ etcd: last.etcd, controlPlane: last.controlPlane, kubernetesVersion: last.kubernetesVersion })).toBe(2);
  }, 90000);

  it("refuses etcd 3.7 before the cluster's etcd is recorded, an etcd minor skipped, and an etcd downgrade", () => {
    const with137 = { ...dev, kubernetesVersion: "1.37.2", etcdVersion: "3.7.1", crictlVersion: "1.37.0", artifactChecksums: [`kubernetes-server-linux-amd64.tar.gz=sha256:${"a".repeat(64)}`, `kubernetes-node-linux-amd64.tar.gz=sha256:${"b".repeat(64)}`, `etcd-v3.7.1-linux-amd64.tar.gz=sha256:${"c".repeat(64)}`] };
    const c = loadConfig(with137).config!;
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1"], kubernetesVersion: "1.36.0" };
    const keys = (l: LastUp, cc = c) => lastUpProblems(cc, l).map((p) => `${p.key}: ${p.fix}`);
    expect(keys(last)).toEqual(["etcdVersion: run `pulumi up` once with etcdVersion 3.6.x (it records the releases), then move to 3.7"]);
    expect(keys({ ...last, releases: { etcd: "3.6.14", containerd: "2.3.5", runc: "1.5.1" } })).toEqual([]);
    expect(keys({ ...last, releases: { etcd: "3.5.21", containerd: "2.3.5", runc: "1.5.1" } })).toEqual(["etcdVersion: upgrade etcd to 3.6.x first (pulumi up), then to 3.7.1"]);
    expect(keys({ ...last, releases: { etcd: "3.6.15", containerd: "2.3.5", runc: "1.5.1" } }, loadConfig(dev).config!)).toEqual([
      "etcdVersion: set etcdVersion back to 3.6.15 (or a later patch), or restore a snapshot into a new cluster (RUNBOOK.md)",
    ]);
    // and etcd 3.7 with Kubernetes 1.36 is refused by the config's own preflight
    expect(loadConfig({ ...dev, etcdVersion: "3.7.1", artifactChecksums: [`etcd-v3.7.1-linux-amd64.tar.gz=sha256:${"c".repeat(64)}`] }).errors.map((e) => e.key)).toEqual(["etcdVersion"]);
  });
});

describe("steps whose delete ends a membership", () => {
  // A replaced step runs its old delete: for these, `etcdctl member remove` or a drain and
  // the Node's deletion. A new version of their scripts must re-run them in place instead.
  it("are updated in place, not replaced, when a new version of the program changes their scripts", async () => {
    const etcdPlan = jest.requireActual("../../components/etcd/plan");
    const cpPlan = jest.requireActual("../../components/worker/node-lifecycle");
    // (captured before the spies: the imported names resolve to the spies afterwards)
    const originals = { etcd: etcdPlan.planEtcdMembershipOf, node: cpPlan.planNodeMembership };
    const older = (f: (...a: any[]) => any) => (...a: any[]) => {
      const p = f(...a);
      return { ...p, activate: [...p.activate, "# an older version"], deactivate: [...p.deactivate, "# an older version"] };
    };
    const spies = [
      jest.spyOn(etcdPlan, "planEtcdMembershipOf").mockImplementation(older(originals.etcd) as any),
      jest.spyOn(cpPlan, "planNodeMembership").mockImplementation(older(originals.node) as any),
    ];
    let changes: Change[];
    try {
      ({ changes } = await changeConfig(dev, dev, () => spies.forEach((s) => s.mockRestore())));
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const steps = changes.filter((c) => c.type === "command:remote:Command");
    expect(summary(steps).sort()).toEqual(
      ["k8s-1", "k8s-2", "k8s-3"].flatMap((n) => [`update etcd-membership-${n}`, `update node-${n}`]).sort(),
    );
  }, 90000);
});

describe("the upgrade steps spread over the control-plane nodes", () => {
  // A stack made when the first control-plane node ran every node's upgrade drain and uncordon:
  // those that move to another node are replaced (their delete does nothing; their create
  // drains only a node that runs another release: day-two-scripts), the memberships stay.
  it("on a stack made when the first node ran them all, replaces only the moved upgrade steps", async () => {
    const lifecycle = jest.requireActual("../../components/worker/node-lifecycle");
    const original = lifecycle.upgradeRunner;
    const spy = jest.spyOn(lifecycle, "upgradeRunner").mockImplementation(((c: { adminNode: unknown }) => c.adminNode) as any);
    let changes: Change[];
    try {
      ({ changes } = await changeConfig(dev, dev, () => spy.mockRestore()));
    } finally {
      spy.mockRestore();
    }
    expect(lifecycle.upgradeRunner).toBe(original);
    expect(summary(changes).sort()).toEqual(["upgrade-drain-k8s-2", "upgrade-drain-k8s-3", "upgrade-uncordon-k8s-2", "upgrade-uncordon-k8s-3"].map((n) => `replace ${n}`).sort());
    const steps = hostStepsOf(planCluster(loadConfig(dev).config!));
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(steps.find((x) => x.id === `upgrade-drain-${n}`)!.node).toBe(n);
      expect(steps.find((x) => x.id === `node-${n}`)!.node).toBe("k8s-1");
    }
  }, 90000);
});

describe("drain around a kubelet's upgrade", () => {
  const c = loadConfig(dev).config!;

  it("on an upgrade, drains one running node at a time; otherwise adds no order between nodes", () => {
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: "1.35.4", releases: { etcd: c.versions.etcd, containerd: c.versions.containerd, runc: c.versions.runc } };
    const established = new Set(["k8s-1", "k8s-2", "k8s-3"]);
    const chain = (l: LastUp) => planCluster(c, { established, lastUp: l }).edges.filter((e) => e.after.startsWith("upgrade-drain-") && e.before.startsWith("upgrade-uncordon-")).map((e) => `${e.after} after ${e.before}`);
    expect(chain(last)).toEqual(["upgrade-drain-k8s-2 after upgrade-uncordon-k8s-1", "upgrade-drain-k8s-3 after upgrade-uncordon-k8s-2"]);
    expect(chain({ ...last, kubernetesVersion: "1.36.0" })).toEqual([]);
  });
});
