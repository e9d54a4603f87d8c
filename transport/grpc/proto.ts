import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { decodePaxosBatch, encodePaxosBatch } from "./paxos-codec";

/** proto/ sits at the repository root; this file runs from dist/transport/grpc/. */
export const PROTO_PATH = path.resolve(__dirname, "../../../proto/paxlog.proto");

const definition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

type ServiceClientCtor = grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition };

const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  paxlog: { v1: { Peer: ServiceClientCtor } };
};

const generic = loaded.paxlog.v1.Peer.service;

/**
 * The Peer service with the hot stream's batches encoded by hand (see
 * proto-wire.ts): the same bytes as protobufjs would write, in one pass.
 * Snapshot fetches keep proto-loader's codec.
 */
export const PEER_SERVICE: grpc.ServiceDefinition = {
  ...generic,
  Exchange: {
    ...generic["Exchange"]!,
    requestSerialize: encodePaxosBatch,
    requestDeserialize: decodePaxosBatch,
  },
};

export const PeerService = grpc.makeGenericClientConstructor(PEER_SERVICE, "Peer");

/** The protobufjs types of paxlog.proto, for checking the hand-written codecs against. */
export const protoDefinition = definition;
