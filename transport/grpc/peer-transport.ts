import type { Message, NodeId } from "../../consensus";
import type { Logger } from "../log";
import { ForwardError, type ForwardReply } from "./forward";
import { PeerLink } from "./peer-link";
import { type PeerHandlers, PeerServer, type SnapshotChunk } from "./peer-server";

export interface PeerTransportOptions {
  /** Forwarded commands in flight per peer before more fail fast (default 1024). */
  readonly maxForwardsInFlight?: number;
  /** Their command bytes, likewise (default 32 MiB). */
  readonly maxForwardBytesInFlight?: number;
}

export interface PeerLinkStats {
  readonly peer: NodeId;
  /** Paxos messages sent, and dropped while the peer was down or slow. */
  readonly sent: number;
  readonly dropped: number;
  readonly forwards: { inFlight: number; batchesSent: number; replyBatchesReceived: number };
}

/**
 * The replica's gRPC side: its server, and one link per peer. `send` groups a
 * turn's messages by destination, one batch per peer.
 */
export class PeerTransport {
  private readonly server: PeerServer;
  private readonly links = new Map<NodeId, PeerLink>();

  constructor(
    readonly self: NodeId,
    private readonly peers: ReadonlyMap<NodeId, string>,
    handlers: PeerHandlers,
    private readonly log: Logger,
    private readonly options: PeerTransportOptions = {},
  ) {
    this.server = new PeerServer(handlers, log);
  }

  /** Starts serving on `address` and connects to every peer. Returns the bound port. */
  async start(address: string): Promise<number> {
    const port = await this.server.listen(address);
    for (const [id, peerAddress] of this.peers) {
      if (id === this.self) continue;
      const link = new PeerLink(id, peerAddress, this.log.child({ peer: id }), this.self, {
        commands: this.options.maxForwardsInFlight ?? 1024,
        bytes: this.options.maxForwardBytesInFlight ?? 32 * 1024 * 1024,
      });
      this.links.set(id, link);
    }
    return port;
  }

  send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [to, batch] of byPeer) {
      const link = this.links.get(to);
      if (link) link.send(batch);
      else this.log.error("message for an unknown peer", { to });
    }
  }

  /** Forwards one encoded client command to `to` (the leader) and waits for its answer. */
  forward(to: NodeId, command: Uint8Array, timeoutMs: number): Promise<ForwardReply> {
    const link = this.links.get(to);
    if (!link) return Promise.reject(new ForwardError(`unknown peer ${to}`, false));
    return link.forward(command, timeoutMs);
  }

  /**
   * Fails the forwards in flight to every peer but `leader` as "outcome
   * unknown", so that their callers follow the new leader at once (a retry
   * under the same request id is applied at most once).
   */
  abortForwardsExcept(leader: NodeId | null, reason: string): void {
    for (const [id, link] of this.links) if (id !== leader) link.abortForwards(reason);
  }

  fetchSnapshot(from: NodeId, minIndex: number, timeoutMs: number): AsyncIterable<SnapshotChunk> {
    const link = this.links.get(from);
    if (!link) throw new Error(`unknown peer ${from}`);
    return link.fetchSnapshot(minIndex, timeoutMs);
  }

  stats(): PeerLinkStats[] {
    return [...this.links.values()].map((l) => ({
      peer: l.peer,
      sent: l.sent,
      dropped: l.dropped,
      forwards: l.forwardStats,
    }));
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    await this.server.close();
  }
}
