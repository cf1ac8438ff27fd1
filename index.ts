// The lab, top to bottom: config (checked before anything is registered) → the cluster
// plan (every VM object, host step, gate and addon object, with the edges between them:
// components/cluster/plan.ts) → the shipper that makes them resources → outputs.
// Pulumi runs the exported function; its result is the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { checkAgainstLastUp, loadStackConfig } from "./components/config/stack";
import { LAST_UP_OUTPUT, LastUp, nodesWith } from "./components/config";
import { adminEndpointNote, apiserverUrls } from "./components/pki";
import { ESTABLISHED_OUTPUT, HostStep, previousUp } from "./components/host";
import { planCluster, shipCluster } from "./components/cluster";
import { dashboardAccess, headlampAccess } from "./components/addons";

const SAVE_KUBECONFIG = "save the admin kubeconfig first: pulumi stack output --show-secrets adminKubeconfig > admin.conf";

export = async () => {
  const { cluster, sshPrivateKey } = loadStackConfig();
  // nodes the last `up` left running roll on a change; on the first `up` every layer is
  // created on all nodes at once
  const { established, lastUp } = await previousUp();
  checkAgainstLastUp(cluster, lastUp, established);
  const plan = planCluster(cluster, { established, lastUp });
  const { pki, key, resources, layers } = shipCluster(plan, { sshPrivateKey });

  // the nodes run once every node registered and every kube-proxy is up (their commands' ids
  // resolve only when they succeeded)
  const running = plan.steps.filter((s) => s.layer === "nodes-registered" || s.layer === "kube-proxy").map((s) => (resources.get(s.id) as HostStep).command.id);
  const done = pulumi.all([...running, layers.addons.urn]);
  const left: LastUp = { etcd: plan.etcd.joins, controlPlane: nodesWith(cluster, "control-plane").map((n) => n.name), kubernetesVersion: cluster.versions.kubernetes };
  return {
    /** The nodes this `up` left running: the next `up` rolls changes over them one at a time. Recorded once every host step succeeded (the addons may still have failed: these nodes run). */
    [ESTABLISHED_OUTPUT]: done.apply(() => cluster.nodes.map((n) => n.name)),
    /** What the next `up` checks a change against and keeps: etcd's members and how each started, the control-plane nodes, the Kubernetes version. Recorded with establishedNodes. */
    [LAST_UP_OUTPUT]: done.apply(() => left),
    /** The apiserver the admin kubeconfig talks to. */
    apiserverEndpoint: apiserverUrls(cluster).external,
    /** Why that endpoint: the apiserverEndpoint setting, or the first node (a single point of failure). */
    apiserverEndpointSource: adminEndpointNote(cluster),
    /** Node name → IP. */
    nodeIps: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.ip])),
    /** One SSH command per node; save the key first: pulumi stack output --show-secrets sshPrivateKey > lab-key && chmod 600 lab-key */
    sshCommands: Object.fromEntries(cluster.nodes.map((n) => [n.name, `ssh -i lab-key ${cluster.ssh.user}@${n.ip}`])),
    /** The everyday admin: group k8s-lab:cluster-admins, bound to cluster-admin (secret). */
    adminKubeconfig: pki.kubeconfigs["admin"],
    /** Break-glass only (system:masters, which no RBAC change can lock out); kept nowhere else (secret). */
    breakGlassKubeconfig: pki.kubeconfigs["super-admin"],
    /** When each CA and certificate expires (RFC 3339), by id; leaves are re-issued on `up` within certEarlyRenewalHours of it. */
    certificateExpiry: pki.expiry,
    sshPublicKey: key.publicKeyOpenssh,
    sshPrivateKey: key.privateKeyOpenssh,
    /** The dashboard, reachable only from this machine (never --address 0.0.0.0 --accept-hosts '.*'). */
    ...(cluster.addons.dashboard ? { dashboard: { ...dashboardAccess(), note: SAVE_KUBECONFIG } } : {}),
    ...(cluster.addons.headlamp ? { headlamp: { ...headlampAccess(), note: SAVE_KUBECONFIG } } : {}),
  };
};
