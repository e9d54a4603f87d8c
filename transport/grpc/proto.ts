import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

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

export const PeerService = loaded.paxlog.v1.Peer;
