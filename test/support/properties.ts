import type { ExecutionContext } from "ava";
import fc from "fast-check";

/**
 * Asserts that a fast-check property holds: a real ava assertion whose
 * failure message is fast-check's report (the shrunk counterexample and the
 * seed to replay it).
 */
export function holds<Ts>(
  t: ExecutionContext,
  property: fc.IProperty<Ts>,
  params?: fc.Parameters<Ts>,
): void {
  const details = fc.check(property, params);
  t.false(details.failed, fc.defaultReportMessage(details) ?? "property failed");
}
