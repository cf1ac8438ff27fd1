// Key material as typed references: what a host step's file holds when its content is a
// certificate, a key or a kubeconfig the PKI issues at `up` time (or the Secrets encryption
// configuration the control plane generates). Plans carry these references; the shipper
// resolves them to secret outputs, the render to placeholders or test material.
// Pure (no Pulumi SDK). Depends on: pki/plan (types and the list of what is issued).
import type { CaId, CertId, KubeconfigId, PkiPlan } from "./plan";

export type MaterialRef =
  | { kind: "ca-cert"; ca: CaId }
  | { kind: "ca-key"; ca: CaId }
  | { kind: "cert"; cert: CertId }
  | { kind: "key"; cert: CertId }
  | { kind: "kubeconfig"; kubeconfig: KubeconfigId }
  | { kind: "service-account-key" }
  | { kind: "service-account-public-key" }
  | { kind: "encryption-config" };

/** Constructors, so a plan reads `material.cert("apiserver")`. */
export const material = {
  caCert: (ca: CaId): MaterialRef => ({ kind: "ca-cert", ca }),
  caKey: (ca: CaId): MaterialRef => ({ kind: "ca-key", ca }),
  cert: (cert: CertId): MaterialRef => ({ kind: "cert", cert }),
  key: (cert: CertId): MaterialRef => ({ kind: "key", cert }),
  kubeconfig: (kubeconfig: KubeconfigId): MaterialRef => ({ kind: "kubeconfig", kubeconfig }),
  serviceAccountKey: (): MaterialRef => ({ kind: "service-account-key" }),
  serviceAccountPublicKey: (): MaterialRef => ({ kind: "service-account-public-key" }),
  encryptionConfig: (): MaterialRef => ({ kind: "encryption-config" }),
};

/** A stable name for a reference ("cert apiserver"): map keys, placeholders, messages. */
export function materialName(r: MaterialRef): string {
  switch (r.kind) {
    case "ca-cert":
    case "ca-key":
      return `${r.kind} ${r.ca}`;
    case "cert":
    case "key":
      return `${r.kind} ${r.cert}`;
    case "kubeconfig":
      return `kubeconfig ${r.kubeconfig}`;
    default:
      return r.kind;
  }
}

/** Does the PKI plan issue what this reference names? */
export function isIssued(r: MaterialRef, pki: PkiPlan): boolean {
  switch (r.kind) {
    case "ca-cert":
    case "ca-key":
      return pki.cas.some((c) => c.id === r.ca);
    case "cert":
    case "key":
      return pki.certs.some((c) => c.id === r.cert);
    case "kubeconfig":
      return pki.kubeconfigs.some((k) => k.id === r.kubeconfig);
    case "service-account-key":
    case "service-account-public-key":
    case "encryption-config":
      return true;
  }
}

/** Private keys and everything that embeds one. */
export function isSecretMaterial(r: MaterialRef): boolean {
  return !(r.kind === "ca-cert" || r.kind === "cert" || r.kind === "service-account-public-key");
}
