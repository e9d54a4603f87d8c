import type { ForwardReply } from "../transport/grpc/forward";
import type { Settled } from "./waiters";

/**
 * The forward's answer, or our own apply's when it comes first. A waiter
 * that ends otherwise (its deadline) leaves the answer to the forward. Both
 * promises always settle: a race against one that never does would leave a
 * reaction on it for every request (about 300 bytes each, never freed).
 */
export async function appliedOrForwarded(
  appliedHere: Promise<Settled>,
  forwarded: Promise<ForwardReply>,
): Promise<Extract<Settled, { kind: "applied" }> | ForwardReply> {
  const first = await Promise.race([appliedHere, forwarded]);
  if (!("kind" in first)) return first;
  return first.kind === "applied" ? first : await forwarded;
}
