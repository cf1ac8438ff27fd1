// Logs in to a web UI the way a person does — opens its page, types the token into its
// token field, presses its sign-in button — waits until the logged-in page shows and its
// requests are done (bounded: a page still loading then fails), and saves a screenshot: what
// the lab's UI check keeps for a person to look at. Debian's chromium, headless, driven by
// playwright-core; the token comes from UI_TOKEN (never argv).
// Usage: UI_TOKEN=… tsx tools/ui-screenshot.ts URL OUT.png
// Env: UI_EXPECT (text the logged-in page shows; default "Workloads", which the dashboard's
// and Headlamp's navigation both have), UI_LIST_PATH and UI_LIST_EXPECT (then a list page, by
// its address relative to URL, followed inside the UI, and text it must show: the screenshot
// is of that page, e.g.
// kube-system's pods with CoreDNS's among them — the UI showing the cluster, not an empty
// namespace), CHROMIUM (default /usr/bin/chromium), UI_TIMEOUT_MS.
import { Request, chromium } from "playwright-core";

/** The token field of the dashboard (#token) and of Headlamp (a password field), in that order. */
export const TOKEN_FIELD = 'input#token, input[name="token"], input[type="password"]';
/** The button that submits it: the dashboard's "Sign in", Headlamp's "Authenticate". */
export const SUBMIT = /^\s*(sign in|authenticate)\s*$/i;

/**
 * Goes to an address the way a single-page UI's own links do — a new hash (the dashboard's
 * routes) or a history entry its router is told about (Headlamp's) — without loading the page
 * again. Source text run in the page (no transpiler's helper can reach it there).
 */
const FOLLOW_IN_APP = `(to) => {
  const next = new URL(to);
  if (next.origin + next.pathname + next.search === location.origin + location.pathname + location.search) {
    location.hash = next.hash;
  } else {
    history.pushState(null, "", next.href);
    dispatchEvent(new PopStateEvent("popstate", { state: null }));
  }
}`;

/** Logs in, saves the screenshot, and returns the page's visible text as it was then. */
export async function screenshotLoggedIn(o: { url: string; token: string; out: string; expect: string; list?: { path: string; expect: string }; chromium: string; timeoutMs: number }): Promise<string> {
  const browser = await chromium.launch({ executablePath: o.chromium, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(o.timeoutMs);
    // the page's requests in flight, and when one last started or ended (a watch never ends by
    // design: it is not waited for)
    let inFlight = 0;
    let lastChange = Date.now();
    const counted = (r: Request) => !/[?&]watch=(1|true)\b/.test(r.url());
    page.on("request", (r) => void (counted(r) && (inFlight++, (lastChange = Date.now()))));
    const ended = (r: Request) => void (counted(r) && ((inFlight = Math.max(0, inFlight - 1)), (lastChange = Date.now())));
    page.on("requestfinished", ended);
    page.on("requestfailed", ended);
    await page.goto(o.url, { waitUntil: "domcontentloaded" });
    const field = page.locator(TOKEN_FIELD).first();
    await field.waitFor({ state: "visible" });
    await field.fill(o.token);
    await page.getByRole("button", { name: SUBMIT }).first().click();
    const shows = async (text: string, where: string) => {
      try {
        await page.getByText(text).first().waitFor({ state: "visible" });
      } catch (e) {
        await page.screenshot({ path: o.out.replace(/\.png$/, "") + "-failed.png" });
        throw new Error(`${where}, "${text}" did not show within ${o.timeoutMs} ms (the page as it was: ${o.out.replace(/\.png$/, "")}-failed.png)`);
      }
    };
    // the page's lists load after its frame: wait, bounded, until no request has been in flight
    // for half a second (not the page's "networkidle" load state: reached once at its first load,
    // it is never waited for again). A page that keeps asking before its answers come never
    // shows its lists (the dashboard on the TCG lab, refreshing every 5 s lists that took 40-80 s,
    // stayed spinners): that is a failure, with the page as it was.
    const settled = async (where: string) => {
      const deadline = Date.now() + o.timeoutMs;
      while (Date.now() < deadline && (inFlight > 0 || Date.now() - lastChange < 500)) await page.waitForTimeout(100);
      if (inFlight > 0 || Date.now() - lastChange < 500) {
        const still = o.out.replace(/\.png$/, "") + "-loading.png";
        await page.screenshot({ path: still });
        throw new Error(`${where}, the page was still loading after ${o.timeoutMs} ms (${inFlight} requests in flight; the page as it was: ${still})`);
      }
    };
    await shows(o.expect, "after signing in");
    await settled("after signing in");
    if (o.list) {
      const where = `on ${o.list.path}`;
      // followed inside the UI, as a click in its navigation does, not loaded anew: a new load
      // makes the UI check its login again (Headlamp on the loaded TCG lab then showed its login
      // page for minutes although its session cookie was set)
      await page.evaluate(`(${FOLLOW_IN_APP})(${JSON.stringify(new URL(o.list.path, o.url).toString())})`);
      await shows(o.list.expect, where);
      await settled(where);
    }
    await page.screenshot({ path: o.out });
    return await page.innerText("body");
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  const [url, out] = process.argv.slice(2);
  const token = process.env.UI_TOKEN;
  if (!url || !out || !token || (process.env.UI_LIST_PATH && !process.env.UI_LIST_EXPECT)) {
    console.error("usage: UI_TOKEN=… [UI_LIST_PATH=… UI_LIST_EXPECT=…] tsx tools/ui-screenshot.ts URL OUT.png");
    process.exit(2);
  }
  screenshotLoggedIn({
    url,
    token,
    out,
    expect: process.env.UI_EXPECT ?? "Workloads",
    ...(process.env.UI_LIST_PATH ? { list: { path: process.env.UI_LIST_PATH, expect: process.env.UI_LIST_EXPECT ?? "" } } : {}),
    chromium: process.env.CHROMIUM ?? "/usr/bin/chromium",
    timeoutMs: Number(process.env.UI_TIMEOUT_MS ?? 180_000),
  }).catch((e) => {
    console.error(`ui-screenshot: ${(e as Error).message.split("\n")[0]}`);
    process.exit(1);
  });
}
