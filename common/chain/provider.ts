/**
 * The JSON-RPC provider every off-chain component uses.
 *
 * Ethers keeps each request's result for 250 ms by default, so a nonce, a block number or a log query repeated right
 * after a transaction was mined (automining local nodes do this in milliseconds) would be answered from before it,
 * and the next transaction would reuse a nonce. The cache is off: every read is what the node says now.
 *
 * Public providers drop connections, time out and answer 5xx now and then. A request that failed that way before
 * any answer came (ethers retries HTTP 429 itself) is sent again after a backoff with jitter, a bounded number of
 * times, unless it sends a transaction: a dropped `eth_sendRawTransaction` may have reached the node, and whoever
 * sent it must ask the chain rather than send it twice (the worker's claim does: pipeline/claim.ts).
 */
import { JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { classifyRpcFailure } from "./rpcErrors.ts";

const SENDS = new Set(["eth_sendRawTransaction", "eth_sendTransaction"]);

export interface ProviderRetry {
  /** Attempts per request in all (default 5). */
  attempts: number;
  /** First pause in ms (default 200), doubling, ±20%, at most `maxMs` (default 5,000). */
  initialMs: number;
  maxMs: number;
  /** Told of every retry (for metrics). */
  onRetry?: (r: { method: string; attempt: number; kind: string }) => void;
}

class RetryingProvider extends JsonRpcProvider {
  readonly #retry: ProviderRetry;

  constructor(url: string, pollingInterval: number, retry: ProviderRetry) {
    super(url, undefined, { staticNetwork: true, pollingInterval, cacheTimeout: -1 });
    this.#retry = retry;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const methods = (Array.isArray(payload) ? payload : [payload]).map((p) => p.method);
    const sends = methods.some((m) => SENDS.has(m));
    for (let attempt = 1; ; attempt++) {
      try {
        return await super._send(payload);
      } catch (e) {
        const failure = classifyRpcFailure(e);
        const passing = failure.kind === "transient" || failure.kind === "rateLimited";
        if (sends || !passing || attempt >= this.#retry.attempts || this.destroyed) throw e;
        this.#retry.onRetry?.({ method: methods.join(","), attempt, kind: failure.kind });
        const base = Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** (attempt - 1));
        await new Promise((r) => setTimeout(r, Math.round(base * (0.8 + 0.4 * Math.random()))));
      }
    }
  }
}

export function createProvider(
  url: string,
  pollingIntervalMs = 1000,
  retry: Partial<ProviderRetry> = {},
): JsonRpcProvider {
  return new RetryingProvider(url, pollingIntervalMs, { attempts: 5, initialMs: 200, maxMs: 5_000, ...retry });
}
