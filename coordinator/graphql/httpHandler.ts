/**
 * /graphql over HTTP with the response cache in front of yoga. A query whose answer is kept is answered with the
 * kept bytes straight away, without yoga parsing, validating or executing it again: that is what lets the
 * coordinator answer thousands of list queries a second on two cores. A miss that is a valid query in a JSON POST is
 * executed directly on graphql-js (yoga.ts directExecutor), with the headers yoga gave the same Accept and Origin;
 * everything else (subscriptions, errors, requests the cache cannot key) goes to yoga. A miss's answer is kept when
 * it may be (responseCache.ts); a stream yoga answers with is passed on, never kept.
 *
 * A request is keyed by everything yoga's answer depends on: method, URL, the Accept and Origin headers (the
 * answer's content type and CORS headers) and the body.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import { ReadSet } from "./reads.ts";
import type { KeptResponse, ResponseCache } from "./responseCache.ts";

/** A GraphQL request body larger than this is refused (a query document plus its variables is far smaller). */
export const MAX_GRAPHQL_BODY_BYTES = 100_000;

type Yoga = YogaServerInstance<{ reads?: ReadSet }, object> & {
  /** A valid query answered without yoga's layers (yoga.ts directExecutor): its JSON, or null to ask yoga. */
  executeQuery?: (body: string, reads: ReadSet) => Promise<string | null>;
};
type NodeRequest = IncomingMessage & { originalUrl?: string };

/** A request whose answer may be kept: a GET, or a JSON POST, that does not ask for a stream. */
function keyable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? "";
  if (accept.includes("text/event-stream") || accept.includes("multipart/mixed")) return false;
  if (req.method === "GET") return true;
  return req.method === "POST" && (req.headers["content-type"] ?? "").startsWith("application/json");
}

/** The body as text, or null when it is over the limit (the rest of it is read and thrown away, not kept). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_GRAPHQL_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_GRAPHQL_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, { status, headers, body }: KeptResponse) {
  res.writeHead(status, { ...headers, "content-length": String(body.length) });
  res.end(body);
}

async function answerWithYoga(
  yoga: Yoga,
  req: NodeRequest,
  url: string,
  body: string | undefined,
  reads: ReadSet,
  res: ServerResponse,
): Promise<KeptResponse | "streamed"> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && name !== "content-length")
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  const response = await yoga.fetch(
    `http://${req.headers.host ?? "localhost"}${url}`,
    { method: req.method, headers, body },
    { reads },
  );
  // A stream (a subscription asked for without `Accept: text/event-stream`: yoga streams it all the same) is sent as
  // it comes, never kept; reading it whole would wait for ever.
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream") || type.includes("multipart/mixed")) {
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const body = response.body!;
    res.once("close", () => void body.cancel().catch(() => {}));
    // Not awaited: the request is answered (and its place in the cache given up) while the stream goes on.
    void (async () => {
      try {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          if (res.destroyed) break;
          res.write(chunk);
        }
      } catch {
        // the client left
      } finally {
        res.end();
      }
    })();
    return "streamed";
  }
  return {
    status: response.status,
    headers: Object.fromEntries([...response.headers].filter(([name]) => name !== "content-length")),
    // A copy of exactly the body: the array buffer yoga hands out can be a view into a 64 KiB slab, which a kept
    // answer would otherwise hold on to.
    body: Buffer.from(await response.text(), "utf8"),
  };
}

/** The /graphql handler: the cache in front of yoga, or yoga alone when there is no cache. */
export function graphqlHttpHandler(yoga: Yoga, cache?: ResponseCache) {
  const tooLarge = (res: ServerResponse) =>
    send(res, {
      status: 413,
      headers: { "content-type": "application/json", connection: "close" },
      body: Buffer.from(
        JSON.stringify({ errors: [{ message: `request body is larger than ${MAX_GRAPHQL_BODY_BYTES} bytes` }] }),
      ),
    });
  /** The headers of yoga's answers to a query, by the request's Accept and Origin (they decide them). */
  const answerHeaders = new Map<string, Record<string, string>>();
  return async (req: NodeRequest, res: ServerResponse): Promise<void> => {
    if (cache === undefined || !keyable(req)) {
      // What yoga reads itself (subscriptions, other content types, no cache): refused by its declared length.
      if (Number(req.headers["content-length"] ?? 0) > MAX_GRAPHQL_BODY_BYTES) return tooLarge(res);
      return void (await yoga(req, res));
    }
    const url = req.originalUrl ?? req.url ?? "/graphql";
    const body = req.method === "POST" ? await readBody(req) : undefined;
    if (body === null) return tooLarge(res);
    const key = `${req.method}\u0000${url}\u0000${req.headers.accept ?? ""}\u0000${req.headers.origin ?? ""}\u0000${body ?? ""}`;
    const kept = cache.lookup(key) ?? (await cache.pending(key));
    if (kept) return send(res, kept);

    const ticket = cache.begin(key);
    let reads = new ReadSet();
    let response: KeptResponse | null = null;
    try {
      // A query answered directly gets the headers yoga gave an answer to the same Accept and Origin.
      const headersKey = `${req.headers.accept ?? ""}\u0000${req.headers.origin ?? ""}`;
      const headers = answerHeaders.get(headersKey);
      if (headers !== undefined && body !== undefined && yoga.executeQuery !== undefined) {
        const text = await yoga.executeQuery(body, reads);
        if (text !== null) response = { status: 200, headers, body: Buffer.from(text, "utf8") };
        else reads = new ReadSet();
      }
      if (response === null) {
        const answer = await answerWithYoga(yoga, req, url, body, reads, res);
        if (answer === "streamed") return; // (the finally below gives the cache's ticket up)
        response = answer;
        if (response.status === 200 && reads.answered && answerHeaders.size < 100)
          answerHeaders.set(headersKey, response.headers);
      }
    } finally {
      ticket.finish(response?.status === 200 ? response : null, reads);
    }
    send(res, response);
  };
}
