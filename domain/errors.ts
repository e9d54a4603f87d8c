/**
 * Typed domain errors. Every failure a client can cause is one of these
 * codes, returned as a value; nothing in the domain throws for user input.
 */
export type ErrorCode =
  // the request itself is malformed or over a limit (REST: 422)
  | "BAD_REQUEST"
  | "EMPTY_KEY"
  | "KEY_TOO_LARGE"
  | "VALUE_TOO_LARGE"
  | "TOO_MANY_OPS"
  // the request is well formed but the current state refuses it (REST: 409)
  | "STALE_REQUEST"
  | "NOT_AN_INTEGER"
  | "INTEGER_OVERFLOW";

export interface DomainError {
  readonly code: ErrorCode;
  readonly message: string;
}

export function domainError(code: ErrorCode, message: string): DomainError {
  return { code, message };
}

/**
 * `invalid` errors depend only on the request (REST maps them to 422);
 * `conflict` errors depend on the state the request met (REST maps them to 409).
 */
export type ErrorKind = "invalid" | "conflict";

const KIND: Readonly<Record<ErrorCode, ErrorKind>> = {
  BAD_REQUEST: "invalid",
  EMPTY_KEY: "invalid",
  KEY_TOO_LARGE: "invalid",
  VALUE_TOO_LARGE: "invalid",
  TOO_MANY_OPS: "invalid",
  STALE_REQUEST: "conflict",
  NOT_AN_INTEGER: "conflict",
  INTEGER_OVERFLOW: "conflict",
};

export function errorKind(code: ErrorCode): ErrorKind {
  return KIND[code];
}

export const ERROR_CODES: readonly ErrorCode[] = Object.keys(KIND) as ErrorCode[];
