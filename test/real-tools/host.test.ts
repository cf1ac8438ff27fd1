// Host layer, etcd and kube-nginx: the steps under mocks (deletes, triggers, secrecy,
// counts, air-gapped copies) and the real tools over what they put on the nodes.
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as YAML from "yaml";
import { loadConfig, nodesWith } from "../../components/config";
import { UPLOAD_DIR, artifactsFor } from "../../components/node-prep/artifacts";
import { planNodePrep } from "../../components/node-prep/prep";
import { HostStepPlan, restartAndAwait, waitUntil, renderApplyScript, renderDeleteScript, stepDigests } from "../../components/host";
import { ETCD_UNIT, ETCD_CONFIG, etcdMemberConfig } from "../../components/etcd/plan";
import { SNAPSHOT_SCRIPT } from "../../components/etcd/snapshots";
import { DISTRO_NGINX_BACK, DISTRO_NGINX_MARK, DISTRO_NGINX_OFF, NGINX_CONF, NGINX_UNIT, STREAM_MODULE, nginxConfig, planKubeNginx } from "../../components/kube-nginx/plan";
import { HAPROXY_CONF, HAPROXY_UNIT, haproxyConfig, haproxyUnit } from "../../components/kube-nginx/haproxy";
import { etcdProbeTimeout } from "../../components/control-plane/plan";
import { IMAGE_PACKAGES } from "../../components/node-prep/prep";
import { placeholderMaterial } from "../../components/render";
import { allHostSteps } from "../harness";
import { Recorded } from "../../tools/engine";
import { runProgram, stackConfig } from "../harness";
import { bashSyntax, containsPrivateKey, filesInScript, run, shellcheck, systemdVerify, tmpdir } from "../tools";

const dev = stackConfig("dev");
const CMD = "command:remote:Command";
const decodeDelete = (r: Recorded) => Buffer.from(/^echo (\S+) \| base64 -d \| sudo -n bash -s$/.exec(r.inputs.delete)![1], "base64").toString("utf8");

describe("host steps under mocks", () => {
  let rec: import("../../tools/engine").Recorder;
  beforeAll(async () => {
    const r = await runProgram(dev);
    expect(r.error).toBeUndefined();
    rec = r.rec;
  });

  it("registers one step per node and layer, plus one etcd health gate", () => {
    const names = rec.ofType(CMD).map((r) => r.name).sort();
    const expected = ["etcd-health", "admin-access", "nodes-registered"];
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expected.push(`prep-${n}`, `carryover-${n}`, `artifacts-${n}`, `kube-nginx-${n}`, `etcd-${n}`, `etcd-membership-${n}`, `etcd-snapshots-${n}`, `control-plane-${n}`, `containerd-${n}`);
      expected.push(`upgrade-drain-${n}`, `kubelet-${n}`, `kube-proxy-${n}`, `upgrade-uncordon-${n}`, `node-${n}`);
    }
    expect(names).toEqual(expected.sort());
  });

  it("gives every step a delete that undoes it, stdin-fed create and no previous output in the environment", () => {
    expect(Object.keys(filesInScript(rec.named("etcd-k8s-1", CMD).inputs.stdin)).length).toBe(7);
    for (const r of rec.ofType(CMD)) {
      expect(r.inputs.create).toBe("sudo -n bash -s");
      expect(r.inputs.addPreviousOutputInEnv).toBe(false);
      expect(r.inputs.triggers.length).toBeGreaterThan(0);
      const del = decodeDelete(r);
      expect(del).toMatch(/^#!\/usr\/bin\/env bash\n/);
      const written = Object.keys(filesInScript(r.inputs.stdin));
      expect(written.length).toBe((r.inputs.stdin.match(/^put \//gm) ?? []).length);
      for (const p of written) expect(del).toContain(p);
    }
  });

  it("replaces by deleting first, and marks output secret where key material is involved", () => {
    for (const r of rec.ofType(CMD)) {
      const opts = rec.options.get(`${CMD}::${r.name}`);
      expect(opts).toBeDefined();
      expect(opts!.deleteBeforeReplace).toBe(true);
      const secret = r.secretPaths.includes("stdin");
      const aso = opts!.additionalSecretOutputs ?? [];
      if (secret) expect(aso).toEqual(expect.arrayContaining(["stdout", "stderr"]));
      else expect(aso).not.toContain("stdout");
      // a failing key-carrying step still shows its own diagnosis (stderr); stdout stays secret
      expect(r.inputs.logging).toBe(secret ? "stderr" : "stdoutAndStderr");
    }
  });

  it("removes the etcd data only when wipeDataOnDestroy is set, and only when the node goes (its footprint's delete), never in a replaced etcd step's", async () => {
    expect(decodeDelete(rec.named("etcd-k8s-1", CMD))).not.toContain("/var/lib/etcd ");
    const existing = { ...dev, hostMode: "existing", baseImagePath: undefined };
    const wiped = await runProgram({ ...existing, wipeDataOnDestroy: true });
    const named = (r: typeof wiped.rec, n: string) => r.resources.find((x) => x.type === CMD && x.name === n)!;
    expect(decodeDelete(named(wiped.rec, "etcd-k8s-1"))).not.toContain("/var/lib/etcd ");
    expect(decodeDelete(named(wiped.rec, "footprint-k8s-1"))).toMatch(/rm -rf -- .*\/var\/lib\/etcd \/var\/lib\/etcd-snapshots/);
    const kept = await runProgram(existing);
    expect(decodeDelete(named(kept.rec, "footprint-k8s-1"))).not.toContain("/var/lib/etcd ");
  });

  it("feeds scripts with key material as secrets, and plain ones in the clear", () => {
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(rec.named(`etcd-${n}`, CMD).secretPaths).toContain("stdin");
      expect(rec.named(`prep-${n}`, CMD).secretPaths).not.toContain("stdin");
    }
  });

  it("puts no private key in any non-secret input, even base64-encoded", () => {
    const etcdFiles = filesInScript(rec.named("etcd-k8s-1", CMD).inputs.stdin);
    expect(containsPrivateKey(rec.named("etcd-k8s-1", CMD).inputs.stdin)).toBe(true); // the detector works on real scripts
    expect(etcdFiles["/etc/kubernetes/pki/etcd/server.key"].mode).toBe("0600");
    const leaks = rec.resources.flatMap((r) => r.plainStrings.filter((s) => containsPrivateKey(s.value)).map((s) => `${r.name}.${s.path}`));
    expect(leaks).toEqual([]);
  });

  it("keeps every node within 13 SSH sessions (the first control-plane node: 13 plus three per node)", () => {
    const perNode = new Map<string, number>();
    for (const r of [...rec.ofType(CMD), ...rec.ofType("command:remote:CopyToRemote")]) {
      const host = r.inputs.connection.host as string;
      perNode.set(host, (perNode.get(host) ?? 0) + 1);
    }
    expect(perNode.size).toBe(3);
    // the first control-plane node also runs each node's membership, upgrade-drain and
    // upgrade-uncordon steps (three short sessions per node)
    for (const [host, n] of perNode) expect({ host, n: n - (host === "192.168.253.140" ? 3 * perNode.size : 0) <= 13 }).toEqual({ host, n: true });
  });

  it("retries SSH dials long enough for a booting VM", () => {
    for (const r of rec.ofType(CMD)) {
      expect(r.inputs.connection.dialErrorLimit * r.inputs.connection.perDialTimeout).toBeGreaterThanOrEqual(300);
    }
  });
});

describe("re-runs and changes", () => {
  const snapshot = (rs: Recorded[]) => new Map(rs.filter((r) => r.type === CMD).map((r) => [r.name, JSON.stringify([r.inputs.triggers, r.inputs.stdin, r.inputs.delete])]));
  const changed = (a: Map<string, string>, b: Map<string, string>) => [...b.keys()].filter((k) => a.get(k) !== b.get(k)).sort();

  it("changes nothing when the same config runs again", async () => {
    const [a, b] = [await runProgram(dev), await runProgram(dev)];
    expect(changed(snapshot(a.rec.resources), snapshot(b.rec.resources))).toEqual([]);
  });

  it("a new etcd version touches only the etcd nodes' artifact steps and their members (which must restart on the new binary)", async () => {
    const a = await runProgram(dev);
    const b = await runProgram({ ...dev, etcdVersion: "3.6.6", artifactChecksums: [`etcd-v3.6.6-linux-amd64.tar.gz=sha256:${"c".repeat(64)}`] });
    expect(changed(snapshot(a.rec.resources), snapshot(b.rec.resources))).toEqual(["artifacts-k8s-1", "artifacts-k8s-2", "artifacts-k8s-3", "etcd-k8s-1", "etcd-k8s-2", "etcd-k8s-3"]);
  });

  it("a new proxy port touches only kube-nginx and the two agents that connect through it", async () => {
    const a = await runProgram(dev);
    const b = await runProgram({ ...dev, localProxyPort: 9443 });
    const expected = ["kube-nginx", "kube-proxy", "kubelet"].flatMap((l) => ["k8s-1", "k8s-2", "k8s-3"].map((n) => `${l}-${n}`)).sort();
    expect(changed(snapshot(a.rec.resources), snapshot(b.rec.resources))).toEqual(expected);
  });
});

describe("triggers (property)", () => {
  const file = fc.record({
    path: fc.stringMatching(/^\/etc\/[a-z]{1,8}\/[a-z.]{1,8}$/),
    content: fc.string({ maxLength: 40 }),
    mode: fc.constantFrom("0644", "0600", "0755"),
    owner: fc.constantFrom("root:root", "etcd:etcd"),
  });
  const plan = fc.record({
    files: fc.uniqueArray(file, { minLength: 1, maxLength: 4, selector: (f) => f.path }),
    activate: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
    deactivate: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
    description: fc.string({ maxLength: 10 }),
  }).map((p): HostStepPlan => ({ node: "n", ip: "10.0.0.1", layer: "l", ...p }));
  const none = () => "";
  const digest = (p: HostStepPlan) => JSON.stringify(stepDigests(p, none, false));

  it("change exactly when a file or the script changes", () => {
    fc.assert(
      fc.property(plan, fc.nat(), fc.constantFrom("content", "mode", "owner", "path", "activate", "deactivate", "description", "none"), (p, i, what) => {
        const q: HostStepPlan = JSON.parse(JSON.stringify(p));
        const f = q.files[i % q.files.length] as { content: string; mode: string; owner: string; path: string };
        switch (what) {
          case "content": f.content += "x"; break;
          case "mode": f.mode = f.mode === "0644" ? "0600" : "0644"; break;
          case "owner": f.owner = f.owner === "root:root" ? "etcd:etcd" : "root:root"; break;
          case "path": f.path += "2"; break;
          case "activate": q.activate = [...q.activate, "true"]; break;
          case "deactivate": q.deactivate = [...q.deactivate, "true"]; break;
          case "description": q.description += "!"; break;
          case "none": break;
        }
        const shouldChange = what !== "description" && what !== "none";
        expect(digest(q) !== digest(p)).toBe(shouldChange);
        // the script text that lands changes exactly when a file or a command changes, too
        expect(renderApplyScript(q, none) !== renderApplyScript(p, none) || renderDeleteScript(q) !== renderDeleteScript(p)).toBe(what !== "none");
      }),
      { numRuns: 300 },
    );
  });
});

describe("etcd", () => {
  const c = loadConfig(dev).config!;
  const steps = allHostSteps(c);

  it("has exactly one etcd unit per etcd node, each naming every member over https", () => {
    for (const nodes of [dev.nodes as string[], ["name=a ip=192.168.253.10 roles=etcd,control-plane,worker", "name=b ip=192.168.253.11 roles=worker", "name=c ip=192.168.253.12 roles=worker"]]) {
      const cc = loadConfig({ ...dev, nodes }).config!;
      const units = allHostSteps(cc).flatMap((s) => s.files.filter((f) => f.path === ETCD_UNIT).map(() => s.node));
      expect(units.sort()).toEqual(nodesWith(cc, "etcd").map((n) => n.name).sort());
    }
    const configs = steps.flatMap((s) => s.files.filter((f) => f.path === ETCD_CONFIG).map((f) => YAML.parse(f.content as string)));
    expect(configs).toHaveLength(3);
    for (const conf of configs) {
      expect(conf["initial-cluster"].split(",").sort()).toEqual(["k8s-1=https://192.168.253.140:2380", "k8s-2=https://192.168.253.139:2380", "k8s-3=https://192.168.253.141:2380"].sort());
      expect(conf["listen-client-urls"]).toMatch(/^https:/);
      expect(conf["client-transport-security"]["client-cert-auth"]).toBe(true);
      expect(conf["peer-transport-security"]["client-cert-auth"]).toBe(true);
    }
  });

  it("names only TLS files that the same step writes", () => {
    for (const s of steps.filter((x) => x.layer === "etcd")) {
      const conf = etcdMemberConfig(c, c.nodes.find((n) => n.name === s.node)!);
      const tls = [conf["client-transport-security"], conf["peer-transport-security"]] as Array<Record<string, unknown>>;
      const paths = tls.flatMap((t) => Object.values(t).filter((v): v is string => typeof v === "string"));
      for (const p of paths) expect(s.files.map((f) => f.path)).toContain(p);
    }
  });

  it("starts new members without blocking and gates later layers on cluster health", () => {
    const member = steps.find((s) => s.layer === "etcd")!;
    expect(member.activate.join("\n")).toContain("systemctl start --no-block etcd");
    const gate = steps.find((s) => s.layer === "etcd-health")!;
    expect(gate.activate.join("\n")).toContain("endpoint health --cluster");
    expect(gate.activate.join("\n")).toContain("--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt");
  });
});

describe("kube-nginx", () => {
  const c = loadConfig(dev).config!;

  it("turns the distribution's nginx.service off while it runs, and back on at delete only if it was on", () => {
    const step = planKubeNginx(c, c.nodes[0]);
    const [off, back] = [step.activate.filter((l) => DISTRO_NGINX_OFF.includes(l)), step.deactivate.filter((l) => DISTRO_NGINX_BACK.includes(l))];
    expect([off.length, back.length]).toEqual([DISTRO_NGINX_OFF.length, DISTRO_NGINX_BACK.length]);
    const runAs = (enabled: boolean) => {
      const dir = tmpdir("distro-nginx-");
      const calls = path.join(dir, "calls");
      fs.writeFileSync(path.join(dir, "systemctl"), `#!/bin/bash\necho "$*" >> ${calls}\nif [[ $1 == is-enabled ]]; then exit ${enabled ? 0 : 1}; fi\n`, { mode: 0o755 });
      const mark = path.join(dir, "mark");
      const script = (lines: string[]) => `PATH=${dir}:$PATH; set -euo pipefail\n${lines.join("\n").split(DISTRO_NGINX_MARK).join(mark)}`;
      expect(run("bash", ["-c", script(off)]).status).toBe(0);
      expect(run("bash", ["-c", script(back)]).status).toBe(0);
      return fs.readFileSync(calls, "utf8").trim().split("\n");
    };
    expect(runAs(true)).toEqual(["is-enabled -q nginx.service", "disable -q --now nginx.service", "enable -q --now nginx.service"]);
    expect(runAs(false)).toEqual(["is-enabled -q nginx.service", "stop nginx.service"]);
  });

  it("listens on loopback and balances to every apiserver with passive checks", () => {
    const conf = nginxConfig(c);
    expect(conf).toContain("listen 127.0.0.1:8443;");
    expect(conf.match(/server 192\.168\.253\.\d+:6443 max_fails=3 fail_timeout=10s;/g)).toHaveLength(3);
    expect(conf).toMatch(/proxy_connect_timeout 2s;/);
  });

  it("passes nginx -t with the stream module", () => {
    const dir = tmpdir("nginx-");
    try {
      const module = ["/usr/lib/nginx/modules/ngx_stream_module.so", "/usr/lib64/nginx/modules/ngx_stream_module.so"].find((m) => fs.existsSync(m))!;
      expect(module).toBeDefined();
      const conf = path.join(dir, "kube-nginx.conf");
      fs.writeFileSync(conf, nginxConfig(c).replace(STREAM_MODULE, module));
      // as in an SSH session: a soft file limit of 1024 (nginx warns when its connections exceed it)
      const r = run("bash", ["-c", `ulimit -Sn 1024 && exec nginx -t -q -e stderr -c ${conf}`]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      fs.writeFileSync(conf, nginxConfig(c).replace(STREAM_MODULE, module).replace("least_conn;", "least_conn"));
      expect(run("nginx", ["-t", "-q", "-e", "stderr", "-c", conf]).status).not.toBe(0); // the check can fail
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the local proxy as haproxy (localProxy: haproxy)", () => {
  const c = loadConfig({ ...dev, localProxy: "haproxy" }).config!;
  const steps = allHostSteps(c);

  it("balances to every apiserver, checking each one's /readyz over TLS, and passes haproxy -c", () => {
    const conf = haproxyConfig(c);
    expect(conf).toContain("bind 127.0.0.1:8443");
    expect(conf.match(/^  server k8s-\d 192\.168\.253\.\d+:6443$/gm)).toHaveLength(3);
    expect(conf).toMatch(/^  option httpchk GET \/readyz$/m);
    expect(conf).toMatch(/^  default-server check check-ssl verify none inter 2s fall 2 rise 2$/m);
    expect(conf).toMatch(/^  timeout check 2s$/m);
    expect(conf).toMatch(/^  timeout connect 2s$/m);
    // while every checked one is down: all of them, unchecked
    expect(conf).toMatch(/^  option allbackups$/m);
    expect(conf.match(/^  server k8s-\d-unchecked 192\.168\.253\.\d+:6443 backup no-check$/gm)).toHaveLength(3);
    const dir = tmpdir("haproxy-");
    try {
      const file = path.join(dir, "haproxy.cfg");
      fs.writeFileSync(file, conf);
      const r = run("haproxy", ["-c", "-q", "-f", file]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      fs.writeFileSync(file, conf.replace("http-check expect status 200", "http-check expect statuss 200"));
      expect(run("haproxy", ["-c", "-q", "-f", file]).status).not.toBe(0); // the check can fail
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("on emulated guests checks every 5 s and waits for an answer longer than the apiserver itself waits for etcd", () => {
    const slow = loadConfig({ ...dev, localProxy: "haproxy", domainType: "qemu" }).config!;
    const conf = haproxyConfig(slow);
    expect(conf).toMatch(/^  default-server check check-ssl verify none inter 5s fall 2 rise 2$/m);
    // a check's TLS handshake has min(timeout connect, inter): as long as the interval
    expect(conf).toMatch(/^  timeout connect 5s$/m);
    const waits = Number(/^  timeout check (\d+)s$/m.exec(conf)![1]);
    expect(waits).toBeGreaterThan(parseInt(etcdProbeTimeout(slow)!, 10));
  });

  it("runs its own unit, which systemd accepts, in the kube-nginx layer, and node prep installs haproxy instead of nginx", () => {
    const step = steps.find((x) => x.layer === "kube-nginx" && x.node === "k8s-1")!;
    expect(step.files.map((f) => f.path).sort()).toEqual([HAPROXY_CONF, HAPROXY_UNIT].sort());
    const r = systemdVerify({ "kube-haproxy.service": haproxyUnit() }, ["/usr/sbin/haproxy", "/bin/kill"]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    for (const script of [renderApplyScript(step, placeholderMaterial), renderDeleteScript(step)]) expect(shellcheck(script).stdout).toBe("");
    const prep = renderApplyScript(steps.find((x) => x.layer === "prep")!, placeholderMaterial);
    expect(prep).toContain("apt-get install -y -q conntrack socat ipset iptables nftables haproxy curl");
    expect(prep).not.toMatch(/nginx/);
    // the lab's guest image carries both, so either choice runs without installing
    expect(IMAGE_PACKAGES.debian).toEqual(expect.arrayContaining(["haproxy", "nginx-light", "libnginx-mod-stream"]));
  });
});

describe("real tools over every host step", () => {
  const c = loadConfig({ ...dev, httpProxy: "http://proxy.lab:3128" }).config!;
  const steps = allHostSteps(c);

  it("every systemd unit passes systemd-analyze verify with no warning", () => {
    const units: Record<string, string> = {};
    for (const s of steps) for (const f of s.files) if (f.path.startsWith("/etc/systemd/system/")) units[path.relative("/etc/systemd/system", f.path)] = f.content as string;
    expect(Object.keys(units).sort()).toEqual(
      ["containerd.service", "containerd.service.d/http-proxy.conf", "etcd.service", "etcd-snapshot.service", "etcd-snapshot.timer", "kube-apiserver.service", "kube-controller-manager.service", "kube-nginx.service", "kube-proxy.service", "kube-scheduler.service", "kubelet.service"].sort(),
    );
    const binaries = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "containerd"].map((b) => `/usr/local/bin/${b}`);
    const r = systemdVerify(units, [...binaries, "/usr/sbin/nginx", "/sbin/modprobe", SNAPSHOT_SCRIPT]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const broken = systemdVerify({ "etcd.service": units["etcd.service"].replace("Type=notify", "Type=notifyy") }, ["/usr/local/bin/etcd"]);
    expect(broken.stderr).not.toBe(""); // the check can fail
  });

  it("every apply and delete script passes bash -n and shellcheck", () => {
    expect(steps.length).toBe(3 * 14 + 3);
    for (const s of steps) {
      for (const script of [renderApplyScript(s, placeholderMaterial), renderDeleteScript(s)]) {
        expect({ step: `${s.layer}-${s.node}`, ...bashSyntax(script) }).toMatchObject({ status: 0 });
        const sc = shellcheck(script);
        expect({ step: `${s.layer}-${s.node}`, out: sc.stdout }).toEqual({ step: `${s.layer}-${s.node}`, out: "" });
      }
    }
  });

  it("writes the kube-nginx files the unit names", () => {
    const s = steps.find((x) => x.layer === "kube-nginx")!;
    expect(s.files.map((f) => f.path).sort()).toEqual([NGINX_CONF, NGINX_UNIT].sort());
  });
});

describe("air-gapped artifacts", () => {
  it("copies each node only the files its roles need, and downloads nothing", async () => {
    const dir = tmpdir("artifacts-");
    try {
      const nodes = [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.150 roles=worker"];
      const c = loadConfig({ ...dev, nodes }).config!;
      for (const a of Object.values(c.artifacts)) fs.writeFileSync(path.join(dir, a!.fileName), "x");
      fs.writeFileSync(path.join(dir, "unrelated.iso"), "x");
      const { rec, error } = await runProgram({ ...dev, nodes, artifactDir: dir });
      expect(error).toBeUndefined();
      const copies = rec.ofType("command:remote:CopyToRemote");
      for (const node of c.nodes) {
        const mine = copies.filter((cp) => cp.inputs.connection.host === node.ip);
        const want = artifactsFor(c, node).map((a) => a.fileName).sort();
        expect(want.length).toBeGreaterThan(3);
        expect(mine.map((cp) => cp.inputs.remotePath).sort()).toEqual(want.map((f) => `${UPLOAD_DIR}/${f}`));
        for (const cp of mine) {
          const file = path.basename(cp.inputs.remotePath);
          expect(await cp.inputs.source.path).toBe(path.join(dir, file));
          expect(cp.inputs.triggers[0]).toBe(Object.values(c.artifacts).find((a) => a!.fileName === file)!.digest);
        }
      }
      // the worker-only node gets the node tarball, not the server one
      expect(copies.filter((cp) => cp.inputs.connection.host === "192.168.253.150").map((cp) => path.basename(cp.inputs.remotePath))).toContain("kubernetes-node-linux-amd64.tar.gz");
      for (const r of rec.ofType(CMD)) expect(r.inputs.stdin).not.toMatch(/curl -fsSL|^fetch /m);
      expect(rec.named("artifacts-k8s-1", CMD).inputs.stdin).toContain("take etcd-v3.6.14-linux-amd64.tar.gz sha256:ffe840ff");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("downloads from the mirror when one is set, checking the digest", async () => {
    const { rec } = await runProgram({ ...dev, downloadMirror: "https://mirror.lab/k8s/" });
    const script = rec.named("artifacts-k8s-1", CMD).inputs.stdin as string;
    expect(script).toContain("fetch etcd-v3.6.14-linux-amd64.tar.gz https://mirror.lab/k8s/etcd/v3.6.14/etcd-v3.6.14-linux-amd64.tar.gz sha256:ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5");
    expect(script).toContain("checksum mismatch for $1 from $2");
    expect(rec.ofType("command:remote:CopyToRemote")).toHaveLength(0);
  });
});

describe("node prep on a guest with no swap at all (found by a real run)", () => {
  const c = loadConfig(dev).config!;
  const prep = planNodePrep(c, c.nodes[0]);
  // the swap lines of the real prep plan, run under the apply script's shell options with a
  // stub systemctl that behaves like systemd's (exit 1, no output, when no unit matches)
  function runSwapLines(lines: string[], units: string): { status: number | null; stderr: string; masked: string } {
    const dir = tmpdir("swap-");
    const logFile = path.join(dir, "calls");
    fs.writeFileSync(
      path.join(dir, "systemctl"),
      `#!/bin/bash\nif [[ $1 == list-unit-files ]]; then [[ -n "${units}" ]] || exit 1; printf '%s\\n' "${units}"; exit 0; fi\necho "$@" >> ${logFile}\n`,
      { mode: 0o755 },
    );
    const r = run("bash", ["-c", `set -euo pipefail; export PATH=${dir}:$PATH; ${lines.join("\n")}; echo done`]);
    return { status: r.status, stderr: r.stderr, masked: fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "" };
  }
  const swapLines = (xs: string[]) => xs.filter((l) => l.includes("--type=swap"));

  it("masks nothing and goes on when systemd knows no swap unit", () => {
    expect(swapLines(prep.activate)).toHaveLength(1);
    expect(swapLines(prep.deactivate)).toHaveLength(1);
    for (const lines of [swapLines(prep.activate), swapLines(prep.deactivate)]) {
      const r = runSwapLines(lines, "");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.masked).toBe("");
    }
  });

  it("masks every swap unit systemd lists", () => {
    const r = runSwapLines(swapLines(prep.activate), "swap.img.swap generated -");
    expect(r.status).toBe(0);
    expect(r.masked).toBe("mask swap.img.swap\n");
  });
});

describe("the bounded wait every layer's health check uses", () => {
  it("gives up after the seconds it names, with its message, and goes on after success", () => {
    const t0 = Date.now();
    const r = run("bash", ["-c", ["set -euo pipefail", ...waitUntil("false", 2, "never ready: see journalctl -u x", 1), "echo after"].join("\n")]);
    const took = (Date.now() - t0) / 1000;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("never ready: see journalctl -u x\n");
    // bash's SECONDS counts whole seconds of the wall clock: a 2 s wait that starts at x.99
    // gives up at x+2.00, about 1 s later (a fresh-clone CI once measured 1.02 s against the
    // 1.5 this said); never sooner than seconds - 1
    expect(took).toBeGreaterThanOrEqual(1);
    expect(took).toBeLessThan(5);
    const ok = run("bash", ["-c", ["set -euo pipefail", "n=0", ...waitUntil("((++n >= 2))", 10, "x", 0), "echo after $n"].join("\n")]);
    expect(ok).toMatchObject({ status: 0, stdout: "after 2\n" });
  });

  it("is how every layer waits: no step polls with a loop of its own", () => {
    const c = loadConfig(dev).config!;
    for (const s of allHostSteps(c)) {
      const script = [...s.activate, ...s.deactivate].join("\n");
      expect({ step: `${s.layer}-${s.node}`, loops: script.match(/for _ in \$\(seq/g) ?? [] }).toEqual({ step: `${s.layer}-${s.node}`, loops: [] });
    }
  });
});

describe("the service helpers every layer uses", () => {
  it("restart a unit, then wait for its health check, and say what failed, where and for how long", () => {
    const bin = tmpdir("stub-systemctl-");
    try {
      fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh\necho "systemctl $*" >> ${bin}/log\n`, { mode: 0o755 });
      const script = ["set -euo pipefail", ...restartAndAwait("kubelet", "k8s-2", { check: "false", seconds: 1, failing: "is not healthy (probe)", interval: 1, seeAlso: "crictl ps" })].join("\n");
      const r = run("env", [`PATH=${bin}:/usr/bin:/bin`, "bash", "-c", script]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("kubelet on k8s-2 is not healthy (probe) 1 s after its restart; see: journalctl -u kubelet, and crictl ps\n");
      expect(fs.readFileSync(path.join(bin, "log"), "utf8")).toBe("systemctl daemon-reload\nsystemctl enable -q kubelet\nsystemctl restart kubelet\n");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("undo every unit a step writes: disabled before its files go, systemd reloaded after", () => {
    const c = loadConfig({ ...dev, cni: "bridge" }).config!;
    let units = 0;
    for (const s of allHostSteps(c)) {
      const written = s.files.map((f) => /^\/etc\/systemd\/system\/([^/]+\.service)$/.exec(f.path)?.[1]).filter((u): u is string => !!u);
      if (!written.length) continue;
      const del = renderDeleteScript(s).split("\n");
      const removed = del.findIndex((l) => l.startsWith("rm -rf -- "));
      for (const u of written) {
        units++;
        const disabled = del.findIndex((l) => new RegExp(`^systemctl disable -q --now .*\\b${u.replace(/\.service$/, "")}\\b`).test(l));
        expect({ step: `${s.layer}-${s.node}`, u, disabledBeforeRemoval: disabled >= 0 && disabled < removed }).toEqual({ step: `${s.layer}-${s.node}`, u, disabledBeforeRemoval: true });
      }
      expect({ step: `${s.layer}-${s.node}`, reloadAfter: del.lastIndexOf("systemctl daemon-reload") > removed }).toEqual({ step: `${s.layer}-${s.node}`, reloadAfter: true });
    }
    expect(units).toBeGreaterThanOrEqual(3 * 7);
  });
});

describe("systemd ordering and node prep (review findings)", () => {
  it("orders every unit after each target it wants (Wants= alone does not order)", () => {
    const c = loadConfig({ ...dev, cni: "bridge" }).config!;
    const units = allHostSteps(c).flatMap((s) => s.files).filter((f) => /\.service$/.test(f.path));
    expect(units.length).toBeGreaterThan(8);
    for (const u of units) {
      const text = u.content as string;
      const values = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].flatMap((m) => m[1].split(/\s+/));
      for (const wanted of values("Wants")) expect({ unit: u.path, after: values("After") }).toEqual({ unit: u.path, after: expect.arrayContaining([wanted]) });
    }
  });

  it("installs nft and checks for it when kube-proxy runs in nftables mode; opens no loopback-only port", () => {
    const c = loadConfig({ ...dev, kubeProxyMode: "nftables" }).config!;
    const prep = planNodePrep(c, c.nodes[0]).activate.join("\n");
    expect(prep).toMatch(/apt-get install -y -q .*\bnftables\b/);
    expect(prep).toMatch(/for b in [^;]*\bnft\b[^;]*; do command -v/);
    expect(planNodePrep(loadConfig(dev).config!, c.nodes[0]).activate.join("\n")).not.toMatch(/for b in [^;]*\bnft\b/);
    expect(prep).not.toMatch(/--add-port=1025[79]/);
  });
});

describe("node prep with weave-net: the node's iptables backend must be weave's", () => {
  // the check as prep renders it, run against a stand-in iptables that reports a backend
  const check = (cni: string) => planNodePrep(loadConfig({ ...dev, cni }).config!, loadConfig(dev).config!.nodes[0]).activate.filter((l) => l.includes("iptables -V"));
  const runWith = (version: string) => {
    const bin = tmpdir("iptables-");
    fs.writeFileSync(path.join(bin, "iptables"), `#!/bin/sh\necho '${version}'\n`, { mode: 0o755 });
    const r = run("bash", ["-c", `PATH=${bin}:$PATH; set -euo pipefail\n${check("weave").join("\n")}`]);
    return { status: r.status, stderr: r.stderr.trim() };
  };

  it("passes on nf_tables, stops with the fix on legacy, and is left out for other CNIs", () => {
    expect(check("weave")).toHaveLength(1);
    expect(check("flannel")).toEqual([]);
    expect(runWith("iptables v1.8.9 (nf_tables)")).toEqual({ status: 0, stderr: "" });
    const legacy = runWith("iptables v1.8.9 (legacy)");
    expect(legacy.status).toBe(1);
    expect(legacy.stderr).toBe("node k8s-1: weave-net uses the nf_tables backend of iptables, but this node's iptables is 'iptables v1.8.9 (legacy)'; switch it (update-alternatives --set iptables /usr/sbin/iptables-nft) or set cni to flannel");
  });
});
