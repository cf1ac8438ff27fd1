// Control-plane layer (shipping): what only this layer generates at `up` — the Secrets
// encryption key (random, kept secret) and the EncryptionConfiguration made from it. The
// control-plane host steps themselves are planned in control-plane/plan and shipped by
// the cluster shipper. Depends on: control-plane/plan, @pulumi/random.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { encryptionConfig } from "./plan";

export * from "./plan";

/** The Secrets encryption configuration (secret), from a 32-byte key generated once. */
export function secretsEncryptionConfig(parent: pulumi.Resource): pulumi.Output<string> {
  const key = new random.RandomBytes("secrets-encryption-key", { length: 32 }, { parent });
  return pulumi.secret(key.base64.apply(encryptionConfig));
}
