/**
 * A JSON-RPC proxy for tests that imitates a public RPC provider in front of a real local node (`hardhat node` on
 * loopback). A local node answers everything at once and without limits; a public provider caps eth_getLogs block
 * ranges and result sizes, answers HTTP 429 when it is busy, adds latency, drops connections and, behind its load
 * balancer, now and then reports a head a few blocks old. Putting this proxy between the node and the worker, the
 * coordinator and the requester makes their tests meet those faults on purpose, repeatably (seeded), instead of
 * for the first time on a testnet.
 *
 * What each fault looks like on the wire:
 * - Block-range cap: an eth_getLogs call whose range (tags resolved against the node's head, a missing bound is
 *   "latest") spans more than `maxBlockRange` blocks gets a JSON-RPC error, its text taken in turn (seeded) from
 *   real providers' formats (Alchemy, QuickNode, geth forks, a generic one), so that a client that recognises only
 *   one provider's message is caught out. A `blockHash` filter is never refused for its range.
 * - Result cap: the call is forwarded, and an answer with more than `maxResults` logs is replaced by an error in
 *   Infura's or Alchemy's format, each suggesting a narrower range that would pass.
 * - 429: HTTP 429 with `Retry-After: 1` and the body `{"jsonrpc":"2.0","error":{"code":-32005,"message":"Too Many
 *   Requests"},"id":…}`, for the whole HTTP request (a whole batch). The project's provider (common/chain/provider.ts)
 *   retries it after a backoff of at least Retry-After (capped); ethers' own FetchRequest, which a test may use
 *   directly, retries it up to 12 times and reads Retry-After as milliseconds (RFC 9110 says seconds).
 * - Dropped connection: the socket is destroyed without an answer (Node's fetch: TypeError "fetch failed", which
 *   the project's provider retries; ethers' own HTTP client: ECONNRESET "socket hang up"). A request that sends a
 *   transaction or changes the node's state (eth_send*, hardhat_*, evm_*) is only ever dropped before it is
 *   forwarded, so a drop never hides a transaction that was really sent; read-only requests are dropped before or
 *   after forwarding, as a real provider does.
 * - Stale head: eth_blockNumber, and eth_getBlockByNumber("latest"), answer as if the head were 1..staleBlocks
 *   blocks behind (the older block itself, from the node), never ahead of it.
 * - Latency: each HTTP request waits uniformly within `latencyMs` before it is handled.
 *
 * Faults are decided per HTTP request from its own seeded stream (seed and the request's arrival number), so the
 * same seed and the same sequence of requests give the same faults, whatever the timing of the answers.
 *
 * Batches (JSON arrays, which ethers v6 sends by default) are handled element by element, in order: the caps and the
 * stale head apply per element; 429s, drops and latency apply to the whole HTTP request.
 *
 * Not proxied: WebSockets. This proxy serves HTTP only; a caller that wants eth_subscribe gives the node's own ws://
 * URL, or none (the worker then polls).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mulberry32 } from "./random.ts";

export interface ProviderImitation {
  /** eth_getLogs ranges wider than this many blocks are refused (default 500). */
  maxBlockRange?: number;
  /** eth_getLogs answers with more logs than this are refused (default 10_000). */
  maxResults?: number;
  /** Fraction of HTTP requests answered HTTP 429 (default 0). */
  rateLimitRate?: number;
  /** Added latency per HTTP request, ms: uniformly within [min, max] (default [0, 0]). */
  latencyMs?: [number, number];
  /** Fraction of HTTP requests whose connection is destroyed without an answer (default 0). */
  dropRate?: number;
  /** Fraction of eth_blockNumber / eth_getBlockByNumber("latest") answers that are 1..staleBlocks behind (default 0). */
  staleHeadRate?: number;
  /** How far behind a stale head may be (default 3). */
  staleBlocks?: number;
  /** Seeds the faults, so that a run can be repeated (default 1). */
  seed?: number;
}

export interface ProxyStats {
  /** HTTP requests received. */
  requests: number;
  /** JSON-RPC calls received (each element of a batch counts). */
  calls: number;
  /** Calls received, per method. */
  byMethod: Record<string, number>;
  /** Calls sent on to the node (a stale head's call counts: it is answered from the node, rewritten). */
  forwarded: number;
  /** Calls sent on to the node, per method. */
  forwardedByMethod: Record<string, number>;
  /** eth_getLogs calls refused for their block range. */
  rangeRefusals: number;
  /** eth_getLogs calls refused for the number of logs they would return. */
  resultRefusals: number;
  /** HTTP requests answered 429. */
  rateLimited: number;
  /** HTTP requests whose connection was destroyed without an answer. */
  dropped: number;
  /** Of those, the ones dropped after their calls had been forwarded (read-only requests only). */
  droppedAfterForwarding: number;
  /** Head answers made stale. */
  staleHeads: number;
}

export interface RpcProxy {
  /** http://127.0.0.1:PORT, to give where the node's URL would go. */
  url: string;
  /** A copy of the counters, so that tests can assert that the faults really happened. */
  stats(): ProxyStats;
  close(): Promise<void>;
}

interface RpcCall {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

interface RpcAnswer {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: RpcError;
}

/** The node did not answer, or answered something that is not JSON-RPC: the proxy answers 502, as a gateway does. */
class UpstreamError extends Error {}

const hex = (n: number) => `0x${n.toString(16)}`;
const pick = <T>(rng: () => number, items: T[]): T => items[Math.floor(rng() * items.length)];

/** Range refusals in the words of real providers; `from` is the query's first block, `max` the cap. */
const RANGE_REFUSALS: ((from: number, max: number) => RpcError)[] = [
  // Alchemy
  (from, max) => ({
    code: -32600,
    message:
      `You can make eth_getLogs requests with up to a ${max} block range. ` +
      `Based on your parameters, this block range should work: [${hex(from)}, ${hex(from + max - 1)}]`,
  }),
  // QuickNode
  (_from, max) => ({ code: -32614, message: `eth_getLogs is limited to a ${max.toLocaleString("en-US")} range` }),
  // geth forks (BSC and others)
  (_from, max) => ({ code: -32000, message: `exceed maximum block range: ${max}` }),
  // generic
  () => ({ code: -32602, message: "block range too large" }),
];

/** Result refusals in the words of real providers, each suggesting [from, to], a range under the cap. */
const RESULT_REFUSALS: ((from: number, to: number, max: number, maxRange: number) => RpcError)[] = [
  // Infura (and geth-style nodes)
  (from, to, max) => ({
    code: -32005,
    message: `query returned more than ${max} results. Try with this block range [${hex(from)}, ${hex(to)}].`,
    data: { from: hex(from), to: hex(to), limit: max },
  }),
  // Alchemy
  (from, to, max, maxRange) => ({
    code: -32602,
    message:
      `Log response size exceeded. You can make eth_getLogs requests with up to a ${maxRange} block range and no ` +
      `limit on the response size, or you can request any block range with a cap of ${max} logs in the response. ` +
      `Based on your parameters and the response size limit, this block range should work: [${hex(from)}, ${hex(to)}]`,
  }),
];

/** Methods that may be dropped after they reached the node: only reads, whose repetition changes nothing. */
function mayDropAfterForwarding(method: string): boolean {
  return !/^(eth_send|hardhat_|evm_)/.test(method);
}

function fraction(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be within [0, 1], not ${value}`);
  return value;
}

function atLeastOne(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be an integer >= 1, not ${value}`);
  return value;
}

export async function startRpcProxy(upstreamUrl: string, o: ProviderImitation = {}): Promise<RpcProxy> {
  const maxBlockRange = atLeastOne("maxBlockRange", o.maxBlockRange ?? 500);
  const maxResults = atLeastOne("maxResults", o.maxResults ?? 10_000);
  const rateLimitRate = fraction("rateLimitRate", o.rateLimitRate ?? 0);
  const dropRate = fraction("dropRate", o.dropRate ?? 0);
  const staleHeadRate = fraction("staleHeadRate", o.staleHeadRate ?? 0);
  const staleBlocks = atLeastOne("staleBlocks", o.staleBlocks ?? 3);
  const [minLatency, maxLatency] = o.latencyMs ?? [0, 0];
  if (!(minLatency >= 0 && maxLatency >= minLatency))
    throw new RangeError(`latencyMs must be [min, max], 0 <= min <= max`);
  const seed = o.seed ?? 1;

  const stats: ProxyStats = {
    requests: 0,
    calls: 0,
    byMethod: {},
    forwarded: 0,
    forwardedByMethod: {},
    rangeRefusals: 0,
    resultRefusals: 0,
    rateLimited: 0,
    dropped: 0,
    droppedAfterForwarding: 0,
    staleHeads: 0,
  };

  async function upstream(call: RpcCall): Promise<RpcAnswer> {
    let answer: unknown;
    try {
      const response = await fetch(upstreamUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(call),
      });
      answer = await response.json();
    } catch (e) {
      throw new UpstreamError(`the node at ${upstreamUrl} did not answer ${call.method}: ${(e as Error).message}`);
    }
    if (typeof answer !== "object" || answer === null || Array.isArray(answer))
      throw new UpstreamError(`the node at ${upstreamUrl} answered ${call.method} with ${JSON.stringify(answer)}`);
    return answer as RpcAnswer;
  }

  async function forward(call: RpcCall): Promise<RpcAnswer> {
    stats.forwarded++;
    stats.forwardedByMethod[call.method] = (stats.forwardedByMethod[call.method] ?? 0) + 1;
    return upstream(call);
  }

  /** The node's head now (the proxy's own question: not counted as forwarded). */
  async function head(): Promise<number> {
    const answer = await upstream({ jsonrpc: "2.0", id: "rpc-proxy-head", method: "eth_blockNumber", params: [] });
    if (typeof answer.result !== "string") throw new UpstreamError(`the node has no head: ${JSON.stringify(answer)}`);
    return Number(answer.result);
  }

  /** How far behind this answer's head is to be: 0 (not stale) or 1..staleBlocks, and never below block 0. */
  function staleness(rng: () => number, headNumber: number): number {
    if (!(rng() < staleHeadRate)) return 0;
    return Math.min(headNumber, 1 + Math.floor(rng() * staleBlocks));
  }

  async function getLogs(call: RpcCall, rng: () => number): Promise<RpcAnswer> {
    const filter = call.params?.[0] as Record<string, unknown> | undefined;
    let from: number | undefined;
    if (filter && typeof filter === "object" && filter.blockHash === undefined) {
      let headNumber: number | undefined;
      // Tags are resolved as a provider does, against its head; safe and finalized are taken as the head, which can
      // only make a range look wider than it is (stricter, never more lenient). Unreadable bounds go to the node.
      const resolve = async (bound: unknown): Promise<number | undefined> => {
        if (
          bound === undefined ||
          bound === null ||
          ["latest", "pending", "safe", "finalized"].includes(bound as string)
        )
          return (headNumber ??= await head());
        if (bound === "earliest") return 0;
        if (typeof bound === "string" && /^0x[0-9a-f]+$/i.test(bound)) return Number(bound);
        return undefined;
      };
      from = await resolve(filter.fromBlock);
      const to = await resolve(filter.toBlock);
      if (from !== undefined && to !== undefined && to - from + 1 > maxBlockRange) {
        stats.rangeRefusals++;
        return { jsonrpc: "2.0", id: call.id, error: pick(rng, RANGE_REFUSALS)(from, maxBlockRange) };
      }
    }
    const answer = await forward(call);
    const logs = answer.result;
    if (!Array.isArray(logs) || logs.length <= maxResults) return answer;
    stats.resultRefusals++;
    // A range under the cap: up to the block before the first log past the cap (a single block if even that is over).
    const start = from ?? Number(logs[0].blockNumber);
    const end = Math.max(start, Number(logs[maxResults].blockNumber) - 1);
    return {
      jsonrpc: "2.0",
      id: call.id,
      error: pick(rng, RESULT_REFUSALS)(start, end, maxResults, maxBlockRange),
    };
  }

  async function answerCall(call: RpcCall, rng: () => number): Promise<RpcAnswer> {
    if (call.method === "eth_getLogs") return getLogs(call, rng);
    if (call.method === "eth_blockNumber") {
      const answer = await forward(call);
      if (typeof answer.result !== "string") return answer;
      const behind = staleness(rng, Number(answer.result));
      if (behind === 0) return answer;
      stats.staleHeads++;
      return { ...answer, result: hex(Number(answer.result) - behind) };
    }
    if (call.method === "eth_getBlockByNumber" && call.params?.[0] === "latest" && staleHeadRate > 0) {
      const headNumber = await head();
      const behind = staleness(rng, headNumber);
      if (behind === 0) return forward(call);
      stats.staleHeads++;
      return forward({ ...call, params: [hex(headNumber - behind), ...call.params.slice(1)] });
    }
    return forward(call);
  }

  function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  function drop(req: IncomingMessage, afterForwarding: boolean) {
    stats.dropped++;
    if (afterForwarding) stats.droppedAfterForwarding++;
    req.socket.destroy();
  }

  let arrivals = 0;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Numbered on arrival, before any await: the request's faults depend on the seed and its place in the sequence.
    const rng = mulberry32(seed ^ Math.imul(arrivals++, 0x9e3779b9));
    stats.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST") return reply(res, 405, { error: "JSON-RPC is POSTed" });

    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 200, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    }
    const isBatch = Array.isArray(parsed);
    const calls = (isBatch ? parsed : [parsed]) as RpcCall[];
    if (calls.length === 0 || calls.some((c) => typeof c !== "object" || c === null))
      return reply(res, 200, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } });
    for (const call of calls) {
      stats.calls++;
      stats.byMethod[String(call.method)] = (stats.byMethod[String(call.method)] ?? 0) + 1;
    }

    // Drawn in a fixed order, whatever happens next, so that each decision has its own place in the stream.
    const latency = minLatency + rng() * (maxLatency - minLatency);
    const rateLimited = rng() < rateLimitRate;
    const dropped = rng() < dropRate;
    const dropLate = rng() < 0.5 && calls.every((c) => mayDropAfterForwarding(String(c.method)));

    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (rateLimited) {
      stats.rateLimited++;
      return reply(
        res,
        429,
        { jsonrpc: "2.0", error: { code: -32005, message: "Too Many Requests" }, id: isBatch ? null : calls[0].id },
        { "retry-after": "1" },
      );
    }
    if (dropped && !dropLate) return drop(req, false);

    const answers: RpcAnswer[] = [];
    try {
      // In order, as a node runs a batch: a later call may depend on an earlier one (a send, then its receipt).
      for (const call of calls) answers.push(await answerCall(call, rng));
    } catch (e) {
      if (!(e instanceof UpstreamError)) throw e;
      return reply(res, 502, { jsonrpc: "2.0", id: null, error: { code: -32603, message: e.message } });
    }
    if (dropped) return drop(req, true);
    reply(res, 200, isBatch ? answers : answers[0]);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) reply(res, 500, { jsonrpc: "2.0", id: null, error: { code: -32603, message: e.message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => structuredClone(stats),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Keep-alive connections would hold close() open until the clients let go.
        server.closeAllConnections();
      }),
  };
}
