// The PKI under the stand-in engine, whose tls resources issue REAL keys and certificates
// (tools/test-pki.ts), checked with openssl: chains, subjects, SANs, usages, key pairs and kubeconfigs.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, loadConfig } from "../../components/config";
import type { ClusterPki, PkiPlan } from "../../components/pki";
import { Recorder, standInEngine } from "../../tools/engine";
import { PROJECT, runProgram, settle, stackConfig } from "../harness";

const dev = stackConfig("dev");
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

interface Issued {
  plan: PkiPlan;
  cluster: ClusterConfig;
  certs: Record<string, { cert: string; key: string; certSecret: boolean; keySecret: boolean }>;
  cas: Record<string, { cert: string; key: string; keySecret: boolean }>;
  kubeconfigs: Record<string, { text: string; secret: boolean }>;
  sa: { key: string; keySecret: boolean; pub: string };
  rec: Recorder;
  dir: string;
}

async function issue(values: Record<string, unknown>): Promise<Issued> {
  const rec = new Recorder();
  await pulumi.runtime.setMocks(standInEngine(rec), PROJECT, "dev", false);
  const { ClusterPki: Pki } = await import("../../components/pki");
  const cluster = loadConfig(values).config!;
  const pki: ClusterPki = new Pki("k8s-lab", { cluster });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pki-"));
  const out: Issued = { plan: pki.plan, cluster, certs: {}, cas: {}, kubeconfigs: {}, sa: { key: "", keySecret: false, pub: "" }, rec, dir };
  for (const [id, c] of Object.entries(pki.cas)) {
    const [cert, key] = [await settle(c.certPem), await settle(c.privateKeyPem)];
    out.cas[id] = { cert: cert.value, key: key.value, keySecret: key.secret };
    fs.writeFileSync(path.join(dir, `${id}.crt`), cert.value);
  }
  for (const [id, c] of Object.entries(pki.certs)) {
    const [cert, key] = [await settle(c.certPem), await settle(c.privateKeyPem)];
    out.certs[id] = { cert: cert.value, key: key.value, certSecret: cert.secret, keySecret: key.secret };
    fs.writeFileSync(path.join(dir, `${id}.crt`), cert.value);
    fs.writeFileSync(path.join(dir, `${id}.key`), key.value);
  }
  for (const [id, k] of Object.entries(pki.kubeconfigs)) {
    const s = await settle(k);
    out.kubeconfigs[id] = { text: s.value, secret: s.secret };
  }
  const saKey = await settle(pki.serviceAccountKey.privateKeyPem);
  out.sa = { key: saKey.value, keySecret: saKey.secret, pub: (await settle(pki.serviceAccountKey.publicKeyPem)).value };
  return out;
}

function x509Text(file: string): { subject: string; issuer: string; sans: string[]; keyUsage: string[]; extKeyUsage: string[]; ca: boolean } {
  const subject = openssl("x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253").trim().replace(/^subject=/, "");
  const issuer = openssl("x509", "-in", file, "-noout", "-issuer", "-nameopt", "RFC2253").trim().replace(/^issuer=/, "");
  const ext = openssl("x509", "-in", file, "-noout", "-ext", "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints");
  const section = (title: string) => {
    const m = new RegExp(`${title}:.*\\n\\s+(.*)`).exec(ext);
    return m ? m[1].split(",").map((s) => s.trim()).filter(Boolean) : [];
  };
  return {
    subject,
    issuer,
    sans: section("X509v3 Subject Alternative Name").map((s) => s.replace(/^IP Address:/, "IP:")),
    keyUsage: section("X509v3 Key Usage"),
    extKeyUsage: section("X509v3 Extended Key Usage"),
    ca: /CA:TRUE/.test(ext),
  };
}

const KU = { digital_signature: "Digital Signature", key_encipherment: "Key Encipherment", cert_signing: "Certificate Sign", crl_signing: "CRL Sign" } as Record<string, string>;
const EKU = { server_auth: "TLS Web Server Authentication", client_auth: "TLS Web Client Authentication" } as Record<string, string>;

let issued: Issued;
beforeAll(async () => {
  issued = await issue(dev);
}, 60000);
afterAll(() => fs.rmSync(issued.dir, { recursive: true, force: true }));

describe("certificates (openssl)", () => {
  it("issues every certificate of the plan, no more", () => {
    expect(Object.keys(issued.certs).sort()).toEqual(issued.plan.certs.map((c) => c.id).sort());
    expect(Object.keys(issued.cas).sort()).toEqual(["cluster-ca", "etcd-ca", "front-proxy-ca"]);
    expect(issued.rec.ofType("tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(issued.plan.certs.length);
  });

  it("makes the CAs self-signed CA certificates", () => {
    for (const id of Object.keys(issued.cas)) {
      const t = x509Text(path.join(issued.dir, `${id}.crt`));
      expect(t.ca).toBe(true);
      expect(t.subject).toBe(t.issuer);
      expect(t.keyUsage).toEqual(expect.arrayContaining(["Certificate Sign", "CRL Sign"]));
      expect(openssl("verify", "-CAfile", path.join(issued.dir, `${id}.crt`), path.join(issued.dir, `${id}.crt`))).toContain("OK");
    }
  });

  it("each leaf verifies against its CA and carries exactly the planned subject, SANs and usages", () => {
    for (const c of issued.plan.certs) {
      const file = path.join(issued.dir, `${c.id}.crt`);
      expect(openssl("verify", "-CAfile", path.join(issued.dir, `${c.ca}.crt`), file).trim()).toBe(`${file}: OK`);
      const t = x509Text(file);
      const subject = c.organization ? `O=${c.organization},CN=${c.commonName}` : `CN=${c.commonName}`;
      expect({ id: c.id, subject: t.subject.split(",").sort().join(",") }).toEqual({ id: c.id, subject: subject.split(",").sort().join(",") });
      expect(t.ca).toBe(false);
      expect(t.sans.sort()).toEqual([...c.dnsNames.map((d) => `DNS:${d}`), ...c.ipAddresses.map((i) => `IP:${i}`)].sort());
      expect(t.keyUsage.sort()).toEqual(c.usages.filter((u) => u in KU).map((u) => KU[u]).sort());
      expect(t.extKeyUsage.sort()).toEqual(c.usages.filter((u) => u in EKU).map((u) => EKU[u]).sort());
    }
  });

  it("signs the etcd certificates with the etcd CA only", () => {
    const other = path.join(issued.dir, "cluster-ca.crt");
    for (const id of ["etcd-member-k8s-1", "apiserver-etcd-client", "etcd-healthcheck-client"]) {
      expect(() => openssl("verify", "-CAfile", other, path.join(issued.dir, `${id}.crt`))).toThrow();
    }
  });

  it("gives the apiserver exactly the SANs a client may use", () => {
    const t = x509Text(path.join(issued.dir, "apiserver.crt"));
    expect(t.sans.sort()).toEqual(
      [
        "IP:192.168.253.140", "IP:192.168.253.139", "IP:192.168.253.141", "DNS:k8s-1", "DNS:k8s-2", "DNS:k8s-3",
        "IP:127.0.0.1", "IP:10.96.0.1",
        "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
      ].sort(),
    );
  });

  it("names the node identities and roles as RBAC expects", () => {
    const subj = (id: string) => x509Text(path.join(issued.dir, `${id}.crt`)).subject;
    // the everyday admin is not system:masters (bound to cluster-admin instead); break-glass is
    expect(subj("admin")).toBe("O=k8s-lab:cluster-admins,CN=admin");
    expect(subj("super-admin")).toBe("O=system:masters,CN=k8s-lab-super-admin");
    expect(subj("kube-controller-manager")).toBe("CN=system:kube-controller-manager");
    expect(subj("kube-scheduler")).toBe("CN=system:kube-scheduler");
    expect(subj("kube-proxy")).toBe("CN=system:kube-proxy");
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(subj(`kubelet-${n}`).split(",").sort()).toEqual([`CN=system:node:${n}`, "O=system:nodes"].sort());
      const t = x509Text(path.join(issued.dir, `kubelet-${n}.crt`));
      expect(t.extKeyUsage.sort()).toEqual([EKU.client_auth, EKU.server_auth].sort());
    }
    expect(subj("apiserver-kubelet-client")).toBe("CN=kube-apiserver-kubelet-client");
  });

  it("pairs every certificate with its own private key", () => {
    for (const id of Object.keys(issued.certs)) {
      const fromCert = openssl("x509", "-in", path.join(issued.dir, `${id}.crt`), "-noout", "-pubkey");
      const fromKey = openssl("pkey", "-in", path.join(issued.dir, `${id}.key`), "-pubout");
      expect(fromKey).toBe(fromCert);
    }
  });

  it("uses ECDSA P-256 by default and RSA when configured", async () => {
    expect(openssl("x509", "-in", path.join(issued.dir, "apiserver.crt"), "-noout", "-text")).toMatch(/NIST CURVE: P-256|prime256v1/);
    const rsa = await issue({ ...dev, pkiKeyAlgorithm: "RSA", nodes: ["name=solo ip=192.168.253.10 roles=etcd,control-plane,worker"] });
    try {
      expect(openssl("x509", "-in", path.join(rsa.dir, "apiserver.crt"), "-noout", "-text")).toMatch(/Public-Key: \(2048 bit\)/);
      expect(openssl("verify", "-CAfile", path.join(rsa.dir, "cluster-ca.crt"), path.join(rsa.dir, "apiserver.crt"))).toContain("OK");
    } finally {
      fs.rmSync(rsa.dir, { recursive: true, force: true });
    }
  }, 60000);

  it("passes the configured validity and early renewal to the provider", () => {
    const leaf = issued.rec.ofType("tls:index/locallySignedCert:LocallySignedCert")[0].inputs;
    expect(leaf).toMatchObject({ validityPeriodHours: 8760, earlyRenewalHours: 720 });
    const ca = issued.rec.ofType("tls:index/selfSignedCert:SelfSignedCert")[0].inputs;
    expect(ca).toMatchObject({ validityPeriodHours: 87600, isCaCertificate: true });
    const end = openssl("x509", "-in", path.join(issued.dir, "cluster-ca.crt"), "-noout", "-enddate").trim().replace("notAfter=", "");
    const years = (Date.parse(end) - Date.now()) / (365 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
  });
});

describe("kubeconfigs", () => {
  const expectedServer: Record<string, string> = {
    admin: "https://192.168.253.140:6443",
    "super-admin": "https://192.168.253.140:6443",
    "kube-controller-manager": "https://127.0.0.1:6443",
    "kube-scheduler": "https://127.0.0.1:6443",
    "kube-proxy": "https://127.0.0.1:8443",
    "kubelet-k8s-1": "https://127.0.0.1:8443",
    "kubelet-k8s-2": "https://127.0.0.1:8443",
    "kubelet-k8s-3": "https://127.0.0.1:8443",
  };

  it("builds one per identity, each secret, with the expected server", () => {
    expect(Object.keys(issued.kubeconfigs).sort()).toEqual(Object.keys(expectedServer).sort());
    for (const [id, k] of Object.entries(issued.kubeconfigs)) {
      expect(k.secret).toBe(true);
      const doc = YAML.parse(k.text);
      expect(doc.kind).toBe("Config");
      expect(doc.clusters).toHaveLength(1);
      expect({ id, server: doc.clusters[0].cluster.server }).toEqual({ id, server: expectedServer[id] });
      expect(doc.contexts[0].name).toBe(doc["current-context"]);
    }
  });

  it("embeds the cluster CA and a matching certificate and key", () => {
    for (const [id, k] of Object.entries(issued.kubeconfigs)) {
      const doc = YAML.parse(k.text);
      const dec = (s: string) => Buffer.from(s, "base64").toString("utf8");
      const ca = path.join(issued.dir, `kc-${id}-ca.crt`);
      const crt = path.join(issued.dir, `kc-${id}.crt`);
      const key = path.join(issued.dir, `kc-${id}.key`);
      fs.writeFileSync(ca, dec(doc.clusters[0].cluster["certificate-authority-data"]));
      fs.writeFileSync(crt, dec(doc.users[0].user["client-certificate-data"]));
      fs.writeFileSync(key, dec(doc.users[0].user["client-key-data"]));
      expect(fs.readFileSync(ca, "utf8")).toBe(issued.cas["cluster-ca"].cert);
      expect(openssl("verify", "-CAfile", ca, crt).trim()).toBe(`${crt}: OK`);
      expect(openssl("pkey", "-in", key, "-pubout")).toBe(openssl("x509", "-in", crt, "-noout", "-pubkey"));
      expect(x509Text(crt).extKeyUsage).toContain(EKU.client_auth);
    }
  });
});

describe("apiserverEndpoint: admin access through a VIP or DNS name", () => {
  it("points the admin kubeconfig at it and puts it in the apiserver certificate, so openssl verifies the name", async () => {
    const ep = await issue({ ...dev, apiserverEndpoint: "api.lab.example:7443" });
    expect(YAML.parse(ep.kubeconfigs.admin.text).clusters[0].cluster.server).toBe("https://api.lab.example:7443");
    // the other identities keep their local paths
    expect(YAML.parse(ep.kubeconfigs["kube-proxy"].text).clusters[0].cluster.server).toBe("https://127.0.0.1:8443");
    const verify = (host: string) => execFileSync("openssl", ["verify", "-verify_hostname", host, "-CAfile", path.join(ep.dir, "cluster-ca.crt"), path.join(ep.dir, "apiserver.crt")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(verify("api.lab.example")).toContain(": OK");
    expect(() => verify("other.lab.example")).toThrow(/hostname mismatch/);
  });
});

describe("secrecy", () => {
  it("keeps every private key secret as an output", () => {
    for (const c of Object.values(issued.certs)) expect(c.keySecret).toBe(true);
    for (const c of Object.values(issued.cas)) expect(c.keySecret).toBe(true);
    expect(issued.sa.keySecret).toBe(true);
    expect(issued.sa.pub).toMatch(/BEGIN PUBLIC KEY/);
  });

  it("passes private keys to resources only as secret inputs", () => {
    const csrs = issued.rec.ofType("tls:index/certRequest:CertRequest");
    expect(csrs.length).toBeGreaterThan(0);
    for (const r of csrs) expect(r.secretPaths).toContain("privateKeyPem");
    for (const r of issued.rec.ofType("tls:index/locallySignedCert:LocallySignedCert")) expect(r.secretPaths).toContain("caPrivateKeyPem");
  });

  it("never has a private key in a non-secret input of any resource of the whole program", async () => {
    const { rec } = await runProgram(dev);
    expect(rec.resources.length).toBeGreaterThan(30);
    const leaks = rec.resources.flatMap((r) => r.plainStrings.filter((s) => /PRIVATE KEY/.test(s.value)).map((s) => `${r.type} ${r.name} ${s.path}`));
    expect(leaks).toEqual([]);
  });
});

describe("change of one node", () => {
  const identity = (r: { inputs: Record<string, unknown> }) => JSON.stringify([r.inputs.subject, r.inputs.dnsNames, r.inputs.ipAddresses]);

  it("re-issues only the certificates and kubeconfigs that name that node", async () => {
    const moved = (dev.nodes as string[]).map((n) => n.replace("192.168.253.141", "192.168.253.150"));
    const [a, b] = [await runProgram(dev), await runProgram({ ...dev, nodes: moved })];
    const before = new Map(a.rec.ofType("tls:index/certRequest:CertRequest").map((r) => [r.name, identity(r)]));
    const after = new Map(b.rec.ofType("tls:index/certRequest:CertRequest").map((r) => [r.name, identity(r)]));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
    expect(changed).toEqual(["apiserver", "etcd-member-k8s-3", "kubelet-k8s-3"]);

    const { planPki } = await import("../../components/pki");
    const p1 = planPki(loadConfig(dev).config!);
    const p2 = planPki(loadConfig({ ...dev, nodes: moved }).config!);
    const kcChanged = p2.kubeconfigs
      .filter((k) => changed.includes(k.cert) || JSON.stringify(k) !== JSON.stringify(p1.kubeconfigs.find((x) => x.id === k.id)))
      .map((k) => k.id);
    expect(kcChanged).toEqual(["kubelet-k8s-3"]);
  }, 60000);
});
