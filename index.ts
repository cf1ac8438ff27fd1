// The lab, top to bottom: config (checked before anything is registered) → PKI → the
// layers that follow. Pulumi runs the exported function; its result is the stack outputs.
import { loadStackConfig } from "./components/config";
import { ClusterPki, apiserverUrls, nodeAccessKey } from "./components/pki";

export = async () => {
  const { cluster, sshPrivateKey } = loadStackConfig();

  const pki = new ClusterPki(cluster.name, { cluster });
  const access = nodeAccessKey(cluster, sshPrivateKey);

  return {
    /** The apiserver the admin kubeconfig talks to. */
    apiserverEndpoint: apiserverUrls(cluster).external,
    /** Node name → IP. */
    nodeIps: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.ip])),
    /** One SSH command per node; save the key first: pulumi stack output --show-secrets sshPrivateKey > lab-key && chmod 600 lab-key */
    sshCommands: Object.fromEntries(cluster.nodes.map((n) => [n.name, `ssh -i lab-key ${cluster.ssh.user}@${n.ip}`])),
    adminKubeconfig: pki.kubeconfigs["admin"],
    sshPublicKey: access.publicKeyOpenssh,
    sshPrivateKey: access.privateKeyOpenssh,
  };
};
