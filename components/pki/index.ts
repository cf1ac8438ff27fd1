// PKI layer: issues with @pulumi/tls every CA, certificate, key and kubeconfig that
// planPki lists, and the SSH key for node access when config has none. Private keys and
// everything that embeds one are secret outputs. Depends on: config, pki/plan.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ClusterConfig } from "../config";
import { MaterialRef, materialName } from "./material";
import { CaId, CertPlan, PkiPlan, caCertInputs, certRequestInputs, keyInputs, leafCertInputs, planPki, renderKubeconfig } from "./plan";

export * from "./plan";
export * from "./material";

/** A certificate with its private key (secret). */
export interface IssuedCert {
  certPem: pulumi.Output<string>;
  privateKeyPem: pulumi.Output<string>;
  /** When it expires (RFC 3339), as the tls provider reports it. */
  expires: pulumi.Output<string>;
}

export interface ClusterPkiArgs {
  /** The checked cluster model; the PKI plan is derived from it. */
  cluster: ClusterConfig;
}

/** `rotation`: a value whose change replaces the resource (pkiRotation, leaves only). */
function newKey(name: string, plan: PkiPlan, parent: pulumi.Resource, rotation?: string): tls.PrivateKey {
  return new tls.PrivateKey(name, keyInputs(plan), { parent, ...(rotation ? { replacementTrigger: rotation } : {}) });
}

function issueCa(id: CaId, plan: PkiPlan, parent: pulumi.Resource): IssuedCert & { key: tls.PrivateKey } {
  const ca = plan.cas.find((x) => x.id === id)!;
  const key = newKey(id, plan, parent);
  const privateKeyPem = pulumi.secret(key.privateKeyPem);
  const cert = new tls.SelfSignedCert(id, { privateKeyPem, ...caCertInputs(ca, plan) }, { parent });
  return { certPem: cert.certPem, privateKeyPem, expires: cert.validityEndTime, key };
}

function issueLeaf(c: CertPlan, ca: IssuedCert, plan: PkiPlan, parent: pulumi.Resource, rotation: string): IssuedCert {
  // a new pkiRotation value replaces the key, and with it the request and the certificate
  const key = newKey(c.id, plan, parent, rotation);
  const privateKeyPem = pulumi.secret(key.privateKeyPem);
  const csr = new tls.CertRequest(c.id, { privateKeyPem, ...certRequestInputs(c) }, { parent });
  const cert = new tls.LocallySignedCert(
    c.id,
    { certRequestPem: csr.certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: ca.privateKeyPem, ...leafCertInputs(c, plan) },
    { parent },
  );
  return { certPem: cert.certPem, privateKeyPem, expires: cert.validityEndTime };
}

/**
 * The cluster's whole PKI. Fields are keyed by the ids of the plan:
 * `certs["apiserver"]`, `certs["kubelet-k8s-1"]`, `kubeconfigs["admin"]`…
 */
export class ClusterPki extends pulumi.ComponentResource {
  /** What was issued, as data (also what the render command prints). */
  readonly plan: PkiPlan;
  readonly cas: Readonly<Record<string, IssuedCert>>;
  readonly certs: Readonly<Record<string, IssuedCert>>;
  /** Kubeconfigs with embedded keys: secret. */
  readonly kubeconfigs: Readonly<Record<string, pulumi.Output<string>>>;
  /** Every CA's and leaf's expiry (RFC 3339), by id. */
  readonly expiry: pulumi.Output<Record<string, string>>;
  /**
   * The cluster CA's key: never replaced (pkiRotation renews leaves only), so deleted only
   * when the whole cluster is destroyed — what steps pointless in a whole destroy are
   * deleted with.
   */
  readonly clusterAnchor: pulumi.Resource;
  /** The service-account token signing key pair (private half secret). */
  readonly serviceAccountKey: { privateKeyPem: pulumi.Output<string>; publicKeyPem: pulumi.Output<string> };

  constructor(name: string, args: ClusterPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:pki:ClusterPki", name, {}, opts);
    const plan = planPki(args.cluster);
    const cas: Record<string, IssuedCert> = {};
    let anchor: pulumi.Resource | undefined;
    for (const ca of plan.cas) {
      const { key, ...issued } = issueCa(ca.id, plan, this);
      cas[ca.id] = issued;
      if (ca.id === "cluster-ca") anchor = key;
    }
    if (!anchor) throw new Error("pki: the plan has no cluster-ca");
    this.clusterAnchor = anchor;
    const certs: Record<string, IssuedCert> = {};
    for (const c of plan.certs) certs[c.id] = issueLeaf(c, cas[c.ca], plan, this, args.cluster.pki.rotation);

    const kubeconfigs: Record<string, pulumi.Output<string>> = {};
    for (const k of plan.kubeconfigs) {
      const cert = certs[k.cert];
      const user = plan.certs.find((x) => x.id === k.cert)!.commonName;
      kubeconfigs[k.id] = pulumi.secret(
        pulumi
          .all([cas["cluster-ca"].certPem, cert.certPem, cert.privateKeyPem])
          .apply(([caPem, certPem, keyPem]) => renderKubeconfig({ clusterName: args.cluster.name, server: k.server, user, caPem, certPem, keyPem })),
      );
    }

    const saKey = newKey("service-account", plan, this);
    this.plan = plan;
    this.cas = cas;
    this.certs = certs;
    this.kubeconfigs = kubeconfigs;
    this.serviceAccountKey = { privateKeyPem: pulumi.secret(saKey.privateKeyPem), publicKeyPem: saKey.publicKeyPem };
    this.expiry = pulumi.all(Object.fromEntries([...Object.entries(cas), ...Object.entries(certs)].map(([id, c]) => [id, c.expires])));
    this.registerOutputs({ kubeconfigs: Object.keys(kubeconfigs), certs: Object.keys(certs) });
  }
}

export interface NodeAccessKey {
  publicKeyOpenssh: pulumi.Output<string>;
  privateKeyOpenssh: pulumi.Output<string>;
}

/** The SSH key the program logs in with: from config, or generated (ED25519) when none is set. */
/**
 * A private key as OpenSSH reads it from a file: with its final newline. `pulumi config set
 * --secret sshPrivateKey < KEYFILE` stores the file without it, and ssh then refuses the key
 * ("Load key …: error in libcrypto") wherever it is written to a file (the readiness gates).
 */
export const withFinalNewline = (key: string): string => (key.endsWith("\n") ? key : `${key}\n`);

export function nodeAccessKey(
  c: ClusterConfig,
  fromConfig: pulumi.Output<string> | undefined,
  opts?: pulumi.CustomResourceOptions,
): NodeAccessKey {
  if (fromConfig && c.ssh.publicKey) {
    return { publicKeyOpenssh: pulumi.output(c.ssh.publicKey), privateKeyOpenssh: pulumi.secret(fromConfig.apply(withFinalNewline)) };
  }
  const key = new tls.PrivateKey(`${c.name}-ssh`, { algorithm: "ED25519" }, opts);
  return { publicKeyOpenssh: key.publicKeyOpenssh, privateKeyOpenssh: pulumi.secret(key.privateKeyOpenssh) };
}

/**
 * Resolves host-step references to outputs: the PKI's certificates, keys and kubeconfigs,
 * and `extra` for what other layers generate (the Secrets encryption configuration).
 * A reference to something not issued is a programming error (planCluster checks first).
 */
export function pkiMaterial(pki: ClusterPki, extra: { encryptionConfig?: pulumi.Output<string> } = {}): (ref: MaterialRef) => pulumi.Output<string> {
  return (ref) => {
    const pick = (): pulumi.Output<string> | undefined => {
      switch (ref.kind) {
        case "ca-cert": return pki.cas[ref.ca]?.certPem;
        case "ca-key": return pki.cas[ref.ca]?.privateKeyPem;
        case "cert": return pki.certs[ref.cert]?.certPem;
        case "key": return pki.certs[ref.cert]?.privateKeyPem;
        case "kubeconfig": return pki.kubeconfigs[ref.kubeconfig];
        case "service-account-key": return pki.serviceAccountKey.privateKeyPem;
        case "service-account-public-key": return pki.serviceAccountKey.publicKeyPem;
        case "encryption-config": return extra.encryptionConfig;
      }
    };
    const out = pick();
    if (!out) throw new Error(`no key material for ${materialName(ref)}`);
    return out;
  };
}
