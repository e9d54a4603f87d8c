import type { Message, NodeId } from "../../consensus";
import type { Logger } from "../log";
import { PeerLink } from "./peer-link";
import {
  type PeerHandlers,
  PeerServer,
  type SnapshotChunk,
  type SubmitReply,
  type SubmitRequest,
} from "./peer-server";

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
  ) {
    this.server = new PeerServer(handlers, log);
  }

  /** Starts serving on `address` and connects to every peer. Returns the bound port. */
  async start(address: string): Promise<number> {
    const port = await this.server.listen(address);
    for (const [id, peerAddress] of this.peers) {
      if (id !== this.self)
        this.links.set(id, new PeerLink(id, peerAddress, this.log.child({ peer: id })));
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

  submit(to: NodeId, request: SubmitRequest, timeoutMs: number): Promise<SubmitReply> {
    const link = this.links.get(to);
    if (!link) return Promise.reject(new Error(`unknown peer ${to}`));
    return link.submit(request, timeoutMs);
  }

  fetchSnapshot(from: NodeId, minIndex: number, timeoutMs: number): AsyncIterable<SnapshotChunk> {
    const link = this.links.get(from);
    if (!link) throw new Error(`unknown peer ${from}`);
    return link.fetchSnapshot(minIndex, timeoutMs);
  }

  stats(): { peer: NodeId; sent: number; dropped: number }[] {
    return [...this.links.values()].map((l) => ({
      peer: l.peer,
      sent: l.sent,
      dropped: l.dropped,
    }));
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    await this.server.close();
  }
}
