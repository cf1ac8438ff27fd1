// The web UI checks of the lab run (.ci/lab/ui-checks.sh): they reach each UI the way the
// stack output tells a user (its portForward, url and token commands), prove that the UI's
// own backend accepts the login token and refuses a wrong one, and log in through the page
// for a screenshot. bash runs the real script with stand-ins for kubectl, curl and the
// screenshot tool that answer as a working (or, told so, a broken) UI would; the lab run
// proves it against the real dashboard and Headlamp.
import * as fs from "fs";
import * as path from "path";
import { dashboardAccess, headlampAccess } from "../../components/addons";
import { ROOT } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

const TOKEN = "tok-3f9a1c";

function uiChecks(uis: string[], broken = ""): { status: number | null; calls: string[]; stderr: string; forwards: number; forwarding: number[] } {
  const dir = tmpdir("ui-checks-");
  // outside dir, which the run removes
  const pidsDir = tmpdir("ui-checks-pf-");
  fs.mkdirSync(path.join(dir, "bin"));
  const outputs = { ...(broken === "no-output" ? {} : { dashboard: { ...dashboardAccess(), note: "…" } }), headlamp: { ...headlampAccess(), note: "…" } };
  fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
  fs.writeFileSync(
    path.join(dir, "bin", "kubectl"),
    `#!/bin/bash
args=()
while (($#)); do case $1 in --kubeconfig | --request-timeout) shift 2 ;; *) args+=("$1"); shift ;; esac; done
echo "kubectl \${args[*]}" >> ${dir}/calls.log
case "\${args[*]}" in
  *" wait --for=condition=Ready pod --all --timeout=60s") ;;
  # forwards until stopped, as kubectl does, and takes a moment to exit when told to (its pid
  # kept, to see that it is stopped)
  *" port-forward svc/"*) p=\${args[-1]}; touch ${dir}/port-forward-\${p%%:*}; echo $$ >> ${pidsDir}/port-forward.pids
    trap '/bin/sleep 0.5; exit 0' TERM; /bin/sleep 300 & wait ;;
  *" get secret "*"-token -o jsonpath={.data.token}") printf '%s' '${TOKEN}' | base64 ;;
  *) echo "unexpected kubectl: \${args[*]}" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  const script = `
    set -euo pipefail
    export BROKEN='${broken}'
    # (a moment of real time too: the port-forward starts in the background)
    sleep() { command sleep 0.25; SECONDS=$((SECONDS + \${1%.*})); }
    curl() {
      local out=/dev/null header="" a url=\${*: -1}
      for a in "$@"; do [[ $a == @- ]] && read -r header; done
      while (($#)); do case $1 in -o) out=$2; shift 2 ;; -H) [[ $2 == @- ]] || header=$2; shift 2 ;; *) shift ;; esac; done
      printf 'curl %s\\n' "\${header:-(no header)}" | sed 's/${TOKEN}/THE-TOKEN/' >> ${dir}/calls.log
      # the page answers once its port-forward runs (in the background: it may take a moment)
      if [[ -z $header ]]; then local port=\${url##*:}; port=\${port%%/*}; [[ -e ${dir}/port-forward-$port ]]; return; fi
      if [[ $header == "Authorization: Bearer ${TOKEN}" && $BROKEN != refused ]] || [[ $BROKEN == accepts-any ]]; then echo '{"namespaces":[{"objectMeta":{"name":"kube-system"}}]}' > "$out"; echo 200
      # as the dashboard v2.7.0 answered on the lab: its lists say 200 with the apiserver's 401 inside
      elif [[ $url == */api/v1/namespace ]]; then printf '{"listMeta":{"totalItems":0},"namespaces":[],"errors":[{"ErrStatus":{"status":"Failure","reason":"Unauthorized","code": 401}}]}' > "$out"; echo 200
      else echo 401; fi
    }
    npx() { echo "npx $* (token in env: \${UI_TOKEN:+yes}; list: \${UI_LIST_PATH:-none} \${UI_LIST_EXPECT:-none})" >> ${dir}/calls.log; [[ $BROKEN == screenshot ]] && return 1; : > "\${*: -1}"; }
    export -f sleep curl npx
    E2E_DIR=${dir} bash ${ROOT}/.ci/lab/ui-checks.sh ${uis.join(" ")}
    ls ${dir}/ui >> ${dir}/calls.log
  `;
  const r = runWithStandIns(script, dir);
  // the port-forwards still running once the checks are over
  const file = path.join(pidsDir, "port-forward.pids");
  const pids = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").map(Number) : [];
  fs.rmSync(pidsDir, { recursive: true, force: true });
  // running: a process that exists and is not a zombie (killed, its parent gone, not yet reaped)
  const alive = (pid: number) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] !== "Z";
    } catch {
      return false;
    }
  };
  const forwarding = pids.filter(alive);
  for (const pid of forwarding) process.kill(pid, "SIGKILL");
  return { ...r, forwards: pids.length, forwarding };
}

describe("the web UI checks of the lab run", () => {
  it("reach each UI as the stack output says, prove its backend takes the login token and refuses a wrong one, and keep a screenshot", () => {
    const r = uiChecks(["dashboard", "headlamp"]);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    for (const [ui, ns, url, list] of [
      ["dashboard", "kubernetes-dashboard", "https://127.0.0.1:8443/", "api/v1/namespace"],
      ["headlamp", "headlamp", "http://127.0.0.1:4466/", "clusters/main/api/v1/namespaces"],
    ]) {
      expect(r.stderr).toContain(`ok: ${ui}: every pod Ready`);
      expect(r.stderr).toContain(`ok: ${ui}: served through kubectl port-forward at ${url}`);
      expect(r.stderr).toContain(`ok: ${ui}: its backend lists the namespaces with the login token (/${list}: 200)`);
      expect(r.stderr).toContain(ui === "dashboard" ? "ok: dashboard: a wrong token is refused (no namespace listed, the apiserver's 401 in its answer)" : "ok: headlamp: a wrong token is refused (401)");
      expect(r.calls).toContain(`kubectl -n ${ns} wait --for=condition=Ready pod --all --timeout=60s`);
      expect(r.calls.filter((c) => c.startsWith(`kubectl -n ${ns} port-forward svc/`))).toHaveLength(1);
    }
    expect(r.calls.filter((c) => c === "curl Authorization: Bearer THE-TOKEN")).toHaveLength(2);
    expect(r.calls.filter((c) => c === "curl Authorization: Bearer not-a-token")).toHaveLength(2);
    const shots = r.calls.filter((c) => c.startsWith("npx tsx tools/ui-screenshot.ts"));
    expect(shots).toHaveLength(2);
    expect(shots.map((s) => s.replace(/^.*\(token/, "(token"))).toEqual([
      "(token in env: yes; list: #/pod?namespace=kube-system coredns)",
      "(token in env: yes; list: c/main/pods?namespace=kube-system coredns)",
    ]);
    for (const s of shots) expect(s).toMatch(/\/ui\/(dashboard|headlamp)\.png \(token in env: yes; /);
    expect(r.calls).toEqual(expect.arrayContaining(["dashboard.png", "headlamp.png"]));
    // each port-forward ran, and none is left forwarding after the checks
    expect(r.forwards).toBe(2);
    expect(r.forwarding).toEqual([]);
    // the token itself reaches no command line and no log
    expect([...r.calls, r.stderr].join("\n")).not.toContain(TOKEN);
  });

  it.each([
    ["the backend refuses the login token", "refused", "FAILED: dashboard: its backend answered 200 to /api/v1/namespace with the login token"],
    ["the backend takes a wrong token", "accepts-any", "FAILED: dashboard: a wrong token got 200 from its backend (401 expected)"],
    ["the stack has no output for the UI", "no-output", "FAILED: dashboard: the stack has no output dashboard (is the addon on?)"],
    ["the login through the page fails", "screenshot", ""],
  ])("fails when %s", (_, broken, message) => {
    const r = uiChecks(["dashboard"], broken);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    // a failed check stops its port-forward too
    expect(r.forwarding).toEqual([]);
  });
});
