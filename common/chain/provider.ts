/**
 * The JSON-RPC provider every off-chain component uses. One correction: ethers' provider keeps each request's
 * result for 250 ms, so a nonce read right after a transaction was mined (automining local nodes do this in
 * milliseconds) can be the stale count from before it, and the next transaction reuses a nonce. The next nonce
 * is read uncached, as the larger of the "pending" and "latest" counts.
 */
import { type AddressLike, type BlockTag, JsonRpcProvider, resolveAddress } from "ethers";

class ChainProvider extends JsonRpcProvider {
  override async getTransactionCount(address: AddressLike, blockTag?: BlockTag): Promise<number> {
    if (blockTag !== "pending") return super.getTransactionCount(address, blockTag);
    const account = await resolveAddress(address, this);
    const [pending, latest] = await Promise.all([
      this.send("eth_getTransactionCount", [account, "pending"]),
      this.send("eth_getTransactionCount", [account, "latest"]),
    ]);
    return Math.max(Number(pending), Number(latest));
  }
}

export function createProvider(url: string, pollingIntervalMs = 1000): JsonRpcProvider {
  return new ChainProvider(url, undefined, { staticNetwork: true, pollingInterval: pollingIntervalMs });
}
