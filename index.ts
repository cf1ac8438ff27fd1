// The lab, top to bottom: config (checked before anything is registered) → the cluster
// plan (every VM object, host step, gate and addon object, with the edges between them:
// components/cluster/plan.ts) → the shipper that makes them resources → outputs.
// Pulumi runs the exported function; its result is the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { checkAgainstLastUp, loadStackConfig } from "./components/config/stack";
import { LAST_UP_OUTPUT, LastUp, STAGES, hostsOf, machinesOf, multiHost, nodesWith, reaches, releasesOf } from "./components/config";
import { stageGuides } from "./components/cluster/stage-guide";
import { ClusterPki } from "./components/pki";
import { adminEndpointNote, apiserverUrls } from "./components/pki";
import { ESTABLISHED_OUTPUT, HOST_FILES_OUTPUT, encodeRecord, fileChanges, previousUp, recordFiles } from "./components/host";
import { hostSteps, planCluster, shipCluster } from "./components/cluster";
import { dashboardAccess, headlampAccess } from "./components/addons";
import { probeMachines } from "./components/vm";

const SAVE_KUBECONFIG = "save the admin kubeconfig first: (umask 077 && npm run -s pulumi -- stack output --show-secrets adminKubeconfig > admin.conf)";

export = async () => {
  const { cluster, sshPrivateKey } = loadStackConfig();
  // nodes the last `up` left running roll on a change; on the first `up` every layer is
  // created on all nodes at once
  const { established, lastUp, hostFiles } = await previousUp();
  checkAgainstLastUp(cluster, lastUp, established, await probeMachines(cluster, [...established]));
  const plan = planCluster(cluster, { established, lastUp });
  const { pki, key, resources, layers } = shipCluster(plan, { sshPrivateKey });
  // what a changed step does to the files on its node, beside it in the preview (its trigger is a digest)
  const files = recordFiles(hostSteps(plan));
  for (const c of fileChanges(hostFiles, files)) pulumi.log.info(`files this step changes on its node:\n${c.text}`, resources.get(c.step));

  // the nodes run once every node registered and every kube-proxy is up (their commands' ids
  // resolve only when they succeeded); a lab stood up to an earlier stage runs no node yet
  // (nothing to roll over), and its record waits for every host step it has
  const workers = reaches(cluster, "workers");
  const awaited = plan.steps.filter((s) => s.kind === "host" && (!workers || s.layer === "nodes-registered" || s.layer === "kube-proxy"));
  const done = pulumi.all([...awaited.map((s) => (resources.get(s.id) as pulumi.CustomResource).id), layers.addons.urn]);
  const controlPlane = reaches(cluster, "control-plane") ? nodesWith(cluster, "control-plane").map((n) => n.name) : [];
  const machines = machinesOf(cluster, lastUp);
  const hosts = hostsOf(cluster);
  const left: LastUp = {
    etcd: plan.etcd.joins,
    controlPlane,
    kubernetesVersion: cluster.versions.kubernetes,
    releases: releasesOf(cluster),
    ...(cluster.etcdRejoin.length ? { etcdRejoin: cluster.etcdRejoin } : {}),
    ...(Object.keys(machines).length ? { machines } : {}),
    ...(cluster.rebuildNodes.length ? { rebuildNodes: cluster.rebuildNodes } : {}),
    ...(Object.keys(hosts).length ? { hosts } : {}),
    ...(cluster.hypervisor.mode === "libvirt" && multiHost(cluster) ? { multiHost: true } : {}),
  };
  const guide = stageGuides(cluster).find((g) => g.stage === cluster.upTo)!;
  return {
    /** The nodes this `up` left running: the next `up` rolls changes over them one at a time. Recorded once every host step succeeded (the addons may still have failed: these nodes run). */
    [ESTABLISHED_OUTPUT]: done.apply(() => (workers ? cluster.nodes.map((n) => n.name) : [])),
    /** How far this lab is stood up (upTo), what that stage built and how to see it by hand; RUNBOOK.md has every stage. */
    upTo: { ...guide, next: cluster.upTo === "addons" ? "the whole lab is up" : `raise upTo to ${STAGES[STAGES.indexOf(cluster.upTo) + 1]} and run npm run up` },
    /** What the next `up` checks a change against and keeps: etcd's members and how each started, the control-plane nodes, the Kubernetes, etcd, containerd and runc releases. Recorded with establishedNodes. */
    [LAST_UP_OUTPUT]: done.apply(() => left),
    /** The files the host steps wrote (gzip, base64; a digest for each secret file), for the next preview to show what changes in them. Recorded with establishedNodes. */
    [HOST_FILES_OUTPUT]: done.apply(() => encodeRecord(files)),
    /** The apiserver the admin kubeconfig talks to. */
    apiserverEndpoint: apiserverUrls(cluster).external,
    /** Why that endpoint: the apiserverEndpoint setting, or the first node (a single point of failure). */
    apiserverEndpointSource: adminEndpointNote(cluster),
    /** Node name → IP. */
    nodeIps: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.ip])),
    /** One SSH command per node; save the key first: (umask 077 && npm run -s pulumi -- stack output --show-secrets sshPrivateKey > lab-key) */
    sshCommands: Object.fromEntries(cluster.nodes.map((n) => [n.name, `ssh -i lab-key ${cluster.ssh.user}@${n.ip}`])),
    ...(pki ? pkiOutputs(pki) : {}),
    sshPublicKey: key.publicKeyOpenssh,
    sshPrivateKey: key.privateKeyOpenssh,
    /** The dashboard, reachable only from this machine (never --address 0.0.0.0 --accept-hosts '.*'). */
    ...(reaches(cluster, "addons") && cluster.addons.dashboard ? { dashboard: { ...dashboardAccess(), note: SAVE_KUBECONFIG } } : {}),
    ...(reaches(cluster, "addons") && cluster.addons.headlamp ? { headlamp: { ...headlampAccess(), note: SAVE_KUBECONFIG } } : {}),
  };
};

/** The outputs the PKI gives (from stage pki on). */
function pkiOutputs(pki: ClusterPki) {
  return {
    /** The everyday admin: group k8s-lab:cluster-admins, bound to cluster-admin (secret). */
    adminKubeconfig: pki.kubeconfigs["admin"],
    /** Break-glass only (system:masters, which no RBAC change can lock out); kept nowhere else (secret). */
    breakGlassKubeconfig: pki.kubeconfigs["super-admin"],
    /** When each CA and certificate expires (RFC 3339), by id; leaves are re-issued on `up` within certEarlyRenewalHours of it. */
    certificateExpiry: pki.expiry,
  };
}
