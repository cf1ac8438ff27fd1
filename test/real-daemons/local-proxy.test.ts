// The local apiserver proxy, run for real on loopback with the configs the plan renders,
// in front of two stand-in apiservers (openssl s_server over TLS): one ready (its /readyz
// answers 200) and one that accepts connections but is not ready (/readyz 500), as every
// apiserver is for minutes after its node boots (measured on the lab: /readyz through the
// proxy answered "poststarthook/rbac/bootstrap-roles failed", with status 500). nginx, with passive checks,
// sends requests to both; haproxy (localProxy: haproxy) checks /readyz and sends none to the
// one that is not ready, until it is — and when none is ready, sends to all of them rather
// than refusing every connection.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ClusterConfig, loadConfig } from "../../components/config";
import { haproxyConfig } from "../../components/kube-nginx/haproxy";
import { STREAM_MODULE, STREAM_MODULE_CANDIDATES, nginxConfig } from "../../components/kube-nginx/plan";
import { stackConfig } from "../harness";
import { tmpdir } from "../tools";

const IPS = ["127.0.3.11", "127.0.3.12"];
const PROXY_PORT = 18443;
const config = (localProxy: "nginx" | "haproxy"): ClusterConfig => {
  const r = loadConfig({
    ...stackConfig("dev"),
    localProxy,
    localProxyPort: PROXY_PORT,
    nodeCidr: "127.0.3.0/24",
    // the not-ready one first: a proxy that does not know it would pick it first
    nodes: [`name=not-ready ip=${IPS[1]} roles=etcd,control-plane,worker`, `name=ready ip=${IPS[0]} roles=control-plane,worker`, "name=etcd-2 ip=127.0.3.13 roles=etcd", "name=etcd-3 ip=127.0.3.14 roles=etcd"],
  });
  if (!r.config) throw new Error(r.errors.map((e) => `${e.key}: ${e.message}`).join("\n"));
  return r.config;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const get = (p: string) => spawnSync("curl", ["-sk", "--max-time", "3", `https://127.0.0.1:${PROXY_PORT}${p}`], { encoding: "utf8" }).stdout;

describe("the local proxy in front of an apiserver that accepts connections but is not ready", () => {
  let dir = "";
  const daemons: ChildProcess[] = [];
  /** /readyz as an apiserver answers it, ready or not. */
  const readyz = (ready: boolean) =>
    ready ? "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nok" : "HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n[-]poststarthook/rbac/bootstrap-roles failed: not finished\nreadyz check failed";
  const backend = (name: string, ip: string, ready: boolean) => {
    const root = path.join(dir, name);
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "who"), `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${name}`);
    fs.writeFileSync(path.join(root, "readyz"), readyz(ready));
    // -HTTP answers GET /<path> with the file <path> of its directory, a whole HTTP response
    daemons.push(spawn("openssl", ["s_server", "-quiet", "-accept", `${ip}:6443`, "-cert", path.join(dir, "tls.crt"), "-key", path.join(dir, "tls.key"), "-HTTP"], { cwd: root, stdio: "ignore" }));
    return root;
  };
  const answers = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(get("/who"));
    return out;
  };

  beforeEach(async () => {
    dir = tmpdir("local-proxy-");
    const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=apiserver", "-keyout", path.join(dir, "tls.key"), "-out", path.join(dir, "tls.crt")], { encoding: "utf8" });
    expect(r.status).toBe(0);
  });
  afterEach(async () => {
    // SIGTERM: nginx's master then stops its workers (killed outright, they would keep the port)
    const stopping = daemons.splice(0).map((d) => new Promise<void>((done) => (d.exitCode !== null ? done() : (d.once("exit", () => done()), d.kill("SIGTERM")))));
    await Promise.all(stopping);
    await sleep(200);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("nginx (passive checks) sends requests to it", async () => {
    backend("ready", IPS[0], true);
    backend("not-ready", IPS[1], false);
    const module = STREAM_MODULE_CANDIDATES.find((m) => fs.existsSync(m))!;
    const conf = nginxConfig(config("nginx")).replace(STREAM_MODULE, module).replace("pid /run/kube-nginx.pid;", `pid ${dir}/nginx.pid;`);
    fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
    daemons.push(spawn("nginx", ["-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "nginx.log")], { stdio: "ignore" }));
    await sleep(1500);
    const got = await answers(10);
    expect(got.filter((x) => x === "ready").length).toBeGreaterThan(0);
    expect(got.filter((x) => x === "not-ready").length).toBeGreaterThan(0);
  }, 30000);

  /** Starts haproxy with the rendered config; returns each server's state as haproxy sees it and a wait for a given state. */
  const startHaproxy = () => {
    const socket = path.join(dir, "stats.sock");
    const conf = haproxyConfig(config("haproxy")).replace("global\n", `global\n  stats socket ${socket} level admin\n`);
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), conf);
    expect(spawnSync("haproxy", ["-c", "-q", "-f", path.join(dir, "haproxy.cfg")]).status).toBe(0);
    daemons.push(spawn("haproxy", ["-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" }));
    /** Each server's operational state as haproxy sees it (2 = up, 0 = down). */
    const state = () => {
      const r = spawnSync("bash", ["-c", `echo "show servers state kube-apiservers" | socat - UNIX-CONNECT:${socket}`], { encoding: "utf8" });
      return Object.fromEntries(r.stdout.split("\n").filter((l) => /^\d+ kube-apiservers /.test(l)).map((l) => { const f = l.split(" "); return [f[3], Number(f[5])]; }));
    };
    const until = async (want: Record<string, number>, seconds: number) => {
      for (let i = 0; i < seconds * 4; i++) {
        if (JSON.stringify(state()) === JSON.stringify(want)) return true;
        await sleep(250);
      }
      return false;
    };
    return until;
  };
  // the unchecked fallbacks (backup no-check) count as up: haproxy uses them only while every checked one is down
  const UNCHECKED = { "not-ready-unchecked": 2, "ready-unchecked": 2 };

  it("haproxy (active checks on /readyz) sends it none until it is ready", async () => {
    backend("ready", IPS[0], true);
    const notReady = backend("not-ready", IPS[1], false);
    const until = startHaproxy();
    expect(await until({ "not-ready": 0, ready: 2, ...UNCHECKED }, 15)).toBe(true);
    expect(await answers(10)).toEqual(Array(10).fill("ready"));
    // ready now: taken back within rise × inter
    fs.writeFileSync(path.join(notReady, "readyz"), readyz(true));
    expect(await until({ "not-ready": 2, ready: 2, ...UNCHECKED }, 15)).toBe(true);
  }, 60000);

  it("haproxy, when every apiserver fails its check, passes connections to all of them rather than refusing every one", async () => {
    // as on the faults run: every apiserver slow or not ready at once (nginx would still pass them on)
    backend("ready", IPS[0], false);
    backend("not-ready", IPS[1], false);
    const until = startHaproxy();
    expect(await until({ "not-ready": 0, ready: 0, ...UNCHECKED }, 15)).toBe(true);
    const got = await answers(10);
    expect(got.filter((x) => x === "ready").length).toBeGreaterThan(0);
    expect(got.filter((x) => x === "not-ready").length).toBeGreaterThan(0);
  }, 60000);
});
