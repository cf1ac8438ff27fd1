// Addons: every object validates against the Kubernetes OpenAPI schemas (kubernetes-models),
// carries the cluster's values, and is applied through the explicit provider, in order.
import * as path from "path";
import { loadConfig, imageRegistry } from "../../components/config";
import { K8sObject, addonImageRefs, apiReachableScript, corefile, planAddons, resourceName } from "../../components/addons/plan";
import { controllerManagerFlags } from "../../components/control-plane/plan";
import { planPki } from "../../components/pki";
import { planNodePrep } from "../../components/node-prep/prep";
import { planOf, runProgram, stackConfig, waitsFor } from "../harness";
import { run } from "../tools";

const dev = stackConfig("dev");
const cfg = (v: Record<string, unknown> = {}) => loadConfig({ ...dev, ...v }).config!;
const all = (groups: ReturnType<typeof planAddons>) => groups.flatMap((g) => g.objects);
const find = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;

/** Schema problems of each object (kubernetes-models, run as an ES module in a child process). */
function schemaProblems(objs: K8sObject[]): string[] {
  const r = run("node", [path.join(__dirname, "..", "k8s-validate.mjs")], JSON.stringify(objs));
  if (r.status !== 0) throw new Error(`validator failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("addon objects", () => {
  it.each([["weave"], ["flannel"]])("with %s: every object validates against the OpenAPI schema", (cni) => {
    const objs = all(planAddons(cfg({ cni, dashboardLoginRole: "cluster-admin", headlamp: true })));
    expect(objs.length).toBeGreaterThan(25);
    expect(schemaProblems(objs)).toEqual([]);
    const broken = JSON.parse(JSON.stringify(find(objs, "Deployment", "coredns")));
    broken.spec.replicas = "two";
    expect(schemaProblems([broken])).toHaveLength(1); // the validator can fail
  });

  it("binds the kubelet API to the same user as the apiserver's kubelet-client certificate", () => {
    const c = cfg();
    const binding = find(all(planAddons(c)), "ClusterRoleBinding", "system:kube-apiserver") as any;
    const cert = planPki(c).certs.find((x) => x.id === "apiserver-kubelet-client")!;
    expect(binding.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: cert.commonName }]);
    const role = find(all(planAddons(c)), "ClusterRole", "system:kube-apiserver-to-kubelet") as any;
    expect(role.rules[0].resources).toEqual(expect.arrayContaining(["nodes/proxy", "nodes/log", "nodes/stats"]));
  });

  it("gives weave the pod CIDR as IPALLOC_RANGE", () => {
    const c = cfg({ podCidr: "172.20.0.0/16" });
    const ds = find(all(planAddons(c)), "DaemonSet", "weave-net") as any;
    const weave = ds.spec.template.spec.containers.find((x: { name: string }) => x.name === "weave");
    expect(weave.env).toContainEqual({ name: "IPALLOC_RANGE", value: "172.20.0.0/16" });
    expect(weave.image).toBe(c.images.weaveKube);
    expect(weave.image).toMatch(/^docker\.io\/rajchaudhuri\/weave-kube:/);
  });

  it("sets weave's iptables backend on every weave container, the one node prep requires", () => {
    const ds = find(all(planAddons(cfg())), "DaemonSet", "weave-net") as any;
    const every = [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers];
    expect(every.map((x: { name: string }) => x.name).sort()).toEqual(["weave", "weave-init", "weave-npc"]);
    for (const x of every) expect({ c: x.name, env: x.env.filter((e: { name: string }) => e.name === "IPTABLES_BACKEND") }).toEqual({ c: x.name, env: [{ name: "IPTABLES_BACKEND", value: "nft" }] });
    // the value prep checks the node against
    expect(planNodePrep(cfg(), cfg().nodes[0]).activate.join("\n")).toContain("weave-net uses the nf_tables backend");
  });

  it("gives flannel the pod CIDR and a vxlan backend, and makes the controller-manager allocate node CIDRs", () => {
    const c = cfg({ cni: "flannel", podCidr: "172.20.0.0/16" });
    const cm = find(all(planAddons(c)), "ConfigMap", "kube-flannel-cfg") as any;
    expect(JSON.parse(cm.data["net-conf.json"])).toMatchObject({ Network: "172.20.0.0/16", Backend: { Type: "vxlan" } });
    expect(controllerManagerFlags(c)["allocate-node-cidrs"]).toBe(true);
    expect((find(all(planAddons(c)), "DaemonSet", "kube-flannel-ds") as any).spec.template.spec.containers[0].args).toContain("--kube-subnet-mgr");
  });

  it("serves CoreDNS on the cluster DNS IP with two replicas spread over nodes, forwarding to the real upstream", () => {
    const c = cfg({ serviceCidr: "10.32.0.0/16", clusterDomain: "lab.internal" });
    const objs = all(planAddons(c));
    expect((find(objs, "Service", "kube-dns") as any).spec.clusterIP).toBe("10.32.0.10");
    const d = find(objs, "Deployment", "coredns") as any;
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.dnsPolicy).toBe("Default");
    expect(d.spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe("kubernetes.io/hostname");
    const cf = corefile(c);
    expect(cf).toContain("kubernetes lab.internal in-addr.arpa ip6.arpa");
    expect(cf).toContain("forward . /etc/resolv.conf");
    expect(cf).not.toContain("127.0.0.53");
  });

  it("makes the dashboard login read-only unless config asks for cluster-admin, with a long-lived token", () => {
    const role = (v: Record<string, unknown>) => (find(all(planAddons(cfg(v))), "ClusterRoleBinding", "dashboard-login") as any).roleRef.name;
    expect(role({})).toBe("view");
    expect(role({ dashboardLoginRole: "cluster-admin" })).toBe("cluster-admin");
    const token = find(all(planAddons(cfg())), "Secret", "dashboard-login-token") as any;
    expect(token.type).toBe("kubernetes.io/service-account-token");
    expect(token.metadata.annotations["kubernetes.io/service-account.name"]).toBe("dashboard-login");
    // the provider would wait a fixed 5 s for the token controller (a first up failed so on the lab)
    expect(token.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
  });

  it("turns the dashboard's auto refresh off on emulated guests (a list slower than the refresh never shows) and keeps upstream's settings elsewhere", () => {
    const settings = (v: Record<string, unknown>) => (find(all(planAddons(cfg(v))), "ConfigMap", "kubernetes-dashboard-settings") as any).data;
    // hardware-virtualized guests: no data, so the dashboard uses its own defaults
    expect(settings({ domainType: "kvm" })).toBeUndefined();
    const data = settings({ domainType: "qemu" });
    expect(Object.keys(data)).toEqual(["_global"]);
    const global = JSON.parse(data._global);
    expect(global).toMatchObject({ resourceAutoRefreshTimeInterval: 0, logsAutoRefreshTimeInterval: 0 });
    // the key replaces every default, so every setting is there with upstream's value
    expect(global).toEqual({ clusterName: "", itemsPerPage: 10, labelsLimit: 3, logsAutoRefreshTimeInterval: 0, resourceAutoRefreshTimeInterval: 0, disableAccessDeniedNotifications: false, defaultNamespace: "default", namespaceFallbackList: ["default"] });
  });

  it("offers Headlamp with a read-only login account, and the images the enabled addons use are exactly those preflight checks", async () => {
    const { imagesInUse } = await import("../../components/config");
    const c = cfg({ headlamp: true });
    const groups = planAddons(c);
    expect(groups.map((g) => g.name)).toEqual(["rbac", "cni", "coredns", "dashboard", "headlamp"]);
    const objs = all(groups);
    expect((find(objs, "ClusterRoleBinding", "headlamp-login") as any).roleRef.name).toBe("view");
    expect((find(objs, "Deployment", "headlamp") as any).spec.template.spec.containers[0].image).toBe("ghcr.io/headlamp-k8s/headlamp:v0.39.0");
    for (const v of [{ headlamp: true }, {}, { cni: "flannel", dashboard: false }]) {
      const cc = cfg(v);
      expect(imagesInUse(cc).filter((i) => i !== cc.registry.pauseImage).sort()).toEqual(addonImageRefs(planAddons(cc)));
    }
  });

  it("leaves out what config turns off", () => {
    const names = planAddons(cfg({ coredns: false, dashboard: false })).map((g) => g.name);
    expect(names).toEqual(["rbac", "cni"]);
  });

  it("routes every image through a configured registry mirror, and warns about a registry without one", () => {
    const mirrors = ["registry.k8s.io=https://m.lab/k8s", "docker.io=https://m.lab/hub", "ghcr.io=https://m.lab/ghcr"];
    for (const cni of ["weave", "flannel"]) {
      const r = loadConfig({ ...dev, cni, registryMirrors: mirrors });
      expect(r.warnings).toEqual([]);
      const c = r.config!;
      const images = [...addonImageRefs(planAddons(c)), c.registry.pauseImage];
      expect(images.length).toBeGreaterThan(4);
      for (const image of images) expect(Object.keys(c.registry.mirrors)).toContain(imageRegistry(image));
    }
    const partial = loadConfig({ ...dev, registryMirrors: ["registry.k8s.io=https://m.lab/k8s"] });
    expect(partial.warnings.map((w) => w.message)).toEqual(["no mirror for docker.io: images from it are pulled directly"]);
    const flannel = loadConfig({ ...dev, cni: "flannel", registryMirrors: ["registry.k8s.io=https://m.lab/k8s"] });
    expect(flannel.warnings.map((w) => w.message)).toEqual(["no mirror for docker.io: images from it are pulled directly", "no mirror for ghcr.io: images from it are pulled directly"]);
  });

  it("lets config replace an image", () => {
    const c = cfg({ imageOverrides: ["coredns=registry.lab/coredns:v1.12.1"] });
    expect(addonImageRefs(planAddons(c))).toContain("registry.lab/coredns:v1.12.1");
    expect(loadConfig({ ...dev, imageOverrides: ["dns=x"] }).errors[0]).toMatchObject({ key: "imageOverrides", message: "'dns' is not an image name" });
  });
});

describe("the API gate on the machine running Pulumi", () => {
  it("passes once the endpoint accepts three connections in a row, and names the endpoint when it never does", async () => {
    const net = await import("net");
    const server = net.createServer((sock) => sock.end());
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as import("net").AddressInfo).port;
    let accepted = 0;
    server.on("connection", () => accepted++);
    const bash = (script: string) => import("child_process").then((cp) => new Promise<{ code: number | null; stderr: string }>((ok) => {
      const p = cp.spawn("bash", ["-s"], { stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      p.stderr.on("data", (d) => (stderr += d));
      p.on("close", (code) => ok({ code, stderr }));
      p.stdin.end(script);
    }));
    const up = await bash(apiReachableScript(`https://127.0.0.1:${port}`));
    expect(up.code).toBe(0);
    expect(accepted).toBe(3);
    server.close();
    const down = await bash(apiReachableScript(`https://127.0.0.1:${port}`, 3));
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`the Kubernetes API at 127.0.0.1:${port} does not answer from this machine after 3 s`);
    expect(run("shellcheck", ["-s", "bash", "-"], apiReachableScript("https://10.0.0.1:6443")).status).toBe(0);
  });
});

describe("addons under mocks", () => {
  let rec: import("../../tools/engine").Recorder;
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    const r = await runProgram(dev);
    expect(r.error).toBeUndefined();
    rec = r.rec;
    outputs = r.outputs!;
  });

  it("applies every planned object as a typed resource, through the explicit provider only", () => {
    const planned = all(planAddons(cfg()));
    const k8sResources = rec.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8sResources).toHaveLength(planned.length);
    for (const r of k8sResources) {
      const provider = rec.options.get(`${r.type}::${r.name}`)?.provider as { __name?: string } | undefined;
      expect({ name: r.name, provider: provider?.__name }).toEqual({ name: r.name, provider: "k8s-lab-api" });
    }
    // no invoke but the probe of the machines (a k8s.yaml expansion would show here)
    expect(rec.invokes.filter((t) => t !== "command:local:run")).toEqual([]);
  });

  it("builds the provider from the admin kubeconfig as a secret, and lets destroy finish without the cluster", () => {
    const p = rec.named("k8s-lab-api", "pulumi:providers:kubernetes");
    expect(p.secretPaths).toContain("kubeconfig");
    expect(p.inputs.kubeconfig).toContain("client-key-data");
    expect([true, "true"]).toContain(p.inputs.deleteUnreachable);
    // a slow lab apiserver needs longer than the provider's default 32 s (real run)
    const settings = typeof p.inputs.kubeClientSettings === "string" ? JSON.parse(p.inputs.kubeClientSettings) : p.inputs.kubeClientSettings;
    expect(settings.timeout).toBeGreaterThanOrEqual(120);
  });

  it("applies the CNI before CoreDNS and the dashboard, and everything after the nodes registered", () => {
    const plan = planOf(dev);
    const deps = (name: string) => waitsFor(plan, name);
    expect(deps("deployment-kube-system-coredns")).toContain("daemonset-kube-system-weave-net");
    expect(deps("deployment-kubernetes-dashboard-kubernetes-dashboard")).toContain("daemonset-kube-system-weave-net");
    // every object waits for the gate, which waits for every node registered
    expect(deps("daemonset-kube-system-weave-net").sort()).toEqual(["api-reachable", "configmap-kube-system-weave-net"]);
    expect(deps("api-reachable")).toContain("nodes-registered");
    // the provider is configured only after the gate: configured earlier, it caches
    // "cluster unreachable" for the whole run (a real first up failed every addon so)
    expect(deps("k8s-lab-api")).toEqual(["api-reachable"]);
  });

  it("makes weave-net's own ConfigMap exist before its DaemonSet, shared with weave as a server-side patch", () => {
    // weave's launch.sh reads ConfigMap kube-system/weave-net (its UID is the cluster's ID)
    // before any of weave creates it: without it, every weave-net pod of a new lab exited once
    // (the weave lab of 2026-12-07: "Unable to fetch ConfigMap kube-system/weave-net to infer
    // unique cluster ID", weaveworks/weave#3990)
    const plan = planOf(dev);
    const planned = all(planAddons(cfg()));
    const weaveCm = find(planned, "ConfigMap", "weave-net") as any;
    expect(weaveCm.metadata.namespace).toBe("kube-system");
    expect(weaveCm.data).toBeUndefined();
    expect(waitsFor(plan, "daemonset-kube-system-weave-net")).toContain("configmap-kube-system-weave-net");
    expect(waitsFor(plan, "deployment-kube-system-coredns")).toContain("configmap-kube-system-coredns");
    // weave writes its peer list into it, and on a lab of an earlier version weave made it: a
    // plain ConfigMap resource would fail there with AlreadyExists; the patch resource creates
    // it when absent and takes it over when present. Only that object is a patch.
    const patches = rec.resources.filter((r) => r.type.endsWith("Patch"));
    expect(patches.map((r) => `${r.type}::${r.name}`)).toEqual(["kubernetes:core/v1:ConfigMapPatch::configmap-kube-system-weave-net"]);
    expect(rec.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap").length).toBeGreaterThanOrEqual(2);
    // weave's Role lets it read and update exactly that ConfigMap
    const role = find(planned, "Role", "weave-net") as any;
    expect(role.rules).toContainEqual({ apiGroups: [""], resources: ["configmaps"], resourceNames: ["weave-net"], verbs: ["get", "update"] });
  });

  it("creates each token Secret after its ServiceAccount and each namespaced object after its Namespace", () => {
    // headlamp too: a second login token in a second planned namespace
    const plan = planOf({ ...dev, headlamp: true });
    const planned = all(planAddons(cfg({ headlamp: true })));
    const nameOf = (kind: string, name: string, ns?: string) => resourceName(planned.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns)!);
    const tokens = planned.filter((o) => o.kind === "Secret" && o.type === "kubernetes.io/service-account-token");
    expect(tokens.map((o) => o.metadata.namespace).sort()).toEqual(["headlamp", "kubernetes-dashboard"]);
    for (const t of tokens) {
      const sa = (t.metadata.annotations as Record<string, string>)["kubernetes.io/service-account.name"];
      expect(waitsFor(plan, resourceName(t))).toContain(nameOf("ServiceAccount", sa, t.metadata.namespace));
    }
    const namespaces = new Set(planned.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
    const inPlannedNs = planned.filter((o) => o.metadata.namespace && namespaces.has(o.metadata.namespace));
    expect(inPlannedNs.length).toBeGreaterThan(10);
    for (const o of inPlannedNs) expect({ o: resourceName(o), deps: waitsFor(plan, resourceName(o)) }).toEqual({ o: resourceName(o), deps: expect.arrayContaining([nameOf("Namespace", o.metadata.namespace!)]) });
  });

  it("tells how to open the dashboard on localhost only", () => {
    const d = outputs.dashboard as { portForward: string; url: string; token: string };
    expect(d.portForward).toContain("port-forward svc/kubernetes-dashboard 8443:443");
    expect(d.url).toBe("https://localhost:8443/");
    expect(JSON.stringify(d)).not.toMatch(/0\.0\.0\.0|accept-hosts/);
    expect(d.token).toContain("dashboard-login-token");
  });
});
