import type { Command } from "./commands";
import type { KvEvent, RequestCompleted } from "./events";
import { addInt64, parseInt64 } from "./int64";
import { DEFAULT_CONFIG, type DomainConfig } from "./limits";
import type { CommandResult } from "./results";
import type { KvReader, KvStore } from "./state";
import type { KeyEntry, LogIndex } from "./types";
import { utf8Length } from "./utf8";
import { validateCommand } from "./validation";

/**
 * The KV decider (emmett style): `decide` reads the state and returns
 * events; `evolve` writes one event into the state. Both are deterministic:
 * no clocks, no randomness, no iteration over unordered collections.
 *
 * `decide` also needs the log index of the entry being applied (it stamps
 * versions' `modIndex` and every result) and the config (limits).
 */
export interface DecideContext {
  readonly index: LogIndex;
  readonly config: DomainConfig;
}

export function decide(command: Command, state: KvReader, ctx: DecideContext): readonly KvEvent[] {
  const { clientId, requestId } = command;
  const { index } = ctx;
  if (command.type === "read") {
    return [{ type: "ReadMarked", clientId, requestId, result: { type: "read", index } }];
  }
  const session = state.getSession(clientId);
  if (session !== undefined) {
    if (requestId === session.lastRequestId) {
      return [{ type: "RequestDuplicated", clientId, requestId, result: session.lastResult }];
    }
    if (requestId < session.lastRequestId) {
      const result: CommandResult = {
        type: "rejected",
        code: "STALE_REQUEST",
        message: `requestId ${requestId} is older than the last one applied (${session.lastRequestId})`,
        index,
      };
      return [
        { type: "RequestStale", clientId, requestId, lastRequestId: session.lastRequestId, result },
      ];
    }
  }
  const completed = (result: CommandResult): RequestCompleted => ({
    type: "RequestCompleted",
    clientId,
    requestId,
    index,
    result,
  });
  const invalid = validateCommand(command, ctx.config.limits);
  if (invalid !== undefined) {
    return [
      { type: "CommandRejected", ...invalid },
      completed({ type: "rejected", ...invalid, index }),
    ];
  }
  const nextVersion = (e: KeyEntry | undefined) => (e === undefined ? 1 : e.version + 1);

  switch (command.type) {
    case "put": {
      const { key, value } = command;
      const version = nextVersion(state.getEntry(key));
      return [
        { type: "KeyPut", key, value, version, index },
        completed({ type: "put", key, value, version, index }),
      ];
    }
    case "delete": {
      const { key } = command;
      const current = state.getEntry(key);
      const done = completed({ type: "deleted", key, deleted: current !== undefined, index });
      return current !== undefined
        ? [{ type: "KeyDeleted", key, version: current.version, index }, done]
        : [done];
    }
    case "putMany": {
      // validated above as a whole, so every op applies (all or nothing)
      const events: KvEvent[] = [];
      for (const { key, value } of command.puts) {
        events.push({
          type: "KeyPut",
          key,
          value,
          version: nextVersion(state.getEntry(key)),
          index,
        });
      }
      for (const key of command.deletes) {
        const current = state.getEntry(key);
        if (current !== undefined) {
          events.push({ type: "KeyDeleted", key, version: current.version, index });
        }
      }
      events.push(completed({ type: "txn", index }));
      return events;
    }
    case "cas": {
      const { key, expected, expectedVersion, value } = command;
      const current = state.getEntry(key);
      const matches =
        expected === null
          ? current === undefined
          : current !== undefined &&
            current.value === expected &&
            (expectedVersion === undefined || current.version === expectedVersion);
      if (!matches) {
        const actualValue = current === undefined ? null : current.value;
        const actualVersion = current === undefined ? 0 : current.version;
        return [
          {
            type: "CasFailed",
            key,
            expected,
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
            actualValue,
            actualVersion,
          },
          completed({
            type: "cas",
            succeeded: false,
            key,
            value: actualValue,
            version: actualVersion,
            index,
          }),
        ];
      }
      const version = nextVersion(current);
      return [
        { type: "KeyPut", key, value, version, index },
        completed({ type: "cas", succeeded: true, key, value, version, index }),
      ];
    }
    case "incr": {
      const { key, by } = command;
      const current = state.getEntry(key);
      const n = parseInt64(current === undefined ? "0" : current.value);
      if (n === undefined) {
        const message = `value of ${JSON.stringify(key)} is not a decimal int64`;
        return [
          { type: "IncrementRejected", key, code: "NOT_AN_INTEGER", message },
          completed({ type: "rejected", code: "NOT_AN_INTEGER", message, index }),
        ];
      }
      const sum = addInt64(n, by);
      if (sum === undefined) {
        const message = `incrementing ${JSON.stringify(key)} by ${by} overflows int64`;
        return [
          { type: "IncrementRejected", key, code: "INTEGER_OVERFLOW", message },
          completed({ type: "rejected", code: "INTEGER_OVERFLOW", message, index }),
        ];
      }
      const value = sum.toString();
      const version = nextVersion(current);
      return [
        { type: "KeyPut", key, value, version, index },
        completed({ type: "incr", key, value, version, index }),
      ];
    }
    case "append": {
      const { key, suffix } = command;
      const current = state.getEntry(key);
      const value = current === undefined ? suffix : current.value + suffix;
      const max = ctx.config.limits.maxValueBytes;
      if (value.length > max / 3 && utf8Length(value) > max) {
        const message = `appending would make ${JSON.stringify(key)} larger than ${max} bytes`;
        return [
          { type: "CommandRejected", code: "VALUE_TOO_LARGE", message },
          completed({ type: "rejected", code: "VALUE_TOO_LARGE", message, index }),
        ];
      }
      const version = nextVersion(current);
      return [
        { type: "KeyPut", key, value, version, index },
        completed({ type: "append", key, value, version, index }),
      ];
    }
  }
}

/**
 * Writes one event into the state and returns it. The projection calls it
 * on an immer draft inside one `produce` per batch, which is what keeps the
 * persistent state immutable; events with no state change are no-ops.
 */
export function evolve<S extends KvStore>(state: S, event: KvEvent): S {
  switch (event.type) {
    case "KeyPut":
      state.setEntry(event.key, {
        value: event.value,
        version: event.version,
        modIndex: event.index,
      });
      break;
    case "KeyDeleted":
      state.deleteEntry(event.key);
      break;
    case "RequestCompleted":
      state.setSession(event.clientId, {
        lastRequestId: event.requestId,
        lastIndex: event.index,
        lastResult: event.result,
      });
      break;
    case "SessionsExpired":
      state.expireSessions(event.idleBefore);
      break;
    case "CasFailed":
    case "IncrementRejected":
    case "CommandRejected":
    case "RequestDuplicated":
    case "RequestStale":
    case "ReadMarked":
      break;
  }
  return state;
}

/**
 * The expiry decision at the start of entry `index`: forget clients idle for
 * more than `clientTtlEntries` entries, i.e. with `lastIndex < index - ttl`.
 */
export function decideExpiry(index: LogIndex, config: DomainConfig): readonly KvEvent[] {
  const idleBefore = index - config.clientTtlEntries;
  return idleBefore > 0 ? [{ type: "SessionsExpired", idleBefore: idleBefore as LogIndex }] : [];
}

/**
 * Applies one decided log entry: expiry first, then every command in order,
 * each seeing the effects of the ones before it. Returns one result per
 * command, in order. `onEvent` sees every event as it is applied (the
 * change feed is fed from it).
 */
export function applyEntry(
  state: KvStore,
  index: LogIndex,
  commands: readonly Command[],
  config: DomainConfig = DEFAULT_CONFIG,
  onEvent?: (e: KvEvent) => void,
): CommandResult[] {
  for (const e of decideExpiry(index, config)) {
    evolve(state, e);
    onEvent?.(e);
  }
  const ctx: DecideContext = { index, config };
  const results: CommandResult[] = new Array(commands.length);
  for (let i = 0; i < commands.length; i++) {
    const events = decide(commands[i]!, state, ctx);
    for (let j = 0; j < events.length; j++) {
      evolve(state, events[j]!);
      onEvent?.(events[j]!);
    }
    results[i] = (events[events.length - 1] as { result: CommandResult }).result;
  }
  return results;
}
