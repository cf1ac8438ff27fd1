// Render layer: the whole plan as files, without a hypervisor or the Pulumi CLI — every
// file each node receives, every script, the libvirt XML and cloud-init, the addon objects
// as YAML, a RUNBOOK.md in execution order and the plan's numbers. It reads the same
// planning functions the components ship; nothing here is a second template.
// Depends on: config, host, vm, addons, pki, render/plan, render/evaluate.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ClusterConfig } from "../config";
import { MaterialRef, renderApplyScript, renderDeleteScript } from "../host/plan";
import { planAddons } from "../addons/plan";
import { LibvirtObjectPlan, planBaseVolume, planCloudInitDisk, planDomain, planNetwork, planNodeVolume, planPool, readinessScript } from "../vm/plan";
import { planHostLayers, placeholderMaterial } from "./plan";

export * from "./plan";

export interface PlanNumbers {
  resourcesByType: Record<string, number>;
  hostStepsPerNode: Record<string, number>;
  sshSessionsPerNode: Record<string, number>;
  criticalPath: string[];
  evaluationMs?: number;
}

export interface RenderOptions {
  /** Key material for file contents; default: clearly marked placeholders. */
  material?: (ref: MaterialRef) => string;
  /** The SSH public key written into user-data; default: a placeholder. */
  sshPublicKey?: string;
  /** The plan's numbers, from evaluating the program. */
  numbers?: PlanNumbers;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** The rendered tree: relative path → content, in a stable order. */
export function renderTree(c: ClusterConfig, o: RenderOptions = {}): Map<string, string> {
  const material = o.material ?? placeholderMaterial;
  const sshKey = o.sshPublicKey ?? "ssh-ed25519 PLACEHOLDER-generated-by-pulumi-up k8s-lab";
  const files = new Map<string, string>();
  const layers = planHostLayers(c);

  // what lands on each node, at its path on the node; and each step's scripts
  layers.forEach((layer, li) => {
    for (const step of layer.steps) {
      for (const f of step.files) {
        files.set(path.posix.join("nodes", step.node, f.path), typeof f.content === "string" ? f.content : material(f.content.ref));
      }
      const base = path.posix.join("steps", step.node, `${pad(li + 1)}-${step.layer}`);
      files.set(`${base}.apply.sh`, renderApplyScript(step, material));
      files.set(`${base}.delete.sh`, renderDeleteScript(step, c.wipeDataOnDestroy));
    }
  });

  // libvirt objects
  const vm: LibvirtObjectPlan[] = [];
  if (c.hypervisor.mode === "libvirt") {
    vm.push(planNetwork(c), planPool(c), planBaseVolume(c));
    for (const n of c.nodes) vm.push(planNodeVolume(c, n), planCloudInitDisk(c, n, sshKey), planDomain(c, n));
  }
  vm.forEach((p, i) => {
    const dir = p.node ? path.posix.join("libvirt", p.node) : "libvirt";
    for (const [name, text] of Object.entries(p.documents)) files.set(path.posix.join(dir, name), text);
    const base = path.posix.join("libvirt", "scripts", `${pad(i + 1)}-${p.kind.toLowerCase()}-${p.name}`);
    files.set(`${base}.create.sh`, `#!/usr/bin/env bash\n# LIBVIRT_URI=${c.hypervisor.uri}\n${p.create}\n`);
    files.set(`${base}.delete.sh`, `#!/usr/bin/env bash\n# LIBVIRT_URI=${c.hypervisor.uri}\n${p.delete}\n`);
  });
  for (const n of c.nodes) files.set(path.posix.join("libvirt", "scripts", `ready-${n.name}.sh`), `#!/usr/bin/env bash\n# the SSH private key on stdin\n${readinessScript(c, n, c.hypervisor.mode === "libvirt")}\n`);

  // addons
  const addons = planAddons(c);
  addons.forEach((g, i) => files.set(path.posix.join("addons", `${pad(i + 1)}-${g.name}.yaml`), g.objects.map((obj) => YAML.stringify(obj, { lineWidth: 0 })).join("---\n")));

  files.set("RUNBOOK.md", runbook(c, vm, o.numbers));
  if (o.numbers) {
    files.set("summary.json", JSON.stringify(o.numbers, null, 2) + "\n");
    files.set("SUMMARY.md", summaryMarkdown(o.numbers));
  }
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export function summaryMarkdown(n: PlanNumbers): string {
  const rows = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `| ${k} | ${v} |`);
  return [
    "# Plan summary",
    "",
    "| resource type | count |",
    "| --- | --- |",
    ...rows(n.resourcesByType),
    "",
    "| node | host steps | SSH sessions |",
    "| --- | --- | --- |",
    ...Object.keys(n.hostStepsPerNode).map((k) => `| ${k} | ${n.hostStepsPerNode[k]} | ${n.sshSessionsPerNode[k] ?? 0} |`),
    "",
    `Critical path: ${n.criticalPath.length} host steps one after another: ${n.criticalPath.join(" → ")}.`,
    "",
  ].join("\n");
}

function runbook(c: ClusterConfig, vm: LibvirtObjectPlan[], numbers?: PlanNumbers): string {
  const out: string[] = [
    `# Runbook: ${c.name}, the hard way`,
    "",
    "Every step `pulumi up` takes, in its order, with the files it writes and the commands it runs.",
    "Steps listed under one heading run in parallel unless the heading says *one node at a time*;",
    "each waits for its health gate before the next heading starts on that node. Run the scripts",
    "under `steps/<node>/` as root on that node to do the same by hand.",
    "",
    `Nodes: ${c.nodes.map((n) => `${n.name} (${n.ip}; ${[...n.roles].join(", ")})`).join(", ")}.`,
    `Networks: nodes ${c.network.nodeCidr}, pods ${c.network.podCidr}, services ${c.network.serviceCidr} (kubernetes ${c.network.kubernetesServiceIp}, DNS ${c.network.clusterDnsIp}).`,
    "",
  ];
  let stage = 0;
  if (vm.length) {
    out.push(`## ${++stage}. Virtual machines (libvirt, ${c.hypervisor.uri})`, "");
    for (const p of vm) out.push(`- ${p.kind} \`${p.name}\`: \`libvirt/scripts/*-${p.kind.toLowerCase()}-${p.name}.create.sh\``);
    out.push("", "Then, per node, wait until SSH answers and cloud-init has finished (`libvirt/scripts/ready-<node>.sh`).", "");
  } else {
    out.push(`## ${++stage}. Existing hosts`, "", "Per node, wait until SSH answers (`libvirt/scripts/ready-<node>.sh`).", "");
  }
  planHostLayers(c).forEach((layer, li) => {
    const how = { all: " — one node at a time", "control-plane": " — control-plane nodes one at a time, worker-only nodes in parallel", none: layer.steps.length > 1 ? " — all nodes in parallel" : "" }[layer.rolling];
    out.push(`## ${++stage}. ${layer.layer}${how}`, "");
    for (const s of layer.steps) {
      out.push(`### ${s.node}: ${s.description}`, "");
      if (s.files.length) out.push("Files:", "", ...s.files.map((f) => `- \`${f.path}\` (${f.mode}${f.secret ? ", secret" : ""})`), "");
      out.push(`Script: \`steps/${s.node}/${pad(li + 1)}-${s.layer}.apply.sh\`; undo: \`${pad(li + 1)}-${s.layer}.delete.sh\`.`, "");
      out.push("```bash", ...s.activate, "```", "");
      if (s.healthGate) out.push(`Health gate: ${s.healthGate}.`, "");
    }
  });
  out.push(`## ${++stage}. Addons through the Kubernetes API`, "", ...planAddons(c).map((g, i) => `${i + 1}. ${g.name}: \`addons/${pad(i + 1)}-${g.name}.yaml\` (${g.objects.length} objects)`), "");
  if (numbers) out.push(`Critical path: ${numbers.criticalPath.length} host steps (${numbers.criticalPath.join(" → ")}).`, "");
  return out.join("\n");
}

/** Writes the tree under `dir` (replacing what a previous render left there). */
export function writeTree(dir: string, files: Map<string, string>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, content] of files) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}

/** Host steps per node, from the plan. */
export function hostStepsPerNode(c: ClusterConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of planHostLayers(c).flatMap((l) => l.steps)) out[s.node] = (out[s.node] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}
