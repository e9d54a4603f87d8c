/**
 * Limits and the exactly-once bound. They are part of the replicated state
 * machine's definition: every replica must run with the same values, or the
 * same log could decide differently (the decider re-checks limits).
 */
export interface Limits {
  /** Max key size in UTF-8 bytes. */
  readonly maxKeyBytes: number;
  /** Max value size in UTF-8 bytes (also bounds the result of an append). */
  readonly maxValueBytes: number;
  /** Max puts + deletes in one PutMany. */
  readonly maxOpsPerTxn: number;
  /** Max clientId size in UTF-8 bytes. */
  readonly maxClientIdBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  maxOpsPerTxn: 1000,
  maxClientIdBytes: 256,
};

export interface DomainConfig {
  readonly limits: Limits;
  /**
   * Exactly-once bound: a client whose last request was applied at index
   * `last` is forgotten when an entry with index `> last + clientTtlEntries`
   * is applied. Measured in log indexes only, so every replica forgets at
   * the same point. A client must not retry a request after that many log
   * entries (it could then be applied twice).
   */
  readonly clientTtlEntries: number;
}

export const DEFAULT_CONFIG: DomainConfig = {
  limits: DEFAULT_LIMITS,
  clientTtlEntries: 100_000,
};
