// Render layer: the whole plan as files, without a hypervisor or the Pulumi CLI — every
// file each node receives, every script, the libvirt XML and cloud-init, the addon objects
// as YAML, a RUNBOOK.md in execution order (what each step waits for, and why) and the
// plan's numbers. Everything comes from the cluster plan the shipper ships; nothing here
// is a second template. Depends on: config, cluster/plan, host/plan, pki/material.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ClusterConfig, multiHost } from "../config";
import { MaterialRef, renderApplyScript, renderDeleteScript } from "../host/plan";
import { materialName } from "../pki/material";
import { dayTwoRunbook } from "./day-two";
import { restoreRunbook } from "./restore";
import { stageGuides } from "../cluster/stage-guide";
import { ClusterPlan, HostStep, LibvirtStep, PlanNumbers, PlannedLayer, edgesInto, hostSteps, materialInPlan, planCluster, planNumbers } from "../cluster/plan";

export type { PlanNumbers };
export { planNumbers };

export interface RenderOptions {
  /** Key material for file contents; default: clearly marked placeholders. */
  material?: (ref: MaterialRef) => string;
  /** The SSH public key written into user-data; default: a placeholder. */
  sshPublicKey?: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Clearly marked stand-ins for key material, for rendering without a PKI. */
export function placeholderMaterial(ref: MaterialRef): string {
  return `-----BEGIN K8S-LAB PLACEHOLDER-----\n${materialName(ref)} (issued by pulumi up)\n-----END K8S-LAB PLACEHOLDER-----\n`;
}

/** A step's script name: its layer, or its id when it acts for another node (node-<name> runs on the first control-plane node). */
function scriptName(s: HostStep): string {
  return s.id === `${s.layer}-${s.plan.node}` ? s.layer : s.id;
}

/** Host layers in plan order, numbered as the step scripts are. */
function hostLayers(plan: ClusterPlan): Array<{ layer: PlannedLayer; steps: HostStep[]; index: number }> {
  const byId = new Map(hostSteps(plan).map((s) => [s.id, s]));
  return plan.layers
    .map((layer) => ({ layer, steps: layer.steps.map((id) => byId.get(id)).filter((s): s is HostStep => !!s) }))
    .filter((l) => l.steps.length > 0)
    .map((l, i) => ({ ...l, index: i + 1 }));
}

/** The rendered tree: relative path → content, in a stable order. */
export function renderTree(c: ClusterConfig, o: RenderOptions = {}): Map<string, string> {
  const plan = planCluster(c);
  const material = o.material ?? placeholderMaterial;
  // every reference resolves, or the render fails naming it (as the shipper would)
  for (const ref of materialInPlan(plan)) if (typeof material(ref) !== "string") throw new Error(`render: no key material for ${materialName(ref)}`);
  const sshKey = o.sshPublicKey ?? "ssh-ed25519 PLACEHOLDER-generated-by-pulumi-up k8s-lab";
  const files = new Map<string, string>();

  // what lands on each node, at its path on the node; and each step's scripts
  for (const { steps, index } of hostLayers(plan)) {
    for (const s of steps) {
      const step = s.plan;
      for (const f of step.files) {
        files.set(path.posix.join("nodes", step.node, f.path), typeof f.content === "string" ? f.content : material(f.content.ref));
      }
      const base = path.posix.join("steps", step.node, `${pad(index)}-${scriptName(s)}`);
      files.set(`${base}.apply.sh`, renderApplyScript(step, material));
      files.set(`${base}.delete.sh`, renderDeleteScript(step));
    }
  }

  // libvirt objects
  const vm = plan.steps.filter((s): s is LibvirtStep => s.kind === "libvirt").map((s) => s.object(sshKey));
  vm.forEach((p, i) => {
    const dir = p.node ? path.posix.join("libvirt", p.node) : "libvirt";
    for (const [name, text] of Object.entries(p.documents)) files.set(path.posix.join(dir, name), text);
    const base = path.posix.join("libvirt", "scripts", `${pad(i + 1)}-${p.kind.toLowerCase()}-${p.name}`);
    files.set(`${base}.create.sh`, `${libvirtScriptHead(p.uri, `${base}.create.sh`)}${p.create}\n`);
    files.set(`${base}.delete.sh`, `${libvirtScriptHead(p.uri, `${base}.delete.sh`)}${p.delete}\n`);
  });
  for (const s of plan.steps) {
    if (s.kind !== "ready") continue;
    const file = path.posix.join("libvirt", "scripts", `${s.id}.sh`);
    const key = [
      "# the lab's SSH private key on standard input (npm run ssh-key writes it to a file)",
      `if [[ -t 0 ]]; then echo "${file} reads the lab's SSH private key on its standard input: LIBVIRT_URI=${s.uri} bash ${file} < lab-key" >&2; exit 2; fi`,
      "key_text=$(cat)",
      `[[ $key_text == *"PRIVATE KEY"* ]] || { echo "${file}: no SSH private key on standard input (run: LIBVIRT_URI=${s.uri} bash ${file} < lab-key)" >&2; exit 2; }`,
      'exec 0<<<"$key_text"',
      "",
    ].join("\n");
    files.set(file, `${libvirtScriptHead(s.uri, file)}${key}${s.script}\n`);
  }

  // addons, by group in the order they are applied
  const groups: string[] = [];
  const objects = new Map<string, string[]>();
  for (const s of plan.steps) {
    if (s.kind !== "kubernetes-object") continue;
    if (!objects.has(s.group)) (groups.push(s.group), objects.set(s.group, []));
    objects.get(s.group)!.push(YAML.stringify(s.object, { lineWidth: 0 }));
  }
  groups.forEach((g, i) => files.set(path.posix.join("addons", `${pad(i + 1)}-${g}.yaml`), objects.get(g)!.join("---\n")));

  const numbers = planNumbers(plan);
  files.set("RUNBOOK.md", runbook(plan, vm.map((p) => ({ kind: p.kind, name: p.name, uri: p.uri })), groups, objects, numbers));
  files.set("summary.json", JSON.stringify(numbers, null, 2) + "\n");
  files.set("SUMMARY.md", summaryMarkdown(numbers));
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** The head of a rendered libvirt script: how to run it, and a message when the URI is missing. */
function libvirtScriptHead(uri: string, file: string): string {
  return [
    "#!/usr/bin/env bash",
    `# run from the render's directory: LIBVIRT_URI=${uri} bash ${file}`,
    `: "\${LIBVIRT_URI:?set LIBVIRT_URI to the hypervisor, e.g. LIBVIRT_URI=${uri} bash ${file}}"`,
    "",
  ].join("\n");
}

export function summaryMarkdown(n: PlanNumbers): string {
  const rows = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `| ${k} | ${v} |`);
  return [
    "# Plan summary",
    "",
    "| step kind | count |",
    "| --- | --- |",
    ...rows(n.stepsByKind),
    "",
    "| node | host steps | SSH sessions |",
    "| --- | --- | --- |",
    ...Object.keys(n.hostStepsPerNode).map((k) => `| ${k} | ${n.hostStepsPerNode[k]} | ${n.sshSessionsPerNode[k] ?? 0} |`),
    "",
    `Critical path: ${n.criticalPath.length} host steps one after another: ${n.criticalPath.join(" → ")}.`,
    "",
  ].join("\n");
}

function runbook(plan: ClusterPlan, vm: Array<{ kind: string; name: string; uri: string }>, groups: string[], objects: Map<string, string[]>, numbers: PlanNumbers): string {
  const c = plan.config;
  const out: string[] = [
    `# Runbook: ${c.name}, the hard way`,
    "",
    "Every step `pulumi up` takes, in its order, with the files it writes, the commands it runs and",
    "what it waits for. Steps under one heading run in parallel unless the heading says *one node at",
    "a time* (rolling applies to nodes that already run the cluster; on the first `up` they are",
    "created together). Run the scripts under `steps/<node>/` as root on that node to do the same by hand.",
    "A step that is the same on several nodes is shown once, with `<node>` and `<node-ip>` standing for each",
    "node's name and address; the table under it gives each node's values and its script (filled in).",
    "",
    "Where things are, beside this file: `nodes/<node>/<path>` is every file a node receives, at its path on",
    "the node; `steps/<node>/NN-<layer>.apply.sh` and `.delete.sh` are each step's scripts (they carry the",
    "same files); `libvirt/` holds the XML, the user-data and the VM scripts (`LIBVIRT_URI=qemu:///system",
    "bash libvirt/scripts/NN-….create.sh`; `ready-<node>.sh` reads the SSH private key on its standard input,",
    "`… < lab-key`, the key from `npm run ssh-key`); `addons/` holds the Kubernetes objects in the order they are applied. Keys, certificates and",
    "kubeconfigs are placeholders (`-----BEGIN K8S-LAB PLACEHOLDER-----`) unless the render ran with",
    "`--test-pki` (test certificates, not for use): `pulumi up` issues the real ones.",
    "",
    `Nodes: ${c.nodes.map((n) => `${n.name} (${n.ip}; ${[...n.roles].join(", ")})`).join(", ")}.`,
    `Networks: nodes ${c.network.nodeCidr}, pods ${c.network.podCidr}, services ${c.network.serviceCidr} (kubernetes ${c.network.kubernetesServiceIp}, DNS ${c.network.clusterDnsIp}).`,
    "",
  ];
  out.push("## The plan at a glance", "", "Every host step by layer, each arrow a \"waits for\"; dotted: only when an update rolls node by node; red: the critical path.", "", "```mermaid", ...planDiagram(plan, numbers), "```", "");
  const waits = (id: string) => {
    const edges = edgesInto(plan, id).filter((e) => !e.rolling);
    return edges.length ? ["Waits for:", "", ...edges.map((e) => `- \`${e.before}\`: ${e.reason}`), ""] : [];
  };
  let stage = 0;
  if (vm.length) {
    const several = multiHost(c);
    out.push(`## ${++stage}. Virtual machines (libvirt, ${several ? c.hypervisors.map((h) => `${h.name}: ${h.uri}`).join("; ") : c.hypervisor.uri})`, "");
    for (const p of vm) out.push(`- ${p.kind} \`${p.name}\`${several ? ` on ${p.uri}` : ""}: \`libvirt/scripts/*-${p.kind.toLowerCase()}-${p.name}.create.sh\``);
    out.push("", "Then, per node, wait until SSH answers and cloud-init has finished (`libvirt/scripts/ready-<node>.sh`).", "");
  } else {
    out.push(`## ${++stage}. Existing hosts`, "", "Per node, wait until SSH answers (`libvirt/scripts/ready-<node>.sh`).", "");
  }
  const dayTwoLayers = new Set(["upgrade-drain", "upgrade-uncordon"]);
  const layerSection = (layer: PlannedLayer, steps: HostStep[], index: number, heading: string) => {
    const how = { all: " — one node at a time", "control-plane": " — control-plane nodes one at a time, worker-only nodes in parallel", none: steps.length > 1 ? " — all nodes in parallel" : "" }[layer.rolling];
    out.push(`${heading}${layer.name}${how}`, "");
    for (const group of sameOnEveryNode(plan, steps)) out.push(...stepSection(plan, group, index));
  };
  for (const { layer, steps, index } of hostLayers(plan)) {
    if (!dayTwoLayers.has(layer.name)) layerSection(layer, steps, index, `## ${++stage}. `);
  }
  out.push(`## ${++stage}. Addons through the Kubernetes API`, "", ...waits("api-reachable"));
  out.push(...groups.map((g, i) => `${i + 1}. ${g}: \`addons/${pad(i + 1)}-${g}.yaml\` (${objects.get(g)!.length} objects)`), "");
  out.push(`Critical path: ${numbers.criticalPath.length} host steps one after another (${numbers.criticalPath.join(" → ")}).`, "");
  out.push("## One layer at a time", "", "Set `upTo` to a stage and run `npm run up`: the lab stops after it. Raise it to go on; lower it and the later layers are removed (the preview lists them). What each stage builds, and how to see it by hand:", "");
  for (const g of stageGuides(c)) {
    out.push(`### upTo: ${g.stage}`, "", `${g.built[0].toUpperCase()}${g.built.slice(1)}. On ${g.where}:`, "", ...g.verify.map((v) => `- \`${v.run}\` prints ${v.prints}`), "");
  }
  out.push(...dayTwoRunbook(c));
  const upgrade = hostLayers(plan).filter((l) => dayTwoLayers.has(l.layer.name));
  if (upgrade.length) {
    out.push("## Day two: the upgrade's drain and uncordon", "", "These steps are part of every `up` but act only when a node's kubelet, containerd or runc moves to another release (see *Upgrade Kubernetes* above); on a first build they find nothing to do.", "");
    for (const { layer, steps, index } of upgrade) layerSection(layer, steps, index, "### ");
  }
  out.push(
    "## Restore etcd from a snapshot",
    "",
    c.etcdSnapshots
      ? `Every member saves a snapshot at '${c.etcdSnapshots.schedule}' (the newest ${c.etcdSnapshots.retention} kept), and one before each restart of etcd by \`pulumi up\`.`
      : "Scheduled snapshots are off (etcdSnapshotSchedule: off); each member still saves one before `pulumi up` restarts it.",
    "",
    ...restoreRunbook(c),
    "",
  );
  return out.join("\n");
}

/**
 * The plan as a Mermaid flowchart: one box per host step in a box per layer (in plan order),
 * then the API gate of the addons; an arrow per edge between them (dotted when it only
 * orders a rolling update); the critical path in red.
 */
export function planDiagram(plan: ClusterPlan, numbers: PlanNumbers): string[] {
  const id = (step: string) => `s_${step.replace(/[^A-Za-z0-9]/g, "_")}`;
  const critical = new Set(numbers.criticalPath);
  const body = ["flowchart TB"];
  const shown = new Set<string>();
  for (const { layer, steps } of hostLayers(plan)) {
    body.push(`  subgraph ${id(`layer-${layer.name}`)}["${layer.name}"]`, "    direction LR");
    for (const s of steps) (body.push(`    ${id(s.id)}["${s.id}"]`), shown.add(s.id));
    body.push("  end");
  }
  const gate = plan.steps.find((s) => s.kind === "local-gate");
  if (gate) (body.push(`  subgraph ${id("layer-addons")}["addons"]`, `    ${id(gate.id)}["${gate.id} → the addons"]`, "  end"), shown.add(gate.id));
  const edges = plan.edges.filter((e) => shown.has(e.before) && shown.has(e.after));
  const red: number[] = [];
  edges.forEach((e, i) => {
    body.push(`  ${id(e.before)} ${e.rolling ? "-.->" : "-->"} ${id(e.after)}`);
    if (critical.has(e.before) && critical.has(e.after) && numbers.criticalPath.indexOf(e.after) === numbers.criticalPath.indexOf(e.before) + 1) red.push(i);
  });
  body.push("  classDef critical fill:#fdecea,stroke:#c0392b,stroke-width:3px");
  if (critical.size) body.push(`  class ${[...critical].map(id).join(",")} critical`);
  if (red.length) body.push(`  linkStyle ${red.join(",")} stroke:#c0392b,stroke-width:3px`);
  return body;
}

/** A step's text with its node's name and address replaced by `<node>` and `<node-ip>`. */
function templated(text: string, node: { name: string; ip: string }): string {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text
    .replace(new RegExp(`(?<![0-9A-Za-z])${esc(node.name)}(?![0-9A-Za-z])`, "g"), "<node>")
    .replace(new RegExp(`(?<![0-9.])${esc(node.ip)}(?![0-9])`, "g"), "<node-ip>");
}

/** The node a step is about: the one its id names (node-k8s-2 runs on k8s-1), else where it runs. */
function subjectOf(plan: ClusterPlan, s: HostStep): { name: string; ip: string } {
  const named = s.id.startsWith(`${s.layer}-`) ? s.id.slice(s.layer.length + 1) : s.plan.node;
  return plan.config.nodes.find((n) => n.name === named) ?? plan.config.nodes.find((n) => n.name === s.plan.node)!;
}

/** What a step's runbook section says, for its node: the same text on two nodes is one section. */
function sectionText(plan: ClusterPlan, s: HostStep): string[] {
  const p = s.plan;
  return [
    p.description,
    ...p.files.map(fileLine),
    ...(p.runs?.length ? [runsLine(p.runs)] : []),
    ...p.activate,
    p.healthGate ?? "",
  ].map((line) => templated(line, subjectOf(plan, s)));
}

/** A layer's steps grouped by identical text (after templating), in plan order. */
function sameOnEveryNode(plan: ClusterPlan, steps: HostStep[]): HostStep[][] {
  const groups = new Map<string, HostStep[]>();
  for (const s of steps) {
    const key = sectionText(plan, s).join("\n");
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

const fileLine = (f: { path: string; mode: string; secret?: boolean }) => `- \`${f.path}\` (${f.mode}${f.secret ? ", secret" : ""})`;
const runsLine = (runs: string[]) => `Runs (a new release restarts it): ${runs.map((r) => `\`${r.split(" ").slice(0, 2).join(" ")}\``).join(", ")}.`;

/** One runbook section for steps that read the same on each of their nodes. */
function stepSection(plan: ClusterPlan, group: HostStep[], index: number): string[] {
  const one = group[0];
  const s = one.plan;
  const subject = subjectOf(plan, one);
  const t = (x: string) => (group.length > 1 ? templated(x, subject) : x);
  const out: string[] = [];
  const title = group.length > 1 ? `${group.map((g) => subjectOf(plan, g).name).join(", ")}` : scriptName(one) === s.layer ? s.node : `${one.id} (run on ${s.node})`;
  out.push(`### ${title}: ${t(s.description)}`, "");
  if (s.files.length) out.push("Files:", "", ...s.files.map((f) => t(fileLine(f))), "");
  if (s.runs?.length) out.push(runsLine(s.runs), "");
  // what each step waits for: listed once when it reads the same on every node, else per node in the table
  const waits = (g: HostStep) => edgesInto(plan, g.id).filter((e) => !e.rolling);
  const waitLine = (e: { before: string; reason: string }) => `- \`${e.before}\`: ${e.reason}`;
  const waitsOnce = group.length === 1 || new Set(group.map((g) => waits(g).map((e) => templated(waitLine(e), subjectOf(plan, g))).sort().join("\n"))).size === 1;
  if (waitsOnce && waits(one).length) out.push("Waits for:", "", ...waits(one).map((e) => t(waitLine(e))).sort(), "");
  if (!waitsOnce) out.push("Waits for (per node in the table):", "", ...[...new Set(group.flatMap((g) => waits(g).map((e) => `- ${templated(e.reason, subjectOf(plan, g)).replace(/ \([a-z0-9<>-]+\)$/, "")}`)))].sort(), "");
  if (group.length > 1) {
    const elsewhere = group.some((g) => g.plan.node !== subjectOf(plan, g).name);
    const extra = [...(elsewhere ? ["run on"] : []), ...(waitsOnce ? [] : ["waits for"])];
    out.push(`| \`<node>\` | \`<node-ip>\` | ${[...extra, "script", "undo"].join(" | ")} |`, `|${" --- |".repeat(4 + extra.length)}`);
    for (const g of group) {
      const n = subjectOf(plan, g);
      const base = `steps/${g.plan.node}/${pad(index)}-${scriptName(g)}`;
      const cells = [...(elsewhere ? [g.plan.node] : []), ...(waitsOnce ? [] : [waits(g).map((e) => `\`${e.before}\``).sort().join(", ")])];
      out.push(`| ${n.name} | ${n.ip} | ${[...cells, `\`${base}.apply.sh\``, `\`${base}.delete.sh\``].join(" | ")} |`);
    }
    out.push("");
  } else {
    out.push(`Script: \`steps/${s.node}/${pad(index)}-${scriptName(one)}.apply.sh\`; undo: \`${pad(index)}-${scriptName(one)}.delete.sh\`.`, "");
  }
  out.push("```bash", ...s.activate.map(t), "```", "");
  if (s.healthGate) out.push(`Health gate: ${t(s.healthGate)}.`, "");
  return out;
}

/** The file a render leaves in its output directory: it lists what the render wrote. */
export const RENDER_MARKER = ".k8s-lab-render";

/**
 * Writes the tree under `dir`. The directory must be new, empty, or a previous render (it
 * holds RENDER_MARKER): then only the files that render listed are removed first. Nothing
 * the command did not write is ever deleted; anything else is refused with the reason.
 */
export function writeTree(dir: string, files: Map<string, string>): void {
  const marker = path.join(dir, RENDER_MARKER);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`render: --out ${dir} is a file, not a directory`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0) {
      if (!fs.existsSync(marker)) {
        throw new Error(`render: --out ${dir} is not empty and is not a previous render (no ${RENDER_MARKER}); choose a new or empty directory`);
      }
      const previous = fs.readFileSync(marker, "utf8").split("\n").filter(Boolean);
      for (const rel of previous) {
        const target = path.resolve(dir, rel);
        if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`render: ${marker} names ${rel}, outside ${dir}`);
        fs.rmSync(target, { force: true });
        // remove the directories the render made, if they are empty now
        for (let d = path.dirname(target); d !== path.resolve(dir) && fs.existsSync(d) && fs.readdirSync(d).length === 0; d = path.dirname(d)) fs.rmdirSync(d);
      }
    }
  }
  for (const [rel, content] of files) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  fs.writeFileSync(marker, [...files.keys()].join("\n") + "\n");
}
