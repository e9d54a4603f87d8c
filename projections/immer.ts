import { Immer } from "immer";

/**
 * The projections' own immer instance, so their settings never change the
 * global `produce` other modules use. autoFreeze is on: a projection handed
 * to readers (queries, snapshots in progress) must not be mutable by
 * accident. ops/bench/apply-bench measures the cost of turning it off.
 */
export const projectionImmer = new Immer({ autoFreeze: true });

export function setProjectionAutoFreeze(on: boolean): void {
  projectionImmer.setAutoFreeze(on);
}
