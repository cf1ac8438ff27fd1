// The program end to end under mocks: the default stack validates and registers the
// expected graph; bad config registers nothing and fails with a RunError.
import * as pulumi from "@pulumi/pulumi";
import { runProgram, settle, stackConfig } from "../harness";

describe("default dev stack", () => {
  it("validates and registers the PKI and the access key", async () => {
    const { rec, outputs, error } = await runProgram(stackConfig("dev"));
    expect(error).toBeUndefined();
    const counts = rec.countByType();
    // 3 CAs, 10 cluster-wide leaves (with the break-glass super-admin) + 3 etcd members + 3 kubelets, the SA key and the SSH key.
    expect(counts["tls:index/selfSignedCert:SelfSignedCert"]).toBe(3);
    expect(counts["tls:index/locallySignedCert:LocallySignedCert"]).toBe(16);
    expect(counts["tls:index/certRequest:CertRequest"]).toBe(16);
    expect(counts["tls:index/privateKey:PrivateKey"]).toBe(3 + 16 + 1 + 1);
    expect(counts["k8slab:pki:ClusterPki"]).toBe(1);
    // one invoke: the probe of the running nodes' machines (libvirt); no other (a k8s.yaml
    // expansion answered by a mock would register nothing and pass silently)
    expect(rec.invokes).toEqual(["command:local:run"]);
    const ips = (await settle(outputs!.nodeIps)).value;
    expect(ips).toEqual({ "k8s-1": "192.168.253.140", "k8s-2": "192.168.253.139", "k8s-3": "192.168.253.141" });
  });

  it("gives every Kubernetes object the longer await a lab of TCG guests needs", async () => {
    const { rec, error } = await runProgram(stackConfig("dev"));
    expect(error).toBeUndefined();
    const objects = rec.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) expect({ o: o.name, t: rec.options.get(`${o.type}::${o.name}`)?.customTimeouts }).toEqual({ o: o.name, t: { create: "25m", update: "25m" } });
  });

  it("keeps the admin kubeconfig and the SSH private key secret in the stack outputs", async () => {
    const { outputs } = await runProgram(stackConfig("dev"));
    const kubeconfig = await settle(outputs!.adminKubeconfig as pulumi.Output<string>);
    expect(kubeconfig.secret).toBe(true);
    expect(kubeconfig.value).toContain("client-key-data");
    const ssh = await settle(outputs!.sshPrivateKey as pulumi.Output<string>);
    expect(ssh.secret).toBe(true);
    expect(ssh.value).toMatch(/PRIVATE KEY/);
  });

  it("keeps the system:masters break-glass kubeconfig in the stack's secrets only: on a node for one command, never kept", async () => {
    const { rec, outputs } = await runProgram(stackConfig("dev"));
    const breakGlass = await settle(outputs!.breakGlassKubeconfig as pulumi.Output<string>);
    expect(breakGlass.secret).toBe(true);
    const admin = (await settle(outputs!.adminKubeconfig as pulumi.Output<string>)).value;
    expect(breakGlass.value).not.toBe(admin);
    // the one step that carries it sends it only in a secret script, writes it to tmpfs and removes it
    // (files travel base64-encoded in the script, wrapped at 76 columns)
    const b64 = Buffer.from(breakGlass.value, "utf8").toString("base64");
    const carriers = rec.ofType("command:remote:Command").filter((r) => String(r.inputs.stdin ?? "").replace(/\n/g, "").includes(b64));
    expect(carriers.map((r) => r.name)).toEqual(["admin-access"]);
    expect(carriers[0].secretPaths).toContain("stdin");
    expect(String(carriers[0].inputs.stdin)).toContain("trap 'rm -f /run/k8s-lab/super-admin.conf' EXIT");
  });

  it("runs the same in preview mode", async () => {
    const { rec, error } = await runProgram(stackConfig("dev"), { preview: true });
    expect(error).toBeUndefined();
    expect(rec.ofType("tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(16);
  });

  it("uses the SSH key from config instead of generating one", async () => {
    const { rec, outputs } = await runProgram(
      { ...stackConfig("dev"), sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2 lab" },
      { secrets: { sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n" } },
    );
    expect(rec.resources.filter((r) => r.name === "k8s-lab-ssh")).toHaveLength(0);
    const ssh = await settle(outputs!.sshPrivateKey as pulumi.Output<string>);
    expect(ssh).toEqual({ value: expect.stringContaining("OPENSSH PRIVATE KEY"), secret: true });
  });

  it("gives every readiness gate the key from config with its final newline, as `pulumi config set --secret sshPrivateKey < KEYFILE` stores it without", async () => {
    const stored = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----";
    const { rec } = await runProgram({ ...stackConfig("dev"), sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2 lab" }, { secrets: { sshPrivateKey: stored } });
    const gates = rec.resources.filter((r) => r.name.startsWith("ready-"));
    expect(gates).toHaveLength(3);
    for (const g of gates) expect((await settle(g.inputs.stdin as pulumi.Output<string>)).value).toBe(`${stored}\n`);
  });
});

describe("bad config", () => {
  it("fails with one RunError line per problem and registers zero resources", async () => {
    const { rec, error } = await runProgram({
      ...stackConfig("dev"),
      nodes: ["name=k8s_1 ip=192.168.253.140 roles=etcd,control-plane,worker", "name=k8s-2 ip=10.1.1.1 roles=worker"],
      podCidr: "192.168.253.0/24",
    });
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    const lines = (error as Error).message.split("\n");
    expect(lines[0]).toMatch(/has \d+ problems; nothing was created/);
    expect(lines.filter((l) => l.startsWith("error: ")).length).toBe(lines.length - 1);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error: nodes\[0\]: node name 'k8s_1' is not a DNS-1123 label.*fix: rename it, e.g. name=k8s-1$/),
        expect.stringMatching(/^error: nodes\[1\]: ip=10\.1\.1\.1 is outside nodeCidr 192\.168\.253\.0\/24/),
        expect.stringMatching(/^error: podCidr: podCidr 192\.168\.253\.0\/24 overlaps nodeCidr/),
      ]),
    );
    expect(rec.resources).toHaveLength(0);
  });

  it("reports a key that Pulumi.yaml does not declare", async () => {
    const { rec, error } = await runProgram({ ...stackConfig("dev"), nodeCIDR: "10.0.0.0/24" });
    expect((error as Error).message).toContain("error: nodeCIDR: is not a configuration key of this program");
    expect(rec.resources).toHaveLength(0);
  });
});
