// The host steps of a config, in the order of the cluster plan: a shorthand for tests and
// tools that look at what lands on the nodes. Pure. Depends on: config, cluster/plan.
import { ClusterConfig } from "../config";
import { HostStepPlan } from "../host/plan";
import { hostSteps, planCluster } from "../cluster/plan";

export { placeholderMaterial } from "./index";

/** Every host step's plan, in plan order. */
export function allHostSteps(c: ClusterConfig): HostStepPlan[] {
  return hostSteps(planCluster(c)).map((s) => s.plan);
}
