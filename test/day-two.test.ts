// Day two through `pulumi up`: each scenario runs the program twice under the stand-in
// engine (the first `up`, then the changed config on the cluster it left running) and
// asserts the exact set of resources created, updated, replaced and deleted.
import { changeConfig, summary } from "./two-runs";
import { stackConfig } from "./harness";

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
