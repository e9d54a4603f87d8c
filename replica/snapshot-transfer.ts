import type { DomainConfig } from "../domain";
import type { KvProjection } from "../projections/kv-projection";
import { DEFAULT_CHUNK_SIZE, encodeSnapshot, SnapshotDecoder } from "../projections/snapshot";
import type { SnapshotChunk } from "../transport/grpc/peer-server";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Snapshots on the wire: an immutable projection encoded chunk by chunk
 * (yielding to the event loop between chunks, so a donor's normal traffic
 * waits at most one chunk's encoding), and decoded incrementally on arrival,
 * checksum verified before anything is returned.
 */
export class SnapshotCodec {
  constructor(private readonly chunkSize = DEFAULT_CHUNK_SIZE) {}

  async *encode(view: KvProjection): AsyncGenerator<SnapshotChunk> {
    const index = view.appliedIndex;
    for (const data of encodeSnapshot(view, this.chunkSize)) {
      yield { index, data };
      await nextTurn();
    }
  }

  async decode(chunks: AsyncIterable<SnapshotChunk>, config: DomainConfig): Promise<KvProjection> {
    const decoder = new SnapshotDecoder();
    let index: number | null = null;
    for await (const chunk of chunks) {
      if (index === null) index = chunk.index;
      else if (chunk.index !== index)
        throw new Error(`snapshot chunks of two indexes (${index}, ${chunk.index})`);
      const error = decoder.push(chunk.data);
      if (error) throw new Error(`${error.code}: ${error.message}`);
    }
    const result = decoder.finish(config);
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    if (result.value.appliedIndex !== index) {
      throw new Error(`snapshot says index ${result.value.appliedIndex}, its chunks ${index}`);
    }
    return result.value;
  }
}
