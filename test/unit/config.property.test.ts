// Property: whatever the config — valid, subtly wrong or nonsense — the program either
// registers resources, or stops with a RunError of one 'error: KEY: …; fix: …' line per
// problem and registers nothing. Never a crash, a stack trace or a half-built graph.
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, stackConfig } from "../harness";

const dev = stackConfig("dev");

const octet = fc.integer({ min: 0, max: 255 });
const ip = fc.oneof(
  fc.tuple(fc.constantFrom(139, 140, 141, 142, 150, 0, 1, 255), fc.constant(0)).map(([d]) => `192.168.253.${d}`),
  fc.tuple(octet, octet, octet, octet).map((o) => o.join(".")),
  fc.constantFrom("192.168.253", "not-an-ip", ""),
);
const name = fc.oneof(fc.constantFrom("k8s-1", "k8s-2", "k8s-3", "k8s_1", "K8S", "-bad", "node.1", ""), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/));
const roles = fc.subarray(["etcd", "control-plane", "worker", "master"]).map((r) => r.join(","));
const node = fc
  .record({
    name,
    ip,
    roles,
    extra: fc.constantFrom("", "vcpu=1", "vcpu=4", "memoryMiB=512", "memoryMiB=4096", "diskGiB=x", "mac=52:54:00:aa:bb:cc", "colour=blue"),
  })
  .map((n) => `name=${n.name} ip=${n.ip} roles=${n.roles} ${n.extra}`.trim());
const cidr = fc.oneof(
  fc.constantFrom("192.168.253.0/24", "10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/8", "10.244.0.0/23", "172.16.0.0/30", "10.96.0.0", "x/8"),
  fc.tuple(octet, octet, fc.integer({ min: 0, max: 33 })).map(([a, b, p]) => `${a}.${b}.0.0/${p}`),
);
const anyValue = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }));

const change = fc.record(
  {
    nodes: fc.oneof(fc.constant(dev.nodes as string[]), fc.array(node, { minLength: 0, maxLength: 5 })),
    nodeCidr: cidr,
    podCidr: cidr,
    serviceCidr: cidr,
    kubernetesVersion: fc.constantFrom("1.36.0", "1.36.1", "1.29.0", "latest", "v1.36.0"),
    etcdVersion: fc.constantFrom("3.6.5", "3.5.27", "3.4.0"),
    containerdVersion: fc.constantFrom("2.2.0", "1.7.22"),
    nodeMemoryMiB: fc.integer({ min: 0, max: 8192 }),
    localProxyPort: fc.constantFrom(6443, 8443, 70000),
    cni: fc.constantFrom("weave", "flannel", "calico"),
    hostMode: fc.constantFrom("libvirt", "existing", "vbox"),
    // a key with a value of the wrong type
    sshUser: anyValue,
  },
  { requiredKeys: [] },
);

// Changes that keep the config valid, so that the success path is exercised too.
const validChange = fc.record(
  {
    nodes: fc.constantFrom(
      dev.nodes as string[],
      ["name=solo ip=192.168.253.10 roles=etcd,control-plane,worker vcpu=2 memoryMiB=4096"],
      ["name=cp ip=192.168.253.20 roles=etcd,control-plane", "name=w1 ip=192.168.253.21 roles=worker memoryMiB=1024"],
    ),
    podCidr: fc.constantFrom("10.244.0.0/16", "172.16.0.0/16"),
    serviceCidr: fc.constantFrom("10.96.0.0/12", "10.32.0.0/16"),
    cni: fc.constantFrom("weave", "flannel"),
    hostMode: fc.constantFrom("libvirt", "existing"),
    pkiKeyAlgorithm: fc.constantFrom("ECDSA"),
    httpProxy: fc.constantFrom("http://proxy.lab:3128"),
  },
  { requiredKeys: [] },
);

describe("any config", () => {
  it("ends in resources or in one clean error per problem, never in between", async () => {
    const seen = { built: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(validChange, change), async (c) => {
        const { rec, error, outputs } = await runProgram({ ...dev, ...c });
        if (error === undefined) {
          expect(outputs).toBeDefined();
          expect(rec.resources.length).toBeGreaterThan(0);
          seen.built++;
          return;
        }
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        const [head, ...lines] = (error as Error).message.split("\n");
        expect(head).toMatch(/^the stack configuration has \d+ problems?; nothing was created:$/);
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) expect(l).toMatch(/^error: [A-Za-z]+(\[\d+\])?(\.\S+)?: .+; fix: .+$/);
        expect(rec.resources).toHaveLength(0);
        seen.refused++;
      }),
      { numRuns: 40, seed: 20261127 },
    );
    // Both outcomes must actually occur, or the property says nothing.
    expect(seen.built).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  }, 300000);
});
