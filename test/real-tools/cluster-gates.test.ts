// The nodes-registered gate's OpenAPI warm-up, run for real (bash, curl, openssl) against
// stand-in apiservers over TLS with client certificates: it must ask every control-plane
// apiserver for the document the Kubernetes provider asks for (client-go's own request,
// from the upstream judge), retry a request the apiserver cut off, and name an apiserver
// that never serves it. A real first up failed without this (the provider's protobuf
// document took over 60 s on a loaded emulated apiserver; the JSON one had been built).
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { execFile } from "child_process";
import { loadConfig, nodesWith } from "../../components/config";
import { OPENAPI_WARM_TIMEOUT_S, planNodesRegistered } from "../../components/cluster/cluster-steps";
import { PKI_DIR } from "../../components/host/key-files";
import { BIN_DIR } from "../../components/node-prep/artifacts";
import { stackConfig } from "../harness";
import { run, tmpdir } from "../tools";

const JUDGE = path.join(__dirname, "../upstream/.bin/kubernetes-judge");
const c = loadConfig(stackConfig("dev")).config!;
const controlPlane = nodesWith(c, "control-plane");

type Mode = "answers" | "cuts-first" | "never";
interface Asked { accept: string; authenticated: boolean }

function exec(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, encoding: "utf8" }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
}

// a CA, a serving certificate for 127.0.0.1 and a client certificate, as the node's PKI_DIR holds them
function pki(dir: string): void {
  const ssl = (...args: string[]) => expect(run("openssl", args).status).toBe(0);
  const f = (n: string) => path.join(dir, n);
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "1", "-subj", "/CN=stand-in-ca");
  fs.writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  for (const [name, cn, ext] of [["server", "kube-apiserver", ["-extfile", f("san.ext")]], ["apiserver-kubelet-client", "kube-apiserver-kubelet-client", []]] as const) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${cn}`);
    ssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "1", ...ext);
  }
}

/** Stand-in apiservers (one per control-plane node), each recording what it was asked. */
async function apiservers(dir: string, modes: Mode[]): Promise<{ urls: string[]; asked: Asked[][]; close: () => void }> {
  const asked: Asked[][] = modes.map(() => []);
  const servers = modes.map((mode, i) =>
    https.createServer({ key: fs.readFileSync(path.join(dir, "server.key")), cert: fs.readFileSync(path.join(dir, "server.crt")), ca: fs.readFileSync(path.join(dir, "ca.crt")), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      asked[i].push({ accept: String(req.headers.accept), authenticated: (req.socket as import("tls").TLSSocket).authorized });
      // an apiserver cutting a request at its own timeout: the stream ends without an answer
      if (req.url !== "/openapi/v2" || mode === "never" || (mode === "cuts-first" && asked[i].length === 1)) req.socket.destroy();
      else res.writeHead(200, { "content-type": "application/octet-stream" }).end();
    }),
  );
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
  return { urls: servers.map((s) => `https://127.0.0.1:${(s.address() as import("net").AddressInfo).port}`), asked, close: () => servers.forEach((s) => s.close()) };
}

/** The gate run against stand-in apiservers of these modes: its exit, its stderr, what each was asked. */
async function gateAgainst(dir: string, modes: Mode[]): Promise<{ code: number; stderr: string; urls: string[]; asked: Asked[][] }> {
  const a = await apiservers(dir, modes);
  try {
    const r = await exec("bash", ["-c", gateScript(dir, a.urls)]);
    return { code: r.code, stderr: r.stderr, urls: a.urls, asked: a.asked };
  } finally {
    a.close();
  }
}

/** The gate's script with the node's paths and addresses pointed at the stand-ins. */
function gateScript(dir: string, urls: string[]): string {
  const kubectl = path.join(dir, "kubectl");
  fs.writeFileSync(kubectl, `#!/bin/bash\necho '${c.nodes.map((n) => n.name).join(" ")}'\n`, { mode: 0o755 });
  let s = ["set -euo pipefail", ...planNodesRegistered(c).activate].join("\n");
  s = s.split(`${BIN_DIR}/kubectl`).join(kubectl).split(PKI_DIR).join(dir);
  controlPlane.forEach((n, i) => (s = s.split(`https://${n.ip}:${c.network.apiserverPort}`).join(urls[i])));
  return s.split(`SECONDS + ${OPENAPI_WARM_TIMEOUT_S}`).join("SECONDS + 4").replace(/sleep 5$/m, "sleep 0.2");
}

describe("nodes-registered: every apiserver builds the Kubernetes provider's OpenAPI document first", () => {
  let dir: string;
  let providerAccept: string;
  beforeAll(async () => {
    dir = tmpdir("openapi-warm-");
    pki(dir);
    // what client-go's discovery client (the provider's) asks /openapi/v2 for, from the upstream judge
    const seen: string[] = [];
    const plain = http.createServer((req, res) => { seen.push(String(req.headers.accept)); res.writeHead(200).end(); });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const r = await exec(JUDGE, ["openapi-v2", `http://127.0.0.1:${(plain.address() as import("net").AddressInfo).port}`]);
    plain.close();
    expect(r).toMatchObject({ code: 0, stdout: "ok\n" });
    expect(seen).toHaveLength(1);
    providerAccept = seen[0];
    expect(providerAccept).toContain("protobuf");
  });

  it("asks every control-plane apiserver, with the node's client certificate, exactly as the provider does", async () => {
    expect(controlPlane.length).toBe(3);
    const r = await gateAgainst(dir, ["answers", "answers", "answers"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.asked).toEqual([0, 1, 2].map(() => [{ accept: providerAccept, authenticated: true }]));
  });

  it("asks again when an apiserver cut the request off (the cut one still fills its cache)", async () => {
    const r = await gateAgainst(dir, ["cuts-first", "answers", "cuts-first"]);
    expect(r.code).toBe(0);
    expect(r.asked.map((x) => x.length)).toEqual([2, 1, 2]);
  });

  it("fails naming the apiserver that never serves it, once its time is up", async () => {
    const r = await gateAgainst(dir, ["answers", "never", "answers"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`${r.urls[1]} did not serve /openapi/v2 as protobuf within ${OPENAPI_WARM_TIMEOUT_S} s (the Kubernetes provider needs it); see: journalctl -u kube-apiserver on that node`);
    expect(r.asked[1].length).toBeGreaterThan(1);
    expect([r.asked[0].length, r.asked[2].length]).toEqual([1, 1]);
  });
});
