/**
 * Verdicts on circuits whose verifier refused a proof that verifies against the verification key (or whose claims the
 * market refused because the verifier's code changed): the worker stops serving the circuit, and records why in its
 * store with the code the verifiers had then, so that a restart does not claim the circuit's jobs again and lose
 * another slash (worth the most with trust.checkVerifierBytecode off, when no start-up check would catch it). A
 * verdict holds while the verifiers' code is what it was; new code is checked afresh. The operator clears one with
 * `proofmarket-worker trust --clear ID`.
 */
import { keccak256, type Provider } from "ethers";
import type { CircuitVerdict, VerifierCode } from "../store.ts";

/** The command that forgets a circuit's verdict. */
export const clearCommand = (circuitId: number) => `proofmarket-worker trust --clear ${circuitId}`;

/** The code at a circuit's verifiers now. */
export async function readVerifierCode(
  provider: Pick<Provider, "getCode">,
  verifier: string,
  batchVerifier: string | null,
): Promise<VerifierCode> {
  const hash = async (address: string) => keccak256(await provider.getCode(address));
  return {
    verifier,
    verifierCodeHash: await hash(verifier),
    batchVerifier,
    batchVerifierCodeHash: batchVerifier === null ? null : await hash(batchVerifier),
  };
}

const sameAddress = (a: string | null, b: string | null) => a?.toLowerCase() === b?.toLowerCase();

/** Whether a verdict recorded on `then` holds for the verifiers as they are `now` (same addresses, same code). */
export const verdictHolds = (then: VerifierCode, now: VerifierCode) =>
  sameAddress(then.verifier, now.verifier) &&
  then.verifierCodeHash === now.verifierCodeHash &&
  sameAddress(then.batchVerifier, now.batchVerifier) &&
  then.batchVerifierCodeHash === now.batchVerifierCodeHash;

/** The verdict in words, with its evidence and how to clear it. */
export function describeVerdict(verdict: CircuitVerdict): string {
  const evidence = [
    verdict.jobId === null ? null : `job ${verdict.jobId}`,
    verdict.txHash === null ? null : `tx ${verdict.txHash}`,
  ].filter((e) => e !== null);
  return (
    `out of service since ${new Date(verdict.at).toISOString()}: ${verdict.reason}` +
    (evidence.length > 0 ? ` (${evidence.join(", ")})` : "") +
    `; the verdict holds while the code at its verifier ${verdict.code.verifier}` +
    (verdict.code.batchVerifier === null ? "" : ` and batch verifier ${verdict.code.batchVerifier}`) +
    ` is what it was then (clear it with \`${clearCommand(verdict.circuitId)}\`)`
  );
}

/** A verdict as `status` and `trust` print it (JSON). */
export const verdictSummary = (verdict: CircuitVerdict) => ({
  circuitId: verdict.circuitId,
  since: new Date(verdict.at).toISOString(),
  reason: verdict.reason,
  jobId: verdict.jobId === null ? null : String(verdict.jobId),
  tx: verdict.txHash,
  verifier: verdict.code.verifier,
  batchVerifier: verdict.code.batchVerifier,
  clear: clearCommand(verdict.circuitId),
});
