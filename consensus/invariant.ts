/**
 * A violated safety invariant. The core throws it instead of going on with a
 * state that could break agreement: the replica must stop loudly.
 */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "InvariantViolation";
  }
}

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(message());
}
