/** Helpers to run several etcd Coordinators against one test etcd. */

import { Coordinator, type CoordinatorOptions } from "../../transport/etcd/coordinator";
import { createLogger, type Logger } from "../../transport/log";

/** Test logger: quiet (error) unless PAXLOG_LOG_LEVEL says otherwise. */
export function testLogger(): Logger {
  return createLogger(process.env["PAXLOG_LOG_LEVEL"] ? {} : { level: "error" });
}

let clusterSeq = 0;

/** A cluster name unique within this process (tests may share an etcd). */
export function uniqueCluster(prefix = "t"): string {
  clusterSeq++;
  return `${prefix}-${process.pid}-${clusterSeq}`;
}

export function makeCoordinator(
  endpoints: string[],
  cluster: string,
  nodeId: number,
  overrides: Partial<CoordinatorOptions> = {},
): Coordinator {
  return new Coordinator({
    cluster,
    nodeId,
    endpoints,
    leaseTtlSeconds: 1,
    logger: testLogger(),
    grpcAddress: `127.0.0.1:${7000 + nodeId}`,
    restUrl: `http://127.0.0.1:${8000 + nodeId}`,
    ...overrides,
  });
}

/** Creates and starts coordinators for `ids` (in parallel). */
export async function startCoordinators(
  endpoints: string[],
  cluster: string,
  ids: number[],
  overrides: Partial<CoordinatorOptions> = {},
): Promise<Coordinator[]> {
  const cs = ids.map((id) => makeCoordinator(endpoints, cluster, id, overrides));
  const started = await Promise.allSettled(cs.map((c) => c.start()));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(cs.map((c) => c.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return cs;
}

/** Same non-null leader reported by every coordinator, or undefined. */
export function agreedLeader(cs: Coordinator[]): number | undefined {
  const first = cs[0]?.leader;
  if (first === null || first === undefined) return undefined;
  return cs.every((c) => c.leader === first) ? first : undefined;
}

/** True when every coordinator sees exactly `ids` as members. */
export function allSeeMembers(cs: Coordinator[], ids: number[]): boolean {
  const want = [...ids].sort((a, b) => a - b).join(",");
  return cs.every((c) => [...c.members.keys()].sort((a, b) => a - b).join(",") === want);
}
