// The render's test-PKI mode (`npm run render -- --test-pki`): the cluster's PKI issued in
// process with real keys (node:crypto), CSRs and X.509 certificates (@peculiar/x509) from
// exactly the inputs ClusterPki gives @pulumi/tls (pki/plan builds them for both), so the
// real tools (openssl, the upstream judges) can check what the program asks for. The one
// TLS double: the stand-in engine answers tls resources with these same functions.
// Pure (no Pulumi SDK). Depends on: pki/plan, pki/material, control-plane/plan (encryption config).
import "reflect-metadata";
import * as crypto from "crypto";
import * as x509 from "@peculiar/x509";
import { ClusterConfig } from "../components/config";
import { MaterialRef, materialName } from "../components/pki/material";
import { caCertInputs, certRequestInputs, keyInputs, leafCertInputs, planPki, renderKubeconfig } from "../components/pki/plan";
import { encryptionConfig } from "../components/control-plane/plan";

type CryptoKey = crypto.webcrypto.CryptoKey;
type Algorithm = crypto.webcrypto.Algorithm;
type EcdsaParams = crypto.webcrypto.EcdsaParams;
x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

// ---- keys and certificates ---------------------------------------------------------

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
function sshMpint(b: Buffer): Buffer {
  let x = b;
  while (x.length > 1 && x[0] === 0 && !(x[1] & 0x80)) x = x.subarray(1);
  if (x[0] & 0x80) x = Buffer.concat([Buffer.from([0]), x]);
  return sshString(x);
}

/** The OpenSSH public key line for a key, as the tls provider's publicKeyOpenssh. */
export function opensshPublicKey(pub: crypto.KeyObject): string {
  const jwk = pub.export({ format: "jwk" }) as crypto.JsonWebKey;
  const b64 = (s: string) => Buffer.from(s, "base64url");
  let blob: Buffer;
  let kind: string;
  if (jwk.kty === "EC") {
    const curve = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" }[jwk.crv as string]!;
    kind = `ecdsa-sha2-${curve}`;
    blob = Buffer.concat([sshString(Buffer.from(kind)), sshString(Buffer.from(curve)), sshString(Buffer.concat([Buffer.from([4]), b64(jwk.x!), b64(jwk.y!)]))]);
  } else if (jwk.kty === "RSA") {
    kind = "ssh-rsa";
    blob = Buffer.concat([sshString(Buffer.from(kind)), sshMpint(b64(jwk.e!)), sshMpint(b64(jwk.n!))]);
  } else {
    kind = "ssh-ed25519";
    blob = Buffer.concat([sshString(Buffer.from(kind)), sshString(b64(jwk.x!))]);
  }
  return `${kind} ${blob.toString("base64")}\n`;
}

export function generateKey(inputs: Record<string, any>): Record<string, string> {
  const algorithm = inputs.algorithm ?? "RSA";
  let pair: crypto.KeyPairKeyObjectResult;
  let privateKeyPem: string;
  if (algorithm === "ECDSA") {
    const namedCurve = { P224: "P-224", P256: "P-256", P384: "P-384", P521: "P-521" }[(inputs.ecdsaCurve ?? "P224") as string];
    if (!namedCurve) throw new Error(`mock tls: unknown ecdsaCurve ${inputs.ecdsaCurve}`);
    pair = crypto.generateKeyPairSync("ec", { namedCurve });
    privateKeyPem = pair.privateKey.export({ type: "sec1", format: "pem" }) as string;
  } else if (algorithm === "RSA") {
    pair = crypto.generateKeyPairSync("rsa", { modulusLength: inputs.rsaBits ?? 2048 });
    privateKeyPem = pair.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  } else if (algorithm === "ED25519") {
    pair = crypto.generateKeyPairSync("ed25519");
    privateKeyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  } else {
    throw new Error(`mock tls: unknown algorithm ${algorithm}`);
  }
  const pubDer = pair.publicKey.export({ type: "spki", format: "der" });
  return {
    algorithm,
    privateKeyPem,
    privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    privateKeyOpenssh: privateKeyPem,
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }) as string,
    publicKeyOpenssh: opensshPublicKey(pair.publicKey),
    publicKeyFingerprintSha256: "SHA256:" + crypto.createHash("sha256").update(pubDer).digest("base64").replace(/=+$/, ""),
    publicKeyFingerprintMd5: crypto.createHash("md5").update(pubDer).digest("hex").replace(/(..)(?!$)/g, "$1:"),
  };
}

interface Signer {
  key: CryptoKey;
  publicKey: CryptoKey;
  algorithm: Algorithm | EcdsaParams;
}

async function importSigner(privateKeyPem: string): Promise<Signer> {
  const ko = crypto.createPrivateKey(privateKeyPem);
  const der = ko.export({ type: "pkcs8", format: "der" });
  const spki = crypto.createPublicKey(ko).export({ type: "spki", format: "der" });
  const subtle = crypto.webcrypto.subtle;
  if (ko.asymmetricKeyType === "ec") {
    const namedCurve = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[ko.asymmetricKeyDetails?.namedCurve as string] ?? "P-256";
    const alg = { name: "ECDSA", namedCurve };
    return {
      key: (await subtle.importKey("pkcs8", der, alg, true, ["sign"])) as unknown as CryptoKey,
      publicKey: (await subtle.importKey("spki", spki, alg, true, ["verify"])) as unknown as CryptoKey,
      algorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    };
  }
  if (ko.asymmetricKeyType === "rsa") {
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    return {
      key: (await subtle.importKey("pkcs8", der, alg, true, ["sign"])) as unknown as CryptoKey,
      publicKey: (await subtle.importKey("spki", spki, alg, true, ["verify"])) as unknown as CryptoKey,
      algorithm: alg,
    };
  }
  throw new Error(`mock tls: cannot sign with a ${ko.asymmetricKeyType} key`);
}

function escapeRdn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, "\\$1");
}

function subjectName(subject: Record<string, any> | undefined): string {
  if (!subject) return "";
  const parts: string[] = [];
  const add = (attr: string, v: unknown) => {
    if (typeof v === "string" && v) parts.push(`${attr}=${escapeRdn(v)}`);
  };
  add("CN", subject.commonName);
  add("O", subject.organization);
  add("OU", subject.organizationalUnit);
  add("C", subject.country);
  add("L", subject.locality);
  add("ST", subject.province);
  return parts.join(", ");
}

const KEY_USAGE: Record<string, number> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
};
const EXT_KEY_USAGE: Record<string, string> = {
  server_auth: "1.3.6.1.5.5.7.3.1",
  client_auth: "1.3.6.1.5.5.7.3.2",
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
};

function usageExtensions(allowedUses: string[] = [], isCa: boolean): x509.Extension[] {
  for (const u of allowedUses) {
    if (!(u in KEY_USAGE) && !(u in EXT_KEY_USAGE)) throw new Error(`mock tls: unknown allowedUses value '${u}' (the provider would reject it)`);
  }
  const flags = allowedUses.reduce((acc, u) => acc | (KEY_USAGE[u] ?? 0), 0);
  const ext: x509.Extension[] = [new x509.BasicConstraintsExtension(isCa, undefined, true)];
  if (flags) ext.push(new x509.KeyUsagesExtension(flags, true));
  const eku = allowedUses.filter((u) => u in EXT_KEY_USAGE).map((u) => EXT_KEY_USAGE[u]);
  if (eku.length) ext.push(new x509.ExtendedKeyUsageExtension(eku, false));
  return ext;
}

function sanExtension(dnsNames: string[] = [], ipAddresses: string[] = []): x509.Extension[] {
  const names = [...dnsNames.map((value) => ({ type: "dns" as const, value })), ...ipAddresses.map((value) => ({ type: "ip" as const, value }))];
  return names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : [];
}

function validity(hours: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(hours) || hours <= 0) throw new Error(`mock tls: validityPeriodHours must be a positive integer, got ${hours}`);
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + hours * 3600 * 1000) };
}

function serial(): string {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f;
  return b.toString("hex");
}

export async function selfSignedCert(inputs: Record<string, any>): Promise<Record<string, any>> {
  const s = await importSigner(inputs.privateKeyPem);
  const name = subjectName(inputs.subject);
  const v = validity(inputs.validityPeriodHours);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name,
    issuer: name,
    ...v,
    publicKey: s.publicKey,
    signingKey: s.key,
    signingAlgorithm: s.algorithm,
    extensions: [
      ...usageExtensions(inputs.allowedUses, inputs.isCaCertificate === true),
      ...sanExtension(inputs.dnsNames, inputs.ipAddresses),
      await x509.SubjectKeyIdentifierExtension.create(s.publicKey),
    ],
  });
  return { ...inputs, certPem: cert.toString("pem") + "\n", validityStartTime: v.notBefore.toISOString(), validityEndTime: v.notAfter.toISOString(), readyForRenewal: false };
}

export async function certRequest(inputs: Record<string, any>): Promise<Record<string, any>> {
  const s = await importSigner(inputs.privateKeyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(inputs.subject),
    keys: { privateKey: s.key, publicKey: s.publicKey },
    signingAlgorithm: s.algorithm,
    extensions: sanExtension(inputs.dnsNames, inputs.ipAddresses),
  });
  return { ...inputs, certRequestPem: csr.toString("pem") + "\n" };
}

export async function locallySignedCert(inputs: Record<string, any>): Promise<Record<string, any>> {
  const ca = await importSigner(inputs.caPrivateKeyPem);
  const caCert = new x509.X509Certificate(inputs.caCertPem);
  if (!(await caCert.publicKey.export()).algorithm) throw new Error("mock tls: bad CA certificate");
  const csr = new x509.Pkcs10CertificateRequest(inputs.certRequestPem);
  if (!(await csr.verify())) throw new Error("mock tls: the CSR's signature does not verify");
  const sanRaw = csr.getExtension("2.5.29.17");
  const san = sanRaw ? new x509.SubjectAlternativeNameExtension(sanRaw.rawData) : undefined;
  const v = validity(inputs.validityPeriodHours);
  const publicKey = await csr.publicKey.export();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: csr.subject,
    issuer: caCert.subject,
    ...v,
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.algorithm,
    extensions: [
      ...usageExtensions(inputs.allowedUses, inputs.isCaCertificate === true),
      ...(san ? [new x509.SubjectAlternativeNameExtension(san.names.toJSON(), false)] : []),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { ...inputs, certPem: cert.toString("pem") + "\n", validityStartTime: v.notBefore.toISOString(), validityEndTime: v.notAfter.toISOString(), readyForRenewal: false };
}

// ---- the whole PKI of a cluster ---------------------------------------------------------

export interface TestPki {
  /** Every reference the plans can make, resolved. */
  material: (ref: MaterialRef) => string;
  /** An OpenSSH public key for the user-data. */
  sshPublicKey: string;
}

/** Issues the cluster's PKI as ClusterPki would, for the render and the upstream tests. */
export async function issueTestPki(c: ClusterConfig): Promise<TestPki> {
  const plan = planPki(c);
  const values = new Map<string, string>();
  const put = (ref: MaterialRef, v: string) => values.set(materialName(ref), v);
  const cas = new Map<string, { certPem: string; privateKeyPem: string }>();
  for (const ca of plan.cas) {
    const { privateKeyPem } = generateKey(keyInputs(plan));
    const { certPem } = await selfSignedCert({ privateKeyPem, ...caCertInputs(ca, plan) });
    cas.set(ca.id, { certPem, privateKeyPem });
    put({ kind: "ca-cert", ca: ca.id }, certPem);
    put({ kind: "ca-key", ca: ca.id }, privateKeyPem);
  }
  const certs = new Map<string, { certPem: string; privateKeyPem: string; commonName: string }>();
  for (const leaf of plan.certs) {
    const ca = cas.get(leaf.ca)!;
    const { privateKeyPem } = generateKey(keyInputs(plan));
    const { certRequestPem } = await certRequest({ privateKeyPem, ...certRequestInputs(leaf) });
    const { certPem } = await locallySignedCert({ certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: ca.privateKeyPem, ...leafCertInputs(leaf, plan) });
    certs.set(leaf.id, { certPem, privateKeyPem, commonName: leaf.commonName });
    put({ kind: "cert", cert: leaf.id }, certPem);
    put({ kind: "key", cert: leaf.id }, privateKeyPem);
  }
  for (const k of plan.kubeconfigs) {
    const cert = certs.get(k.cert)!;
    put(
      { kind: "kubeconfig", kubeconfig: k.id },
      renderKubeconfig({ clusterName: c.name, server: k.server, user: cert.commonName, caPem: cas.get("cluster-ca")!.certPem, certPem: cert.certPem, keyPem: cert.privateKeyPem }),
    );
  }
  const sa = generateKey(keyInputs(plan));
  put({ kind: "service-account-key" }, sa.privateKeyPem);
  put({ kind: "service-account-public-key" }, sa.publicKeyPem);
  put({ kind: "encryption-config" }, encryptionConfig(crypto.randomBytes(32).toString("base64")));
  const ssh = generateKey({ algorithm: "ED25519" });
  return {
    material: (ref) => {
      const v = values.get(materialName(ref));
      if (v === undefined) throw new Error(`test PKI: nothing issued for ${materialName(ref)}`);
      return v;
    },
    sshPublicKey: ssh.publicKeyOpenssh,
  };
}
