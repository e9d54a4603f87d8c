import { createHash } from "node:crypto";
import type { KvProjection } from "./kv-projection";
import { snapshotBody } from "./snapshot";

/**
 * A deterministic hash of the whole state (appliedIndex, every KV pair with
 * version and modIndex, the exactly-once table), to compare replicas. It is
 * the sha256 of the canonical snapshot body: ordered by key (tree order,
 * never Map order), so it does not depend on the tree's shape, on how the
 * state was built (one by one, batched, restored) or on property order.
 */
export function digest(p: KvProjection): string {
  const h = createHash("sha256");
  for (const chunk of snapshotBody(p)) h.update(chunk);
  return h.digest("hex");
}
