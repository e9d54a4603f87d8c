import type { ClusterViewLite } from "./cluster";

/**
 * What a `paxlog check` run needs from the cluster it tests: the local
 * process cluster (ProcessCluster, cluster.ts) and the compose cluster
 * (ComposeCluster, compose-cluster.ts) both provide it. The runner and the
 * nemesis see nothing else, so a fault means the same on both.
 */
export interface ClusterUnderTest {
  /** What start() brings up, for the run log. */
  readonly description: string;
  /** Replica ids 1..n and the REST URL clients use for each. */
  readonly replicas: readonly { readonly id: number; readonly url: string }[];
  /** Brings the cluster up; resolves once every replica serves and has left recovery. */
  start(): Promise<void>;
  /** Tears it down (logs kept in the run directory). */
  stop(): Promise<void>;
  /** A crash: the replica loses everything it held in memory. */
  kill(id: number): Promise<void>;
  /** Starts a killed replica again, empty (it must recover). */
  restart(id: number): void | Promise<void>;
  /** Freezes a replica with its memory; resume() thaws it. */
  pause(id: number): void | Promise<void>;
  resume(id: number): void | Promise<void>;
  /**
   * Cuts every replica↔replica link between `side` and the other replicas,
   * both directions; etcd and the replicas' REST ports stay reachable.
   */
  partition(side: readonly number[]): void | Promise<void>;
  /** Undoes every partition. */
  healPartitions(): void | Promise<void>;
  /** Undoes every fault: links healed, paused replicas resumed, killed ones restarted. */
  restoreAll(): Promise<void>;
  /** GET a JSON endpoint of one replica; null on any failure. */
  admin<T = Record<string, unknown>>(
    id: number,
    route: string,
    headers?: Record<string, string>,
    timeoutMs?: number,
  ): Promise<{ status: number; body: T } | null>;
  view(id: number): Promise<ClusterViewLite | null>;
  /** Every replica runs, is not paused, serves, and has left recovery. */
  allServing(): Promise<boolean>;
  /** The leader as the replicas see it, or null. */
  leader(): Promise<number | null>;
}

/**
 * The part of a ClusterUnderTest that only asks replicas over HTTP, the same
 * for both clusters: they differ only in which replicas are up to be asked.
 */
export abstract class ClusterViews {
  abstract readonly replicas: readonly { readonly id: number; readonly url: string }[];

  /** Whether replica `id` runs and is not paused (the others are not asked). */
  protected abstract isUp(id: number): boolean;

  /** GET a JSON endpoint of one replica; null on any failure. */
  async admin<T = Record<string, unknown>>(
    id: number,
    route: string,
    headers: Record<string, string> = {},
    timeoutMs = 1_500,
  ): Promise<{ status: number; body: T } | null> {
    const url = this.replicas.find((r) => r.id === id)?.url;
    if (!url) return null;
    try {
      const res = await fetch(`${url}${route}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, body: (await res.json()) as T };
    } catch {
      return null;
    }
  }

  async view(id: number): Promise<ClusterViewLite | null> {
    const a = await this.admin<ClusterViewLite>(id, "/v1/cluster");
    return a?.status === 200 ? a.body : null;
  }

  /** Every replica runs, is not paused, serves, and has left recovery. */
  async allServing(): Promise<boolean> {
    const views = await this.upViews();
    return views.every((v) => v !== null && v.recovering === false);
  }

  /** The leader as the replicas see it (a replica that says it leads, else a hint), or null. */
  async leader(): Promise<number | null> {
    const views = await this.upViews();
    const leading = views.find((v) => v?.role === "leader");
    if (leading) return leading.nodeId;
    return views.find((v) => v?.leader != null)?.leader ?? null;
  }

  private upViews(): Promise<(ClusterViewLite | null)[]> {
    return Promise.all(this.replicas.map((r) => (this.isUp(r.id) ? this.view(r.id) : null)));
  }
}
