/**
 * The JSON-RPC provider every off-chain component uses. Ethers keeps each request's result for 250 ms by default,
 * so a nonce, a block number or a log query repeated right after a transaction was mined (automining local nodes
 * do this in milliseconds) would be answered from before it, and the next transaction would reuse a nonce. The
 * cache is off: every read is what the node says now.
 */
import { JsonRpcProvider } from "ethers";

export function createProvider(url: string, pollingIntervalMs = 1000): JsonRpcProvider {
  return new JsonRpcProvider(url, undefined, {
    staticNetwork: true,
    pollingInterval: pollingIntervalMs,
    cacheTimeout: -1,
  });
}
