import type { Command, KeyValue } from "./commands";
import { type Either, err, ok } from "./either";
import { type DomainError, domainError } from "./errors";
import type { Limits } from "./limits";
import { utf8Length } from "./utf8";

/**
 * Validation at the boundary: `parseCommand` turns untrusted JSON-ish input
 * into a command (rebuilt field by field, so unknown properties never reach
 * the log) or a typed error. `validateCommand` re-checks a typed command
 * (the decider calls it, so a command that bypassed the boundary is still
 * rejected deterministically).
 */

function checkKey(key: string, limits: Limits, what = "key"): DomainError | undefined {
  if (key.length === 0) return domainError("EMPTY_KEY", `${what} must not be empty`);
  // cheap pre-check: a UTF-16 unit takes at most 3 UTF-8 bytes on its own
  if (key.length * 3 <= limits.maxKeyBytes) {
    return utf8Length(key) < 0
      ? domainError("BAD_REQUEST", `${what} is not valid UTF-16`)
      : undefined;
  }
  const n = utf8Length(key);
  if (n < 0) return domainError("BAD_REQUEST", `${what} is not valid UTF-16`);
  if (n > limits.maxKeyBytes) {
    return domainError("KEY_TOO_LARGE", `${what} is ${n} bytes, limit ${limits.maxKeyBytes}`);
  }
  return undefined;
}

function checkValue(value: string, limits: Limits, what = "value"): DomainError | undefined {
  const n = utf8Length(value);
  if (n < 0) return domainError("BAD_REQUEST", `${what} is not valid UTF-16`);
  if (n > limits.maxValueBytes) {
    return domainError("VALUE_TOO_LARGE", `${what} is ${n} bytes, limit ${limits.maxValueBytes}`);
  }
  return undefined;
}

function checkRequest(c: Command, limits: Limits): DomainError | undefined {
  const n = c.clientId.length === 0 ? 0 : utf8Length(c.clientId);
  if (n <= 0 || n > limits.maxClientIdBytes) {
    return domainError("BAD_REQUEST", `clientId must be 1..${limits.maxClientIdBytes} UTF-8 bytes`);
  }
  if (!Number.isSafeInteger(c.requestId) || c.requestId < 1) {
    return domainError("BAD_REQUEST", "requestId must be a positive safe integer");
  }
  return undefined;
}

/** Checks a typed command against the limits; `undefined` when valid. */
export function validateCommand(c: Command, limits: Limits): DomainError | undefined {
  const r = checkRequest(c, limits);
  if (r) return r;
  switch (c.type) {
    case "put":
      return checkKey(c.key, limits) ?? checkValue(c.value, limits);
    case "delete":
      return checkKey(c.key, limits);
    case "append":
      return checkKey(c.key, limits) ?? checkValue(c.suffix, limits, "suffix");
    case "incr":
      if (!Number.isSafeInteger(c.by)) {
        return domainError("BAD_REQUEST", "by must be a safe integer");
      }
      return checkKey(c.key, limits);
    case "cas": {
      const e = checkKey(c.key, limits) ?? checkValue(c.value, limits);
      if (e) return e;
      if (c.expected !== null) {
        const x = checkValue(c.expected, limits, "expected");
        if (x) return x;
      }
      if (c.expectedVersion !== undefined) {
        if (c.expected === null) {
          return domainError("BAD_REQUEST", "expectedVersion needs a non-null expected value");
        }
        if (!Number.isSafeInteger(c.expectedVersion) || c.expectedVersion < 1) {
          return domainError("BAD_REQUEST", "expectedVersion must be a positive integer");
        }
      }
      return undefined;
    }
    case "putMany":
      return checkPutMany(c.puts, c.deletes, limits);
    case "read":
      return undefined;
  }
}

/** All or nothing: the first invalid op rejects the whole transaction. */
function checkPutMany(
  puts: readonly KeyValue[],
  deletes: readonly string[],
  limits: Limits,
): DomainError | undefined {
  const ops = puts.length + deletes.length;
  if (ops > limits.maxOpsPerTxn) {
    return domainError("TOO_MANY_OPS", `${ops} ops, limit ${limits.maxOpsPerTxn}`);
  }
  const seen = new Set<string>();
  for (let i = 0; i < puts.length; i++) {
    const p = puts[i]!;
    const e =
      checkKey(p.key, limits, `puts[${i}].key`) ?? checkValue(p.value, limits, `puts[${i}].value`);
    if (e) return e;
    if (seen.has(p.key))
      return domainError("BAD_REQUEST", `key ${JSON.stringify(p.key)} appears twice`);
    seen.add(p.key);
  }
  for (let i = 0; i < deletes.length; i++) {
    const k = deletes[i]!;
    const e = checkKey(k, limits, `deletes[${i}]`);
    if (e) return e;
    if (seen.has(k)) return domainError("BAD_REQUEST", `key ${JSON.stringify(k)} appears twice`);
    seen.add(k);
  }
  return undefined;
}

type Input = Record<string, unknown>;

const isObject = (x: unknown): x is Input =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function bad(message: string): Either<never, DomainError> {
  return err(domainError("BAD_REQUEST", message));
}

function str(o: Input, field: string): string | undefined {
  const v = o[field];
  return typeof v === "string" ? v : undefined;
}

/**
 * Untrusted input → command. The input has the command's own shape, e.g.
 * `{type: "put", clientId, requestId, key, value}`; for `putMany`,
 * `deletes` may be omitted; for `cas`, `expected` may be null and
 * `expectedVersion` omitted.
 */
export function parseCommand(input: unknown, limits: Limits): Either<Command, DomainError> {
  if (!isObject(input)) return bad("command must be an object");
  const clientId = str(input, "clientId");
  const requestId = input["requestId"];
  if (clientId === undefined) return bad("clientId must be a string");
  if (typeof requestId !== "number") return bad("requestId must be a number");
  let cmd: Command;
  switch (input["type"]) {
    case "put": {
      const key = str(input, "key");
      const value = str(input, "value");
      if (key === undefined || value === undefined) return bad("put needs string key and value");
      cmd = { type: "put", clientId, requestId, key, value };
      break;
    }
    case "delete": {
      const key = str(input, "key");
      if (key === undefined) return bad("delete needs a string key");
      cmd = { type: "delete", clientId, requestId, key };
      break;
    }
    case "append": {
      const key = str(input, "key");
      const suffix = str(input, "suffix");
      if (key === undefined || suffix === undefined)
        return bad("append needs string key and suffix");
      cmd = { type: "append", clientId, requestId, key, suffix };
      break;
    }
    case "incr": {
      const key = str(input, "key");
      const by = input["by"];
      if (key === undefined || typeof by !== "number")
        return bad("incr needs a string key and a number by");
      cmd = { type: "incr", clientId, requestId, key, by };
      break;
    }
    case "cas": {
      const key = str(input, "key");
      const value = str(input, "value");
      const expected = input["expected"];
      const ev = input["expectedVersion"];
      if (key === undefined || value === undefined) return bad("cas needs string key and value");
      if (expected !== null && typeof expected !== "string")
        return bad("expected must be a string or null");
      if (ev !== undefined && typeof ev !== "number")
        return bad("expectedVersion must be a number");
      cmd =
        ev === undefined
          ? { type: "cas", clientId, requestId, key, expected, value }
          : { type: "cas", clientId, requestId, key, expected, expectedVersion: ev, value };
      break;
    }
    case "putMany": {
      const rawPuts = input["puts"];
      const rawDeletes = input["deletes"] ?? [];
      if (!Array.isArray(rawPuts) || !Array.isArray(rawDeletes)) {
        return bad("putMany needs a puts array and an optional deletes array");
      }
      if (rawPuts.length + rawDeletes.length > limits.maxOpsPerTxn) {
        return err(
          domainError(
            "TOO_MANY_OPS",
            `${rawPuts.length + rawDeletes.length} ops, limit ${limits.maxOpsPerTxn}`,
          ),
        );
      }
      const puts: KeyValue[] = [];
      for (const p of rawPuts) {
        if (!isObject(p) || typeof p["key"] !== "string" || typeof p["value"] !== "string") {
          return bad("each put needs string key and value");
        }
        puts.push({ key: p["key"], value: p["value"] });
      }
      const deletes: string[] = [];
      for (const d of rawDeletes) {
        if (typeof d !== "string") return bad("each delete must be a string key");
        deletes.push(d);
      }
      cmd = { type: "putMany", clientId, requestId, puts, deletes };
      break;
    }
    case "read":
      cmd = { type: "read", clientId, requestId };
      break;
    default:
      return bad("unknown command type");
  }
  const e = validateCommand(cmd, limits);
  return e ? err(e) : ok(cmd);
}
