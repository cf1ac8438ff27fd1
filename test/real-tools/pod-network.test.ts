// cni: bridge, the hard way: per-node pod subnets, CNI config, routes between nodes.
import * as fc from "fast-check";
import { loadConfig, parseCidr, podSubnetOf, contains, overlaps } from "../../components/config";
import { BRIDGE_CONFLIST, BRIDGE_NAME, POD_ROUTES_UNIT, ROUTE_PROTO, planPodBridge, planPodNetwork, podRoutes, podSubnets } from "../../components/worker/pod-network";
import { renderDeleteScript } from "../../components/host/plan";
import { planOf, runProgram, stackConfig, waitsFor } from "../harness";
import { systemdVerify } from "../tools";

const dev: Record<string, unknown> = { ...stackConfig("dev"), cni: "bridge" };
const HOST_STEP = "command:remote:Command";

describe("bridge pod network", () => {
  const c = loadConfig(dev).config!;

  it("gives node .N the pod subnet N: inside the pod CIDR, one per node, none shared", () => {
    expect(podSubnets(c)).toEqual({ "k8s-1": "10.244.140.0/24", "k8s-2": "10.244.139.0/24", "k8s-3": "10.244.141.0/24" });
  });

  it("keeps every node's subnet when other nodes come and go (property)", () => {
    const pod = parseCidr("10.244.0.0/16")!;
    const net = parseCidr("192.168.253.0/24")!;
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 2, max: 254 }), { minLength: 1, maxLength: 20 }), (hosts) => {
        const subnets = hosts.map((h) => podSubnetOf(pod, net, `192.168.253.${h}`)!);
        expect(new Set(subnets).size).toBe(hosts.length);
        for (const s of subnets) expect(contains(pod, s.split("/")[0])).toBe(true);
        for (let i = 0; i < subnets.length; i++) for (let j = i + 1; j < subnets.length; j++) expect(overlaps(parseCidr(subnets[i])!, parseCidr(subnets[j])!)).toBe(false);
        // the same host gets the same subnet whatever else is in the list
        expect(podSubnetOf(pod, net, `192.168.253.${hosts[0]}`)).toBe(subnets[0]);
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it("refuses a pod CIDR without a /24 for a node's host number, naming the node", () => {
    const r = loadConfig({ ...dev, podCidr: "10.244.0.0/20" });
    expect(r.config).toBeUndefined();
    expect(r.errors.map((e) => e.key + ": " + e.message).join("\n")).toMatch(/podCidr: 10\.244\.0\.0\/20 has no \/24 numbered like k8s-1's address 192\.168\.253\.140/);
  });

  it("routes every other kubelet node's subnet via its node, and writes CNI config only where a kubelet runs", () => {
    // a control-plane-only node runs a kubelet (tainted), an etcd-only node none
    const mixed = loadConfig({ ...dev, nodes: [...(dev.nodes as string[]), "name=cp-4 ip=192.168.253.150 roles=control-plane", "name=etcd-5 ip=192.168.253.151 roles=etcd"] }).config!;
    const [cp, etcd] = [mixed.nodes.find((n) => n.name === "cp-4")!, mixed.nodes.find((n) => n.name === "etcd-5")!];
    const all = ["10.244.140.0/24 via 192.168.253.140", "10.244.139.0/24 via 192.168.253.139", "10.244.141.0/24 via 192.168.253.141", "10.244.150.0/24 via 192.168.253.150"];
    expect(podRoutes(mixed, etcd).map((r) => `${r.subnet} via ${r.via}`)).toEqual(all);
    expect(podRoutes(mixed, cp).map((r) => `${r.subnet} via ${r.via}`)).toEqual(all.slice(0, 3));
    for (const n of mixed.nodes) expect(planPodNetwork(mixed, n).files.map((f) => f.path)).toEqual([POD_ROUTES_UNIT]);
    const conf = JSON.parse(planPodBridge(mixed, mixed.nodes[0]).files.find((f) => f.path === BRIDGE_CONFLIST)!.content as string);
    expect(conf.plugins[0].ipam.ranges).toEqual([[{ subnet: "10.244.140.0/24" }]]);
    expect(planPodBridge(mixed, cp).files.map((f) => f.path)).toEqual([BRIDGE_CONFLIST]);
  });

  it("keeps the bridge out of the routes step: its delete (a node came or went) removes routes, never the pods' bridge", () => {
    const grown = loadConfig({ ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] }).config!;
    const k8s1 = c.nodes[0];
    // a node joining changes k8s-1's routes and nothing of its own pod network
    expect(planPodNetwork(grown, k8s1)).not.toEqual(planPodNetwork(c, k8s1));
    expect(planPodBridge(grown, k8s1)).toEqual(planPodBridge(c, k8s1));
    const routesDelete = renderDeleteScript(planPodNetwork(c, k8s1));
    expect(routesDelete).toContain("disable -q --now k8s-lab-pod-routes");
    expect(routesDelete).not.toContain(BRIDGE_NAME);
    expect(routesDelete).not.toContain(BRIDGE_CONFLIST);
    expect(renderDeleteScript(planPodBridge(c, k8s1))).toContain(`link del ${BRIDGE_NAME}`);
  });

  it("writes a routes unit systemd accepts, that removes its routes as a set", () => {
    const unit = planPodNetwork(c, c.nodes[0]).files.find((f) => f.path === POD_ROUTES_UNIT)!.content as string;
    expect(unit).toContain(`ExecStop=-/usr/sbin/ip route flush proto ${ROUTE_PROTO}`);
    const r = systemdVerify({ "k8s-lab-pod-routes.service": unit }, ["/usr/sbin/ip"]);
    expect(r.stderr + r.stdout).toBe("");
  });

  it("ships the routes and the bridge configuration on every node before its kubelet, and no CNI add-on", async () => {
    const { rec, error } = await runProgram(dev);
    expect(error).toBeUndefined();
    expect(rec.ofType(HOST_STEP).filter((r) => r.name.startsWith("pod-network-")).map((r) => r.name).sort()).toEqual(["pod-network-k8s-1", "pod-network-k8s-2", "pod-network-k8s-3"]);
    expect(rec.ofType(HOST_STEP).filter((r) => r.name.startsWith("pod-bridge-")).map((r) => r.name).sort()).toEqual(["pod-bridge-k8s-1", "pod-bridge-k8s-2", "pod-bridge-k8s-3"]);
    const plan = planOf(dev);
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waitsFor(plan, `kubelet-${n}`)).toContain(`pod-bridge-${n}`);
      // a stack from before the split: the routes step's replacement deletes the old step
      // (which held the bridge configuration) before the bridge step writes it
      expect(waitsFor(plan, `pod-bridge-${n}`)).toContain(`pod-network-${n}`);
    }
    expect(rec.resources.filter((r) => r.type.startsWith("kubernetes:apps/v1:DaemonSet"))).toEqual([]);
    expect(rec.resources.filter((r) => r.type.startsWith("kubernetes:apps/v1:Deployment")).map((r) => r.name)).toContain("deployment-kube-system-coredns");
  });
});
