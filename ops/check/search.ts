import { performance } from "node:perf_hooks";
import { Bitset } from "./bitset";

/**
 * The Wing–Gong linearizability search with Lowe's memoisation, laid out as
 * Porcupine does it (Athalye, "Porcupine"; Lowe, "Testing for linearizability",
 * 2017):
 *
 * - the history becomes a doubly linked list of call and return events in time
 *   order (at equal times calls come first, so touching ops count as concurrent);
 * - an op may be linearized next iff its call comes before the first return still
 *   in the list (every op that returned earlier has been linearized already);
 * - linearizing an op "lifts" its call and return out of the list, backtracking
 *   "unlifts" them, both O(1), so the list always holds exactly the pending ops;
 * - a cache of (linearized set, model state) pairs prunes revisits: two paths that
 *   linearized the same ops and reached the same state have the same future, so the
 *   second one is cut (this is what makes the search practical);
 * - an explicit stack of (op, state before it) replaces recursion.
 *
 * Generic over the model so it can be tested on its own; the KV model lives in
 * `partition-model.ts`.
 */

export interface SearchModel<S, E> {
  readonly init: S;
  /** The state after `entry`, or undefined if its observed result is impossible in `state`. */
  step(state: S, entry: E): S | undefined;
  equal(a: S, b: S): boolean;
  /** Any 32-bit hash consistent with `equal`. */
  hash(state: S): number;
  /** True if the op never changes any state (a read); enables the forced-read rule. */
  readOnly?(entry: E): boolean;
  /**
   * The parts of the state (numbered 0..footprintSize-1) an op reads or writes.
   * Ops with disjoint footprints must commute and not see each other's effects
   * (keys of a KV store). Enables the independence rule; omit for a monolithic state.
   */
  footprint?(entry: E): readonly number[];
  readonly footprintSize?: number;
}

export interface SearchOp<E> {
  readonly entry: E;
  readonly invoke: number;
  /** +Infinity for ops whose outcome is unknown. */
  readonly ret: number;
}

export interface SearchBudget {
  /** Model steps plus backtracks allowed (scanning past ops of the other pass is free). */
  readonly maxSteps: number;
  /** `performance.now()` after which the search gives up. */
  readonly deadline: number;
}

export type SearchOutcome =
  | { readonly verdict: "ok"; readonly order: readonly number[]; readonly steps: number }
  | {
      readonly verdict: "violation";
      /** Indices into the op array: the longest linearizable prefix found. */
      readonly longestPrefix: readonly number[];
      readonly steps: number;
    }
  | {
      readonly verdict: "unknown";
      readonly reason: "steps" | "time";
      readonly longestPrefix: readonly number[];
      readonly steps: number;
    };

interface CacheEntry<S> {
  readonly linearized: Bitset;
  readonly state: S;
}

/** How often (in steps) the clock is read: performance.now() is not free. */
const CLOCK_EVERY = 1024;

export function searchLinearization<S, E>(
  ops: readonly SearchOp<E>[],
  model: SearchModel<S, E>,
  budget: SearchBudget,
): SearchOutcome {
  const n = ops.length;
  // Node ids: call of op i is i, its return is n + i, the head sentinel is 2n; -1 ends.
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  const events: { node: number; time: number }[] = [];
  for (let i = 0; i < n; i++) {
    events.push({ node: i, time: ops[i]!.invoke });
    events.push({ node: n + i, time: ops[i]!.ret });
  }
  events.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    const aCall = a.node < n ? 0 : 1;
    const bCall = b.node < n ? 0 : 1;
    return aCall - bCall || a.node - b.node;
  });
  let last = head;
  for (const { node } of events) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }

  const lift = (c: number): void => {
    const r = c + n;
    next[prev[c]!] = next[c]!;
    prev[next[c]!] = prev[c]!; // a call always has a successor: at least its return
    next[prev[r]!] = next[r]!;
    if (next[r]! !== -1) prev[next[r]!] = prev[r]!;
  };
  const unlift = (c: number): void => {
    const r = c + n;
    next[prev[r]!] = r;
    if (next[r]! !== -1) prev[next[r]!] = r;
    next[prev[c]!] = c;
    prev[next[c]!] = c;
  };

  // Zobrist hashing of the linearized set: O(1) to update, deterministic per run.
  const zobrist = new Uint32Array(n);
  let seed = 0x2545f491;
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    zobrist[i] = seed >>> 0;
  }

  const cache = new Map<number, CacheEntry<S>[]>();
  const linearized = Bitset.empty(n);
  let setHash = 0;
  let state = model.init;
  const callStack: number[] = [];
  const stateStack: S[] = [];
  const forced: boolean[] = [];
  let longest: number[] = [];
  let steps = 0;
  let iterations = 0;

  /** Pushes op c with its new state unless (set, state) was explored before. */
  const tryLinearize = (c: number, newState: S, isForced: boolean): boolean => {
    linearized.set(c);
    const newSetHash = (setHash ^ zobrist[c]!) >>> 0;
    const key = (newSetHash ^ Math.imul(model.hash(newState), 0x9e3779b1)) >>> 0;
    const bucket = cache.get(key);
    if (bucket?.some((x) => x.linearized.equals(linearized) && model.equal(x.state, newState))) {
      linearized.clear(c);
      return false;
    }
    const fresh = { linearized: linearized.clone(), state: newState };
    if (bucket === undefined) cache.set(key, [fresh]);
    else bucket.push(fresh);
    callStack.push(c);
    stateStack.push(state);
    forced.push(isForced);
    state = newState;
    setHash = newSetHash;
    lift(c);
    return true;
  };

  /**
   * Undoes the last choice and returns its op (the scan resumes after it), or -1
   * if nothing is left to undo. A forced read is never an alternative to anything
   * (see below), so undoing it means its parent is exhausted too.
   */
  const backtrack = (): number => {
    if (callStack.length > longest.length) longest = callStack.slice();
    for (;;) {
      const c = callStack.pop();
      if (c === undefined) return -1;
      state = stateStack.pop()!;
      linearized.clear(c);
      setHash = (setHash ^ zobrist[c]!) >>> 0;
      unlift(c);
      if (!forced.pop()) return c;
    }
  };

  /**
   * Forced-read rule (a sound reduction, proved here): a candidate that never changes the state
   * and whose result matches the current state can be linearized right now without
   * loss of generality. Moving it to the front of any valid completion keeps the
   * others' states, and real time, since nothing pending returned before it was
   * invoked. So it is committed without trying alternatives, which stops the
   * search from permuting unrelated writes (it matters once txns merge keys).
   */
  const forcedRead = (): { c: number; s: S } | undefined => {
    if (model.readOnly === undefined) return undefined;
    for (let c = next[head]!; c !== -1 && c < n; c = next[c]!) {
      if (!model.readOnly(ops[c]!.entry)) continue;
      const s = model.step(state, ops[c]!.entry);
      if (s !== undefined) return { c, s };
    }
    return undefined;
  };

  /**
   * Independence rule (a partial-order reduction; matters once txns merge keys
   * into one partition). Let r be the op of the first pending return: every
   * completion from here linearizes some candidates, then r. Close r's footprint
   * under "shares a part with a candidate"; candidates outside the closure touch
   * nothing r or the closed-in candidates touch, so they commute with all of them,
   * and they can all be moved to just after r: real time still holds because no
   * pending op returns before r does, and every candidate was invoked before that.
   * So only candidates in the closure need trying here. Without this, the search
   * permutes ops of unrelated keys whenever it backtracks.
   */
  const footprints = model.footprint ? ops.map((o) => model.footprint!(o.entry)) : undefined;
  const partMark = new Uint8Array(model.footprintSize ?? 0);
  const allowStamp = new Int32Array(n);
  let stamp = 0;
  let allowAll = true;
  const computeAllowed = (): void => {
    allowAll = true;
    if (footprints === undefined || (model.footprintSize ?? 0) <= 1) return;
    const candidates: number[] = [];
    let e = next[head]!;
    for (; e !== -1 && e < n; e = next[e]!) candidates.push(e);
    if (e === -1 || !Number.isFinite(ops[e - n]!.ret)) return; // only open-ended ops left
    allowAll = false;
    stamp++;
    const marked: number[] = [];
    const mark = (c: number): void => {
      allowStamp[c] = stamp;
      for (const part of footprints[c]!) {
        if (partMark[part] === 0) {
          partMark[part] = 1;
          marked.push(part);
        }
      }
    };
    mark(e - n);
    for (let changed = true; changed; ) {
      changed = false;
      for (const c of candidates) {
        if (allowStamp[c] !== stamp && footprints[c]!.some((part) => partMark[part] === 1)) {
          mark(c);
          changed = true;
        }
      }
    }
    for (const part of marked) partMark[part] = 0;
  };
  const allowed = (c: number): boolean => allowAll || allowStamp[c] === stamp;

  // Ops with unknown outcome stay candidates to the very end, and most of them
  // either never took effect or took it late; trying them first at every node
  // sends the search down wrong branches. So each node is scanned in two passes:
  // ops with a known return first, then the open-ended ones.
  const deferred = (c: number): boolean => ops[c]!.ret === Number.POSITIVE_INFINITY;
  let entry = next[head]!;
  let pass: 0 | 1 = 0;
  let atNewNode = true;
  while (next[head]! !== -1) {
    if (steps > budget.maxSteps) {
      return { verdict: "unknown", reason: "steps", longestPrefix: longest, steps };
    }
    if (++iterations % CLOCK_EVERY === 0 && performance.now() > budget.deadline) {
      return { verdict: "unknown", reason: "time", longestPrefix: longest, steps };
    }
    if (atNewNode) {
      atNewNode = false;
      steps++;
      const read = forcedRead();
      if (read !== undefined) {
        if (tryLinearize(read.c, read.s, true)) {
          atNewNode = true;
          continue;
        }
        // Explored before from here, and the read was WLOG: this node is dead.
        entry = -1;
        pass = 1;
      } else {
        computeAllowed();
        entry = next[head]!;
        pass = 0;
      }
    }
    if (entry !== -1 && entry < n) {
      if (deferred(entry) === (pass === 1) && allowed(entry)) {
        steps++;
        const newState = model.step(state, ops[entry]!.entry);
        if (newState !== undefined && tryLinearize(entry, newState, false)) {
          atNewNode = true;
          continue;
        }
      }
      entry = next[entry]!;
    } else if (pass === 0) {
      pass = 1;
      entry = next[head]!;
    } else {
      // Every candidate here failed: undo the last choice and resume its scan.
      steps++;
      const c = backtrack();
      if (c === -1) return { verdict: "violation", longestPrefix: longest, steps };
      computeAllowed(); // the parent's candidates again, c included
      pass = deferred(c) ? 1 : 0;
      entry = next[c]!;
    }
  }
  return { verdict: "ok", order: callStack, steps };
}
