import {
  applyEntry,
  type Command,
  type CommandResult,
  DEFAULT_CONFIG,
  type DomainConfig,
  decide,
  evolve,
  initialState,
  type KvEvent,
  type LogIndex,
  type MemoryState,
} from "../../domain";

/** given(events).when(command).then(events/result), on the reference state. */
export function given(events: readonly KvEvent[], config: DomainConfig = DEFAULT_CONFIG) {
  const state: MemoryState = initialState();
  for (const e of events) evolve(state, e);
  return {
    state,
    when(command: Command, index = 100 as LogIndex) {
      const decided = decide(command, state, { index, config });
      const last = decided[decided.length - 1] as { result: CommandResult };
      return { events: decided, result: last.result };
    },
  };
}

export function run(
  entries: readonly (readonly Command[])[],
  config: DomainConfig = DEFAULT_CONFIG,
): { state: MemoryState; results: CommandResult[][] } {
  const state = initialState();
  const results = entries.map((cmds, i) => applyEntry(state, (i + 1) as LogIndex, cmds, config));
  return { state, results };
}

export const ix = (n: number) => n as LogIndex;
