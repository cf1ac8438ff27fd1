// The lab, top to bottom: config (checked before anything is registered) → PKI and VMs
// (or existing hosts) → node prep and artifacts → etcd and the local apiserver proxy →
// control plane → containerd, kubelet, kube-proxy → addons.
// Pulumi runs the exported function; its result is the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config";
import { ClusterPki, adminEndpointNote, apiserverUrls, nodeAccessKey, pkiMaterial } from "./components/pki";
import { ESTABLISHED_OUTPUT, NodeAccess, NodeBase, previouslyEstablished } from "./components/host";
import { EtcdCluster } from "./components/etcd";
import { KubeNginx } from "./components/lb";
import { LabVms } from "./components/vm";
import { ControlPlane, adminAccess, nodesRegistered } from "./components/control-plane";
import { Workers } from "./components/worker";
import { Addons, dashboardAccess, headlampAccess } from "./components/addons";

const SAVE_KUBECONFIG = "save the admin kubeconfig first: pulumi stack output --show-secrets adminKubeconfig > admin.conf";

export = async () => {
  const { cluster, sshPrivateKey } = loadStackConfig();
  // nodes the last `up` left running roll on a change; on the first `up` every layer is
  // created on all nodes at once
  const established = await previouslyEstablished();

  const pki = new ClusterPki(cluster.name, { cluster });
  const key = nodeAccessKey(cluster, sshPrivateKey);
  const material = pkiMaterial(pki);

  const vms = new LabVms("vms", { cluster, sshPublicKey: key.publicKeyOpenssh, sshPrivateKey: key.privateKeyOpenssh });
  // a replaced VM (new disk, new domain) gets every host step again
  const access: NodeAccess = { user: cluster.ssh.user, privateKey: key.privateKeyOpenssh, hostIdentity: (n) => vms.ready[n]?.id };
  const base = new NodeBase("nodes", { cluster, access, after: (n) => [vms.ready[n]] });
  const etcd = new EtcdCluster("etcd", { cluster, access, material, established, after: (n) => [base.artifacts[n]] });
  const lb = new KubeNginx("kube-nginx", { cluster, access, established, after: (n) => [base.prep[n]] });
  const controlPlane = new ControlPlane("control-plane", { cluster, access, material, established, after: (n) => [base.artifacts[n], etcd.healthy] });
  const workers = new Workers("workers", {
    cluster,
    access,
    material,
    established,
    afterRuntime: (n) => [base.artifacts[n]],
    afterAgents: (n) => [lb.proxies[n], ...Object.values(controlPlane.nodes)],
  });
  const admins = adminAccess({ cluster, access, material, after: Object.values(controlPlane.nodes) });
  const registered = nodesRegistered({ cluster, access, material, after: [...Object.values(workers.kubelets), admins] });
  const addons = new Addons("addons", { cluster, kubeconfig: pki.kubeconfigs["admin"], after: [registered, ...Object.values(workers.kubeProxies)] });

  return {
    /** The nodes this `up` left running: the next `up` rolls changes over them one at a time. Recorded once every host step succeeded (the addons may still have failed: these nodes run). */
    [ESTABLISHED_OUTPUT]: pulumi.all([registered.command.id, ...Object.values(workers.kubeProxies).map((k) => k.command.id), addons.urn]).apply(() => cluster.nodes.map((n) => n.name)),
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
    sshPublicKey: key.publicKeyOpenssh,
    sshPrivateKey: key.privateKeyOpenssh,
    /** The dashboard, reachable only from this machine (never --address 0.0.0.0 --accept-hosts '.*'). */
    ...(cluster.addons.dashboard ? { dashboard: { ...dashboardAccess(), note: SAVE_KUBECONFIG } } : {}),
    ...(cluster.addons.headlamp ? { headlamp: { ...headlampAccess(), note: SAVE_KUBECONFIG } } : {}),
  };
};
