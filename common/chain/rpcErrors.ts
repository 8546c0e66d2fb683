/**
 * What a JSON-RPC provider's failure means for whoever retries it. Public providers refuse an `eth_getLogs` that
 * spans too many blocks or returns too many logs, each with its own words and code (Alchemy, Infura, QuickNode,
 * Ankr, geth, erigon and reth behind a load balancer...), rate-limit with HTTP 429, and drop or time out connections.
 * This is the one place that reads their messages; everything else acts on the kind returned here.
 *
 * The provider's words can sit anywhere in what the client throws: ethers v6 puts a JSON-RPC error answered with
 * HTTP 200 under `error`, and one answered with another status (QuickNode's 413, a 429) only in
 * `info.responseBody`, as text; Node puts a socket's failure under `cause`. All of them are read.
 */

export type RpcFailure =
  /**
   * The request asked for too much: narrow the block range (to `suggestedTo` when the provider said what fits).
   * `limit` says what the provider caps: the blocks a request spans (a wider range is always refused; `maxRange`
   * is the cap when the provider states it) or the logs it returns (a range that fits depends on the events in it).
   */
  | { kind: "tooLarge"; limit: "blocks" | "results"; suggestedTo?: number; maxRange?: number; message: string }
  /** The provider is rate-limiting: wait, then ask again. */
  | { kind: "rateLimited"; message: string }
  /** The connection failed, timed out, the server erred or answered from behind the head: ask again after a pause. */
  | { kind: "transient"; timeout: boolean; message: string }
  /** Anything else: the request itself is wrong, asking again the same way will not help. */
  | { kind: "other"; message: string };

interface Facts {
  /** The providers' own JSON-RPC error messages, outermost first. */
  provider: string[];
  /** Every other message: the client's (ethers' short message, Node's), HTTP status lines. */
  other: string[];
  codes: (number | string)[];
}

/** What an error says, from every level it nests (ethers nests deeply, and keeps answers' bodies as text). */
function facts(error: unknown): Facts {
  const found: Facts = { provider: [], other: [], codes: [] };
  const seen = new Set<unknown>();
  const walk = (node: unknown, depth: number): void => {
    if (typeof node === "string") {
      // An answer's body: a JSON-RPC error (or a batch of them), or an HTML error page from a load balancer.
      const text = node.trim();
      if (text.startsWith("{") || text.startsWith("[")) {
        try {
          return walk(JSON.parse(text), depth);
        } catch {
          // not JSON after all
        }
      }
      const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
      found.other.push(title ?? text.slice(0, 300));
      return;
    }
    if (node === null || typeof node !== "object" || seen.has(node) || depth > 8) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const child of node) walk(child, depth + 1);
      return;
    }
    const n = node as Record<string, unknown>;
    // A JSON-RPC error object: { code: number, message: string, data? }.
    const rpcError = typeof n.code === "number" && typeof n.message === "string" && !(node instanceof Error);
    if (rpcError) found.provider.push(n.message as string);
    // ethers' `message` repeats its short message with every detail as JSON: the short one is enough.
    else if (typeof n.shortMessage === "string") found.other.push(n.shortMessage);
    else if (typeof n.message === "string") found.other.push(n.message);
    for (const key of ["code", "status", "statusCode"])
      if (typeof n[key] === "number" || typeof n[key] === "string") found.codes.push(n[key] as number | string);
    // An HTTP status line ("429 Too Many Requests", or ethers' "599 CLIENT ESCALATED SERVER ERROR (429 ...)").
    for (const key of ["responseStatus", "statusMessage"])
      if (typeof n[key] === "string") {
        found.other.push(n[key] as string);
        for (const m of (n[key] as string).matchAll(/\b([1-5]\d\d)\b/g)) found.codes.push(Number(m[1]));
      }
    for (const key of ["error", "info", "cause", "response", "errors", "data", "responseBody"])
      if (key in n) walk(n[key], depth + 1);
  };
  walk(error, 0);
  return found;
}

// A provider's refusal of the span of blocks asked for, in its words.
const BLOCK_LIMIT = [
  /block range (is )?too (large|wide)/i, // Ankr "block range is too wide", Base/generic "block range too large"
  /up to an? [\d,.]+k? block range/i, // Alchemy
  /limited to (an? )?[\d,.]+( - [\d,.]+)?( blocks?)? range/i, // QuickNode "limited to a 10,000 range", 1rpc
  /exceeds? (the )?max(imum)? block range/i, // geth forks, publicnode; erigon and reth "query exceeds max block range"
  /range \d+ exceeds limit of/i, // Infura
  /block range limit exceeded/i, // Chainstack
  /ranges over [\d,.]+ blocks are not supported/i, // dRPC
  /requested too many blocks/i, // Avalanche
  /max(imum)? range: \d/i, // Cloudflare's gateway
  /maximum allowed number of requested blocks/i, // thirdweb
  /please limit the query to at most/i, // Coinbase
  /block range (exceeds|greater than)/i,
  /too many blocks/i,
];
// A refusal of the number of logs (or the work) the answer would take.
const RESULT_LIMIT = [
  /more than [\d,.]+ results/i, // Infura, geth: "query returned more than 10000 results"
  /exceeds max results/i, // erigon, reth, Ankr: "query exceeds max results 10000"
  /response size (exceeded|is larger|should not)/i, // Alchemy "Log response size exceeded", 1rpc
  /logs matched by query exceeds limit/i, // Arbitrum
  /backend response too large/i,
  /too many (logs|results)/i,
  /query timeout exceeded/i, // Infura: a range too expensive to scan in its 10 s
];
// The node answering is behind the chain (a load balancer's lagging backend): the same request will work later.
const BEHIND = [/block range extends beyond current head/i, /header not found/i, /unknown block/i];
const RATE_LIMITED = [
  /too many requests/i,
  /rate.?limit/i, // "rate limit exceeded", Ankr "call rate limit exhausted", Infura "request rate limited"
  /request rate exceeded/i, // Infura "project ID request rate exceeded"
  /request limit reached/i, // QuickNode "15/second request limit reached"
  /exceeded .*(capacity|quota|compute units|rps limit)/i, // Alchemy, Chainstack
  /daily request count exceeded/i,
];
const TRANSIENT = [
  /socket hang up|other side closed|fetch failed/i,
  /ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR/,
  /network error/i,
  /server response 5\d\d/i,
  /bad gateway|service unavailable|gateway timeout|web server is down|origin is unreachable/i,
  /no backend is currently healthy/i,
  /not valid JSON|invalid JSON|unexpected token/i, // a proxy's error page where JSON was expected
];
const TIMEOUT = /time-?out|timed out|ETIMEDOUT/i;

/** A suggested range such as "[0x1a, 0x2b]" or "this block range should work: [0x1a, 0x2b]": its end block. */
function suggestedEnd(text: string): number | undefined {
  const m = /\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]/i.exec(text);
  return m ? Number.parseInt(m[2], 16) : undefined;
}

/** "10,000", "10.000", "2K" as a number. */
function amount(text: string): number {
  const k = /k$/i.test(text);
  const n = Number(text.replace(/k$/i, "").replaceAll(/[,.]/g, ""));
  return k ? n * 1000 : n;
}

/** A stated cap on the blocks a request may span, such as "up to a 500 block range", "exceed maximum block range: 2000". */
function statedMaximum(text: string): number | undefined {
  const m =
    /up to an? ([\d,.]+k?) block range/i.exec(text) ??
    /limited to an? ([\d,.]+)(?: blocks?)? range/i.exec(text) ??
    /limited to [\d,.]+ - ([\d,.]+) blocks? range/i.exec(text) ??
    /max(?:imum)? block range(?: is|:)? ([\d,.]+)/i.exec(text) ??
    /block range (?:limit|is limited to|is too wide \(maximum)(?: of|:)? ([\d,.]+)/i.exec(text) ??
    /range \d+ exceeds limit of ([\d,.]+)/i.exec(text) ??
    /ranges over ([\d,.]+) blocks are not supported/i.exec(text) ??
    /max(?:imum)? range: ([\d,.]+)/i.exec(text) ??
    /maximum allowed number of requested blocks is ([\d,.]+)/i.exec(text) ??
    /limit the query to at most ([\d,.]+) blocks/i.exec(text) ??
    /requested too many blocks from \d+ to \d+, maximum is set to ([\d,.]+)/i.exec(text);
  if (m === null) return undefined;
  const n = amount(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function classifyRpcFailure(error: unknown): RpcFailure {
  const f = facts(error);
  const texts = [...f.provider, ...f.other];
  const text = texts.join(" | ");
  // The provider's own words when it said any, else the client's.
  const message = f.provider[0] ?? f.other.find((m) => !/could not coalesce/i.test(m)) ?? String(error);
  if (f.codes.includes(429) || RATE_LIMITED.some((r) => r.test(text))) return { kind: "rateLimited", message };
  if (BEHIND.some((r) => r.test(text))) return { kind: "transient", timeout: false, message };
  const results = RESULT_LIMIT.some((r) => r.test(text));
  if (results || BLOCK_LIMIT.some((r) => r.test(text))) {
    const suggestedTo = suggestedEnd(text);
    const maxRange = statedMaximum(text);
    return {
      kind: "tooLarge",
      limit: results ? "results" : "blocks",
      ...(suggestedTo !== undefined ? { suggestedTo } : {}),
      ...(maxRange !== undefined ? { maxRange } : {}),
      message,
    };
  }
  const timeout = f.codes.includes("TIMEOUT") || TIMEOUT.test(text);
  const serverError = f.codes.some((c) => typeof c === "number" && c >= 500 && c < 600);
  if (timeout || serverError || TRANSIENT.some((r) => r.test(text)) || f.codes.includes("NETWORK_ERROR"))
    return { kind: "transient", timeout, message };
  return { kind: "other", message };
}
