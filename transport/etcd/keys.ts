/**
 * The etcd key layout of one paxlog cluster. Everything paxlog writes to etcd
 * lives under `/paxlog/<cluster>/`:
 *
 *   members/<id>       leased; JSON MemberInfo of a live replica (failure detector)
 *   leader/<leaseId>   etcd3 Election recipe keys (leased); lowest create revision leads
 *   ballot             decimal round counter, CAS-incremented (ballot fencing)
 *   incarnations/<id>  decimal counter, CAS-incremented once per process start
 *
 * Keys below are relative to the cluster root (an etcd3 Namespace on `root`).
 */

export interface KeyLayout {
  /** Absolute prefix of the cluster, e.g. `/paxlog/main/`. */
  readonly root: string;
  /** Relative prefix of member registrations. */
  readonly membersPrefix: string;
  member(id: number): string;
  /** Relative prefix of the leader election. */
  readonly leaderPrefix: string;
  /** Relative key of the ballot round counter. */
  readonly ballot: string;
  incarnation(id: number): string;
  /** Parses the node id out of a relative `members/<id>` key (undefined if malformed). */
  memberIdOf(relativeKey: string): number | undefined;
}

const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function assertNodeId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new RangeError(`node id must be a non-negative integer, got ${id}`);
  }
}

export function keyLayout(cluster: string): KeyLayout {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new RangeError(`cluster name must match ${CLUSTER_NAME}, got ${JSON.stringify(cluster)}`);
  }
  const membersPrefix = "members/";
  return {
    root: `/paxlog/${cluster}/`,
    membersPrefix,
    member: (id) => {
      assertNodeId(id);
      return `${membersPrefix}${id}`;
    },
    leaderPrefix: "leader/",
    ballot: "ballot",
    incarnation: (id) => {
      assertNodeId(id);
      return `incarnations/${id}`;
    },
    memberIdOf: (key) => {
      if (!key.startsWith(membersPrefix)) return undefined;
      const rest = key.slice(membersPrefix.length);
      if (!/^\d+$/.test(rest)) return undefined;
      const id = Number(rest);
      return Number.isSafeInteger(id) ? id : undefined;
    },
  };
}
