import type { ErrorCode } from "../../domain";

/** Status for each domain error code (the REST contract of issue 4). */
const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  EMPTY_KEY: 400,
  KEY_TOO_LARGE: 413,
  VALUE_TOO_LARGE: 413,
  TOO_MANY_OPS: 413,
  STALE_REQUEST: 409,
  NOT_AN_INTEGER: 422,
  INTEGER_OVERFLOW: 422,
};

export const statusOf = (code: ErrorCode): number => STATUS[code] ?? 400;

/** An error answer: `{error, code}` with its HTTP status. */
export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly error: string;
  readonly retryAfterSeconds?: number;
}

/** An error answer with any status and code. */
export const httpError = (status: number, code: string, error: string): HttpError => ({
  status,
  code,
  error,
});

export const badRequest = (error: string): HttpError => ({
  status: 400,
  code: "BAD_REQUEST",
  error,
});

export const unavailable = (error: string, retryAfterSeconds: number): HttpError => ({
  status: 503,
  code: "UNAVAILABLE",
  error,
  retryAfterSeconds,
});
