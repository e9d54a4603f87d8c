import type { Request } from "restify";
import { badRequest, httpError } from "./errors";

/** `application/json` or any `+json` type, parameters (charset) aside. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * A request's JSON body, read by the route's own handler. restify's
 * bodyParser would add two handlers to the chain, and each handler costs a
 * tick, two timer readings and a few closures per request.
 *
 * Resolves with the parsed value, or `undefined` for an empty body. Refuses:
 * a body over `maxBytes` (413, once it has been read to its end, so the
 * connection stays usable), a `content-encoding` (415), a content type other
 * than JSON (415; none given is read as JSON), malformed JSON (400), and a
 * body cut short by the client going away (400).
 */
export function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const type = req.headers["content-type"];
  const encoding = req.headers["content-encoding"];
  const length = req.headers["content-length"];
  if (length === "0" && req.headers["transfer-encoding"] === undefined) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    // A client that goes away mid-body: answered as a bad request (nobody reads
    // it), not logged as a server failure, and nothing waits on the body.
    const aborted = () => reject(badRequest("the request ended before its body did"));
    req.once("error", aborted);
    req.once("close", () => {
      if (!req.complete) aborted();
    });
    req.once("end", () => {
      if (size > maxBytes) {
        reject(httpError(413, "PAYLOAD_TOO_LARGE", `the body exceeds ${maxBytes} bytes`));
      } else if (encoding !== undefined && encoding !== "identity") {
        reject(
          httpError(415, "UNSUPPORTED_MEDIA_TYPE", `content-encoding ${encoding} is not supported`),
        );
      } else if (type !== undefined && !JSON_TYPE.test(type)) {
        reject(
          httpError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            `send the body as application/json, not ${type}`,
          ),
        );
      } else if (size === 0) {
        resolve(undefined);
      } else {
        const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(badRequest(`invalid JSON: ${(error as Error).message}`));
        }
      }
    });
  });
}
