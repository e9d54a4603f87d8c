/** A mistake in how a command was called: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export function positiveInt(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
  }
  return n;
}
