/**
 * Sends the worker's transactions one at a time (each waits until the previous one is in the node's pool), so
 * concurrent claims and submissions never race for a nonce, and reads the market's custom error out of a revert.
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

/** The market's custom error name (e.g. "WrongStatus") if the call reverted with one. */
export function revertName(error: unknown): string | null {
  const e = error as { revert?: { name?: string }; info?: { error?: { message?: string } }; shortMessage?: string };
  if (e?.revert?.name) return e.revert.name;
  const text = `${e?.shortMessage ?? ""} ${e?.info?.error?.message ?? ""}`;
  const match = /reverted with custom error '(\w+)\(/.exec(text);
  return match ? match[1] : null;
}
