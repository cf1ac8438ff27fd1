// Property: every config preflight accepts renders files the real tools accept. Configs are
// generated over the choices that change what lands on a node (roles, pod network, proxy
// mode, local proxy, runtime release, mirrors, proxy, snapshots, key algorithm); each one
// preflight accepts is rendered whole, and every apply and delete script must pass bash -n
// and shellcheck, every systemd unit systemd-analyze verify, the local proxy's config nginx
// -t or haproxy -c. (The upstream judges decode the variants in upstream.test.ts.)
import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../../components/config";
import { STREAM_MODULE, STREAM_MODULE_CANDIDATES } from "../../components/kube-nginx/plan";
import { renderTree } from "../../components/render";
import { stackConfig } from "../harness";
import { bashSyntax, run, shellcheck, systemdVerify, tmpdir } from "../tools";

const dev = stackConfig("dev");

const choices = fc.record(
  {
    nodes: fc.constantFrom(
      dev.nodes as string[],
      ["name=solo ip=192.168.253.10 roles=etcd,control-plane,worker vcpu=2 memoryMiB=4096"],
      ["name=cp-1 ip=192.168.253.20 roles=etcd,control-plane", "name=cp-2 ip=192.168.253.21 roles=etcd,control-plane", "name=cp-3 ip=192.168.253.22 roles=etcd,control-plane", "name=w-1 ip=192.168.253.30 roles=worker"],
      ["name=e-1 ip=192.168.253.40 roles=etcd", "name=cp ip=192.168.253.41 roles=control-plane,worker"],
    ),
    cni: fc.constantFrom("weave", "flannel", "bridge"),
    kubeProxyMode: fc.constantFrom("iptables", "nftables"),
    localProxy: fc.constantFrom("nginx", "haproxy"),
    containerdVersion: fc.constantFrom("2.3.5", "2.2.0"),
    runcVersion: fc.constantFrom("1.5.1", "1.3.3"),
    registryMirrors: fc.constantFrom([], ["registry.k8s.io=https://mirror.lab:5000"]),
    httpProxy: fc.constantFrom(undefined, "http://proxy.lab:3128"),
    etcdSnapshotSchedule: fc.constantFrom("*-*-* 00/6:00:00", "off", "daily"),
    pkiKeyAlgorithm: fc.constantFrom("ECDSA", "RSA"),
    hostMode: fc.constantFrom("libvirt", "existing"),
  },
  { requiredKeys: [] },
);

/** The absolute program paths a unit runs (ExecStart, ExecStartPre…, a leading '-' or '!' taken off). */
function programs(unit: string): string[] {
  return [...unit.matchAll(/^Exec[A-Za-z]*=[-!@+]*(\/\S+)/gm)].map((m) => m[1]);
}

describe("every config preflight accepts", () => {
  it("renders scripts, units and proxy configs the real tools accept", async () => {
    const module = STREAM_MODULE_CANDIDATES.find((m) => fs.existsSync(m));
    expect(module).toBeDefined();
    const seen = { rendered: 0, refused: 0, scripts: 0, units: 0, proxies: 0 };
    await fc.assert(
      fc.asyncProperty(choices, async (choice) => {
        const values = Object.fromEntries(Object.entries({ ...dev, ...choice }).filter(([, v]) => v !== undefined));
        const r = loadConfig(values);
        if (!r.config) {
          seen.refused++;
          return;
        }
        seen.rendered++;
        const tree = renderTree(r.config);
        const units: Record<string, string> = {};
        const dir = tmpdir("property-");
        try {
          for (const [rel, text] of tree) {
            if (/^steps\/.+\.sh$/.test(rel)) {
              expect({ rel, ...bashSyntax(text) }).toMatchObject({ rel, status: 0 });
              expect({ rel, out: shellcheck(text).stdout }).toEqual({ rel, out: "" });
              seen.scripts++;
            }
            // one node's units (every node's are alike): its systemd directory
            const unit = /^nodes\/([^/]+)\/etc\/systemd\/system\/(.+)$/.exec(rel);
            if (unit && unit[1] === r.config.nodes[0].name) units[unit[2]] = text;
            if (rel.endsWith("/etc/kube-nginx/kube-nginx.conf")) {
              const f = path.join(dir, "kube-nginx.conf");
              fs.writeFileSync(f, text.replace(STREAM_MODULE, module!).replace(/^pid .*$/m, `pid ${dir}/nginx.pid;`));
              expect({ rel, ...run("bash", ["-c", `ulimit -Sn 1024 && exec nginx -t -q -e stderr -c ${f}`]) }).toMatchObject({ rel, status: 0, stderr: "" });
              seen.proxies++;
            }
            if (rel.endsWith("/etc/kube-haproxy/haproxy.cfg")) {
              const f = path.join(dir, "haproxy.cfg");
              fs.writeFileSync(f, text);
              expect({ rel, ...run("haproxy", ["-c", "-q", "-f", f]) }).toMatchObject({ rel, status: 0, stderr: "" });
              seen.proxies++;
            }
          }
          const binaries = [...new Set(Object.values(units).flatMap(programs))];
          const v = systemdVerify(units, binaries);
          expect({ units: Object.keys(units).sort(), status: v.status, stderr: v.stderr }).toEqual({ units: Object.keys(units).sort(), status: 0, stderr: "" });
          seen.units += Object.keys(units).length;
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 8, seed: 20261205 },
    );
    // the property must have been exercised: configs rendered, and every kind of file checked
    expect(seen.rendered).toBeGreaterThan(3);
    expect(seen.scripts).toBeGreaterThan(100);
    expect(seen.units).toBeGreaterThan(20);
    expect(seen.proxies).toBeGreaterThan(3);
  }, 600000);
});
