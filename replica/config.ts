import type { CoreConfig, NodeId } from "../consensus";
import { DEFAULT_CONFIG as DEFAULT_DOMAIN, type DomainConfig } from "../domain";

/** Everything one replica process is started with. */
export interface ReplicaConfig {
  readonly nodeId: NodeId;
  readonly cluster: string;
  /** Every replica's gRPC address (this one included), by id. */
  readonly peers: ReadonlyMap<NodeId, string>;
  /** Where this replica's gRPC server binds (host:port). */
  readonly grpcListen: string;
  /** Where the REST API binds, and the URL others should use for it. */
  readonly restHost: string;
  readonly restPort: number;
  readonly restUrl: string;
  readonly etcdEndpoints: readonly string[];
  readonly leaseTtlSeconds: number;
  /** Length of one core tick. */
  readonly tickMs: number;
  /** Snapshot the state every this many applied entries. */
  readonly snapshotEvery: number;
  /** Decided entries kept in the log behind the latest snapshot, for cheap catch-up. */
  readonly retainTail: number;
  /** How long a client request may wait for the log (then 503). */
  readonly requestTimeoutMs: number;
  readonly core: Partial<Omit<CoreConfig, "id" | "members">>;
  readonly domain: DomainConfig;
}

export const REPLICA_DEFAULTS = {
  cluster: "paxlog",
  leaseTtlSeconds: 2,
  tickMs: 25,
  snapshotEvery: 10_000,
  retainTail: 1_000,
  requestTimeoutMs: 5_000,
  // In ticks of 25 ms: heartbeat every 100 ms, resend after 200 ms, give up
  // the leader hint after 1 s without hearing from a quorum.
  core: {
    heartbeatTicks: 4,
    resendTicks: 8,
    roundRetryTicks: 8,
    snapshotRetryTicks: 400,
    quorumLossTicks: 40,
  },
  domain: DEFAULT_DOMAIN,
} as const;
