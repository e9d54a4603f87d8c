import {
  ByteReader,
  ByteWriter,
  type CommandResult,
  copyBytes,
  readResult,
  writeResult,
} from "../domain";

/** Results are encoded synchronously, so one writer serves them all: one allocation a result. */
let writer = new ByteWriter(1024);
/** A writer grown past this by a large value is dropped after use rather than kept. */
const KEEP_BYTES = 64 * 1024;

/** A command result as bytes, for the leader's answer to a forwarded command. */
export function encodeResult(result: CommandResult): Uint8Array {
  writer.reset();
  writeResult(writer, result);
  const bytes = copyBytes(writer.view());
  if (writer.buf.length > KEEP_BYTES) writer = new ByteWriter(1024);
  return bytes;
}

export function decodeResult(bytes: Uint8Array): CommandResult {
  return readResult(new ByteReader(bytes));
}
