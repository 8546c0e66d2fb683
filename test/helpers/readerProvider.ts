/**
 * An ethers provider as the chain reader's tests meet one: the network known (no eth_chainId asked first), one
 * JSON-RPC call per HTTP request (so that a server's or proxy's counts are the caller's), and ethers' own retries of
 * HTTP 429 off unless asked for (so that a 429 reaches the caller as it is, and the caller's retries are counted).
 */
import { FetchRequest, JsonRpcProvider, Network } from "ethers";

export function readerProvider(url: string, o: { timeoutMs?: number; ethers429Retries?: boolean } = {}) {
  const request = new FetchRequest(url);
  if (o.timeoutMs !== undefined) request.timeout = o.timeoutMs;
  if (!o.ethers429Retries) request.setThrottleParams({ maxAttempts: 1 });
  return new JsonRpcProvider(request, Network.from(31337), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
}
