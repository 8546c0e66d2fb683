/**
 * The JSON-RPC provider every off-chain component uses.
 *
 * Ethers keeps each request's result for 250 ms by default, so a nonce, a block number or a log query repeated right
 * after a transaction was mined (automining local nodes do this in milliseconds) would be answered from before it,
 * and the next transaction would reuse a nonce. The cache is off: every read is what the node says now.
 *
 * The transport is Node's fetch, not ethers' own HTTP client: that one copies the whole response body again on every
 * chunk it receives, so a large eth_getLogs answer (15,000 logs) took 5 to 8 s to arrive instead of half a second.
 *
 * Public providers drop connections, time out, rate-limit (HTTP 429) and answer 5xx now and then. A request that
 * failed that way is sent again after a backoff with jitter (429: at least what Retry-After asks), a bounded number
 * of times; this is the only layer that retries a transport failure. A signed transaction may be sent again too: it is the same transaction (same hash, same nonce), so the
 * node either takes it or says it has it already ("already known", or "nonce too low" once it is mined). Those
 * answers to a repeat are taken as the success they are, after checking that the node does know the transaction;
 * any other error is the caller's.
 */
import { backoffDelay } from "../backoff.ts";
import { JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult, keccak256 } from "ethers";
import { classifyRpcFailure } from "./rpcErrors.ts";

/** What nodes answer a transaction they already have: geth, erigon, Hardhat/EDR, Nethermind, Besu wordings. */
const ALREADY_SENT =
  /already known|known transaction|already imported|nonce too low|AlreadyKnown|transaction already exists/i;

export interface ProviderRetry {
  /** Attempts per request in all (default 5). */
  attempts: number;
  /** First pause in ms (default 200), doubling, ±20%, at most `maxMs` (default 5,000). */
  initialMs: number;
  maxMs: number;
  /** Told of every retry (for metrics). */
  onRetry?: (r: { method: string; attempt: number; kind: string }) => void;
}

/** An HTTP answer that is not a JSON-RPC answer, shaped like ethers' own (rpcErrors.ts reads both). */
export class RpcHttpError extends Error {
  readonly code = "SERVER_ERROR";
  readonly status: number;
  readonly info: { responseStatus: string; responseBody: string };
  readonly retryAfterMs: number | null;
  constructor(status: number, statusText: string, body: string, retryAfter: string | null) {
    super(`server response ${status} ${statusText}`);
    this.status = status;
    this.info = { responseStatus: `${status} ${statusText}`, responseBody: body.slice(0, 2_000) };
    this.retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : null;
  }
}

/** How long one HTTP request may take before it counts as a timeout (a passing failure). */
const REQUEST_TIMEOUT_MS = 120_000;

class RetryingProvider extends JsonRpcProvider {
  readonly #retry: ProviderRetry;
  readonly #url: string;
  readonly #headers: Record<string, string>;

  constructor(url: string, pollingInterval: number, retry: ProviderRetry) {
    super(url, undefined, { staticNetwork: true, pollingInterval, cacheTimeout: -1 });
    this.#retry = retry;
    // fetch refuses credentials in a URL: they go in an Authorization header, as ethers would send them.
    const parsed = new URL(url);
    this.#headers = { "content-type": "application/json" };
    if (parsed.username !== "" || parsed.password !== "") {
      const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.#headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
      parsed.username = "";
      parsed.password = "";
    }
    this.#url = parsed.toString();
  }

  /** One HTTP round trip: the JSON-RPC answers, or a thrown transport or HTTP failure. */
  async #post(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const response = await fetch(this.#url, {
      method: "POST",
      headers: this.#headers,
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok)
      throw new RpcHttpError(response.status, response.statusText, text, response.headers.get("retry-after"));
    let answers: unknown;
    try {
      answers = JSON.parse(text);
    } catch {
      throw new RpcHttpError(502, "not JSON", text, null);
    }
    return (Array.isArray(answers) ? answers : [answers]) as JsonRpcResult[];
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const payloads = Array.isArray(payload) ? payload : [payload];
    const methods = payloads.map((p) => p.method);
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.#post(payload);
        return attempt === 1 ? results : await this.#knownRepeats(payloads, results);
      } catch (e) {
        const failure = classifyRpcFailure(e);
        const passing = failure.kind === "transient" || failure.kind === "rateLimited";
        if (!passing || attempt >= this.#retry.attempts || this.destroyed) throw e;
        this.#retry.onRetry?.({ method: methods.join(","), attempt, kind: failure.kind });
        const asked = e instanceof RpcHttpError ? (e.retryAfterMs ?? 0) : 0;
        const delay = Math.max(Math.min(asked, this.#retry.maxMs), backoffDelay(attempt, this.#retry));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * A repeated eth_sendRawTransaction that the node refuses because it has the transaction already (the first
   * attempt reached it): answered with the transaction's hash, once the node confirms it knows that hash.
   */
  async #knownRepeats(payloads: JsonRpcPayload[], results: JsonRpcResult[]): Promise<JsonRpcResult[]> {
    const answered: JsonRpcResult[] = [];
    for (const result of results) {
      const sent = payloads.find((p) => p.id === result.id);
      const error = (result as { error?: { message?: string } }).error;
      if (sent?.method === "eth_sendRawTransaction" && error && ALREADY_SENT.test(String(error.message))) {
        const hash = keccak256((sent.params as string[])[0]);
        const known = await this.#post({
          method: "eth_getTransactionByHash",
          params: [hash],
          id: sent.id,
          jsonrpc: "2.0",
        });
        if ((known[0] as { result?: unknown }).result != null) {
          answered.push({ id: result.id, result: hash });
          continue;
        }
      }
      answered.push(result);
    }
    return answered;
  }
}

export function createProvider(
  url: string,
  pollingIntervalMs = 1000,
  retry: Partial<ProviderRetry> = {},
): JsonRpcProvider {
  return new RetryingProvider(url, pollingIntervalMs, { attempts: 5, initialMs: 200, maxMs: 5_000, ...retry });
}
