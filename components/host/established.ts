// Which nodes already run the cluster, as the stack's previous `up` recorded it (its
// `establishedNodes` output, read through a reference to this very stack). On the first
// `up` nothing runs, so every node's layers are created in parallel; once a node is
// established, a change to a rolled layer restarts it one node at a time.
// Depends on: @pulumi/pulumi.
import * as pulumi from "@pulumi/pulumi";

/** The stack output that records the established nodes. */
export const ESTABLISHED_OUTPUT = "establishedNodes";

/** The nodes the previous successful `up` left running (empty on the first). */
export async function previouslyEstablished(): Promise<ReadonlySet<string>> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const previous = new pulumi.StackReference("previous-up", { name: self });
  const details = await previous.getOutputDetails(ESTABLISHED_OUTPUT);
  const value = details.value ?? details.secretValue;
  return new Set(Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : []);
}
