// The lab's UI screenshot (tools/ui-screenshot.ts) in Debian's chromium, headless, against
// a local page that behaves like a UI's login: a token field and a sign-in button, the
// logged-in page only for the right token. The lab run points it at the real dashboard and
// Headlamp.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { screenshotLoggedIn } from "../../tools/ui-screenshot";
import { tmpdir } from "../tools";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "eyJ-lab-token";

/**
 * A login page as the dashboard has it (#token, "Sign in") or as Headlamp has it (a password
 * field, "Authenticate"), drawn by its script a second after the page loaded — as a UI's
 * front end does on a slow machine, so the page's first load is long over when the login happens.
 * Signed in, it is a single-page UI: its list pages (`pods…`, by a history entry as Headlamp's
 * routes, or `#/pods…` as the dashboard's) are drawn in the same page, asking their list (slowly;
 * `empty` lists nothing). The login lives in the page: any new load of any address shows the
 * login again — as Headlamp did on the loaded TCG lab.
 */
function loginPage(kind: "dashboard" | "headlamp", after = ""): string {
  const field = kind === "dashboard" ? '<input id="token" name="token">' : '<label>ID token <input type="password"></label>';
  const button = kind === "dashboard" ? "Sign in" : "Authenticate";
  const form = `<h1>Log in</h1>${field}<button type="button" onclick="login()">${button}</button>`;
  return `<!doctype html><html><body><script>
    function login() {
      if (document.querySelector('input').value !== '${TOKEN}') { document.body.innerHTML = '<p>Unauthorized</p>'; return; }
      document.body.innerHTML = '<nav>Cluster Workloads Namespaces</nav><p id=list>loading</p>';
      fetch('/api/pods').then(function (r) { return r.text(); }).then(function (x) { document.getElementById('list').textContent = x; });
      addEventListener('popstate', route);
      addEventListener('hashchange', route);
      ${after}
    }
    function route() {
      var at = location.pathname + location.search + location.hash;
      if (at.indexOf('/pods') < 0) return; // pods… or #/pods…
      document.body.innerHTML = '<p id=list>loading</p>';
      fetch('/api/kube-system-pods').then(function (r) { return r.text(); }).then(function (x) { document.getElementById('list').textContent = /empty/.test(at) ? 'no pods' : x; });
    }
    setTimeout(function () { document.body.innerHTML = ${JSON.stringify(form)}; }, 1000);
  </script></body></html>`;
}

/** What a page does besides loading its list once, by the query of its address. */
const AFTER_LOGIN: Record<string, string> = {
  // watches its list: a request that never ends
  watch: "fetch('/api/pods?watch=1');",
  // asks its list again every second and drops the answer still on its way (as the dashboard's
  // auto refresh does): an answer that takes 1.5 s never arrives
  refresh: "var a; setInterval(function () { if (a) a.abort(); a = new AbortController(); fetch('/api/pods', { signal: a.signal }).catch(function () {}); }, 1000);",
};

describe("the UI screenshot after a login through the page", () => {
  let server: http.Server;
  let base = "";
  const dir = tmpdir("ui-shot-");
  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test installs it)`);
    server = http.createServer((req, res) => {
      // the logged-in page's list, as slow as the TCG lab's dashboard answers it
      if (req.url === "/api/pods") return void setTimeout(() => res.writeHead(200, { "content-type": "text/plain" }).end("3 pods running"), 1500);
      if (req.url === "/api/kube-system-pods") return void setTimeout(() => res.writeHead(200, { "content-type": "text/plain" }).end("coredns-7d8f 1/1 Running"), 1500);
      // a watch: answers its headers, then stays open, as a UI's watch of a list does
      if (req.url?.startsWith("/api/pods?watch=1")) return void res.writeHead(200, { "content-type": "application/json" }).write("");
      res.writeHead(200, { "content-type": "text/html" });
      res.end(loginPage(req.url?.includes("headlamp") ? "headlamp" : "dashboard", AFTER_LOGIN[req.url?.split("?")[1] ?? ""] ?? ""));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(["dashboard", "headlamp"])("types the token into the %s login and keeps a PNG of the logged-in page once its list has loaded", async (kind) => {
    const out = path.join(dir, `${kind}.png`);
    const shown = await screenshotLoggedIn({ url: `${base}/${kind}`, token: TOKEN, out, expect: "Workloads", chromium: CHROMIUM, timeoutMs: 30000 });
    const png = fs.readFileSync(out);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(2000);
    expect(shown).toContain("3 pods running");
    expect(shown).not.toContain("loading");
  }, 60000);

  it.each([
    ["dashboard", "#/pods?namespace=kube-system", "#/pods?empty"],
    ["headlamp", "pods?namespace=kube-system", "pods?empty"],
  ])("then follows the %s's link to the list page it is given, inside the page (a new load would ask for the login again), and keeps a PNG of that page once it shows the expected text", async (kind, list, empty) => {
    const out = path.join(dir, `${kind}-pods.png`);
    const shown = await screenshotLoggedIn({ url: `${base}/${kind}`, token: TOKEN, out, expect: "Workloads", list: { path: list, expect: "coredns" }, chromium: CHROMIUM, timeoutMs: 30000 });
    expect(fs.readFileSync(out).subarray(1, 4).toString()).toBe("PNG");
    expect(shown).toContain("coredns-7d8f 1/1 Running");
    expect(shown).not.toContain("Workloads"); // the list page, not the first one
    // a list page that never shows the text fails, keeping the page as it was
    const none = path.join(dir, `${kind}-empty.png`);
    await expect(screenshotLoggedIn({ url: `${base}/${kind}`, token: TOKEN, out: none, expect: "Workloads", list: { path: empty, expect: "coredns" }, chromium: CHROMIUM, timeoutMs: 5000 })).rejects.toThrow(`on ${empty}, "coredns" did not show within 5000 ms`);
    expect(fs.existsSync(path.join(dir, `${kind}-empty-failed.png`))).toBe(true);
    expect(fs.existsSync(none)).toBe(false);
  }, 60000);

  it("does not wait for a watch, which never ends", async () => {
    const shown = await screenshotLoggedIn({ url: `${base}/headlamp?watch`, token: TOKEN, out: path.join(dir, "watch.png"), expect: "Workloads", chromium: CHROMIUM, timeoutMs: 20000 });
    expect(shown).toContain("3 pods running");
    expect(fs.existsSync(path.join(dir, "watch.png"))).toBe(true);
  }, 60000);

  it("fails, keeping the page as it was, when the page keeps asking before its answers come (its lists never show)", async () => {
    const out = path.join(dir, "refreshing.png");
    await expect(screenshotLoggedIn({ url: `${base}/dashboard?refresh`, token: TOKEN, out, expect: "Workloads", chromium: CHROMIUM, timeoutMs: 6000 })).rejects.toThrow(/the page was still loading after 6000 ms \(\d+ requests in flight/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(dir, "refreshing-loading.png"))).toBe(true);
  }, 60000);

  it("fails, keeping the page as it was, when the token is refused", async () => {
    const out = path.join(dir, "refused.png");
    await expect(screenshotLoggedIn({ url: `${base}/dashboard`, token: "wrong", out, expect: "Workloads", chromium: CHROMIUM, timeoutMs: 5000 })).rejects.toThrow(/"Workloads" did not show within 5000 ms/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(dir, "refused-failed.png"))).toBe(true);
  }, 60000);
});
