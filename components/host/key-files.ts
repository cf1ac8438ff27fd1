// Key-file placement: where key material lands on the nodes (the kubeadm layout, so guides
// and tools agree), and the host files that carry it (by reference, resolved at ship time).
// Pure. Depends on: host/plan, pki/material.
import type { HostFile } from "./plan";
import { MaterialRef, material } from "../pki/material";
import type { CertId } from "../pki/plan";

export const PKI_DIR = "/etc/kubernetes/pki";
export const ETCD_PKI_DIR = `${PKI_DIR}/etcd`;
export const KUBECONFIG_DIR = "/etc/kubernetes";

/** A certificate file (public). */
export function certFile(path: string, ref: MaterialRef): HostFile {
  return { path, content: { ref }, mode: "0644" };
}
/** A private key or kubeconfig file: secret, 0600. */
export function secretFile(path: string, ref: MaterialRef): HostFile {
  return { path, content: { ref }, mode: "0600", secret: true };
}
/** A certificate and its key at `<base>.crt` / `<base>.key`. */
export function certAndKey(base: string, certId: CertId): HostFile[] {
  return [certFile(`${base}.crt`, material.cert(certId)), secretFile(`${base}.key`, material.key(certId))];
}
