/**
 * Sends the worker's transactions one at a time (each waits until the previous one is in the node's pool), so
 * concurrent claims and submissions never race for a nonce.
 */
import type { ContractTransactionResponse } from "ethers";

export function createTxQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return function send(fn: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionResponse> {
    const sent = tail.then(fn, fn);
    tail = sent.catch(() => undefined);
    return sent;
  };
}
