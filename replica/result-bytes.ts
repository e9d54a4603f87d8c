import { ByteReader, ByteWriter, type CommandResult, readResult, writeResult } from "../domain";

/** A command result as bytes, for the leader's answer to a forwarded command. */
export function encodeResult(result: CommandResult): Uint8Array {
  const w = new ByteWriter(64);
  writeResult(w, result);
  return w.view().slice();
}

export function decodeResult(bytes: Uint8Array): CommandResult {
  return readResult(new ByteReader(bytes));
}
