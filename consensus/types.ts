/**
 * The vocabulary of the consensus core: node ids, log indexes, ballots and the
 * values that instances agree on. Everything here is plain immutable data.
 */

/** A replica's id, 1..n, fixed for the life of the cluster. */
export type NodeId = number & { readonly __brand: "NodeId" };
export const nodeId = (n: number): NodeId => n as NodeId;

/** A position in the replicated log; the first instance is index 1. */
export type LogIndex = number;

/**
 * A ballot orders proposals: by round, then by node id. Rounds come from a
 * shared counter (etcd), so a round is never reused by two proposers.
 */
export interface Ballot {
  readonly round: number;
  readonly nodeId: number;
}

/** The ballot nobody has promised or accepted yet. */
export const NO_BALLOT: Ballot = { round: 0, nodeId: 0 };

/**
 * Node id used in the fence ballot of a restarted (amnesiac) replica: it sorts
 * above every real ballot of the fenced round, so `(R, FENCE_NODE)` refuses
 * every ballot with round <= R and nothing else.
 */
export const FENCE_NODE = Number.MAX_SAFE_INTEGER;

export const fenceBallot = (round: number): Ballot =>
  round > 0 ? { round, nodeId: FENCE_NODE } : NO_BALLOT;

export function compareBallots(a: Ballot, b: Ballot): number {
  return a.round !== b.round ? a.round - b.round : a.nodeId - b.nodeId;
}

export const ballotEquals = (a: Ballot, b: Ballot): boolean =>
  a.round === b.round && a.nodeId === b.nodeId;

export const ballotLess = (a: Ballot, b: Ballot): boolean => compareBallots(a, b) < 0;

export const formatBallot = (b: Ballot): string =>
  `${b.round}.${b.nodeId === FENCE_NODE ? "fence" : b.nodeId}`;

/**
 * What one instance decides: a batch of opaque client commands, or a no-op
 * that a new leader uses to fill a hole nobody reported a value for.
 */
export type Value =
  | { readonly type: "noop" }
  | { readonly type: "batch"; readonly commands: readonly Uint8Array[] };

export const NOOP: Value = { type: "noop" };

export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a.type === "noop" || b.type === "noop") return a.type === b.type;
  if (a.commands.length !== b.commands.length) return false;
  for (let i = 0; i < a.commands.length; i++) {
    if (!bytesEqual(a.commands[i]!, b.commands[i]!)) return false;
  }
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const valueBytes = (v: Value): number =>
  v.type === "noop" ? 0 : v.commands.reduce((n, c) => n + c.byteLength, 0);

/** A chosen entry handed to the state machine, in index order. */
export interface DecidedEntry {
  readonly index: LogIndex;
  readonly value: Value;
}
