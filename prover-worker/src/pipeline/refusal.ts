/**
 * Reaction to a refused submission: the market refused `submitProof` (at gas estimation, which ethers runs before
 * every send, or after mining) for a proof this worker has already checked against the circuit's verification key.
 *
 * When the refusal comes from the verifier (InvalidProof, InvalidBatchProof, or VerifierCodeChanged: the code the
 * circuit was registered with is gone), the verifier is not what the worker checked or assumed: a valid proof will
 * never be accepted, so waiting for the deadline means losing the whole bond. The worker abandons at once for the
 * smaller slash, stops claiming the circuit's jobs for the rest of this process, and logs the evidence.
 *
 * Any other refusal (ClaimExpired, NotAssignee, WrongStatus, ...) says nothing about the circuit: the claim is
 * abandoned if it is still live (the smaller slash again), else recorded failed with the reason.
 */
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import type { Logger } from "../../../common/log.ts";
import type { ServedCircuit } from "../config.ts";
import type { ClaimRecord } from "../store.ts";

/** The market's errors that mean its verifier refused, or can no longer be trusted to check, a valid proof. */
export const VERIFIER_REFUSALS: ReadonlySet<string> = new Set([
  "InvalidProof",
  "InvalidBatchProof",
  "VerifierCodeChanged",
]);

/** Whether a decoded refusal (e.g. `InvalidProof(7)`) is the verifier's. */
export const isVerifierRefusal = (refusal: string) => VERIFIER_REFUSALS.has(refusal.split("(")[0]);

export interface RefusedSubmission {
  record: ClaimRecord;
  circuit: ServedCircuit;
  /** The decoded revert, e.g. `InvalidProof(7)` (common/contracts/revert.ts). */
  refusal: string;
  /** The submission's transaction when it was mined (and reverted); null when gas estimation refused it. */
  txHash: string | null;
}

export interface RefusalContext {
  prover: string;
  market: { jobState(jobId: bigint): Promise<{ status: bigint; assignee: string; deadline: bigint }> };
  now(): Promise<number>;
  /** The worker's abandon: records the claim abandoned, or failed if the market refuses that too. */
  abandon(record: ClaimRecord, reason: string): Promise<void>;
  markFailed(record: ClaimRecord, reason: string): void;
  takeOutOfService(circuit: ServedCircuit, reason: string): void;
  /** The circuit's verifier addresses as the start-up check read them. */
  verifiersOf(circuit: ServedCircuit): { verifier: string | null; batchVerifier: string | null };
  logger: Logger;
}

/** Whether the worker still holds the claim and may act on it (so abandon can succeed); true when unknown. */
async function claimIsLive(record: ClaimRecord, ctx: RefusalContext): Promise<boolean> {
  try {
    const [state, now] = await Promise.all([ctx.market.jobState(record.jobId), ctx.now()]);
    return (
      state.status === JOB_STATUS.Claimed &&
      state.assignee.toLowerCase() === ctx.prover.toLowerCase() &&
      now <= Number(state.deadline)
    );
  } catch {
    return true; // abandon records the failure, with both reasons, if the claim was not live after all
  }
}

export async function reactToRefusedSubmission(refused: RefusedSubmission, ctx: RefusalContext): Promise<void> {
  const { record, circuit, refusal, txHash } = refused;
  const log = ctx.logger.child({ jobId: record.jobId, circuitId: circuit.circuitId });
  if (isVerifierRefusal(refusal)) {
    const reason = `the circuit's verifier refused a proof that verifies against the verification key: ${refusal}`;
    // Out of service first, so that no other claim of this circuit starts while the abandon is mined.
    ctx.takeOutOfService(circuit, reason);
    const abandoned = ctx.abandon(record, reason);
    log.error("verifier refused a valid proof: abandoning the claim for the smaller slash; circuit out of service", {
      circuit: `${circuit.manifestData.name}/${circuit.system}`,
      ...ctx.verifiersOf(circuit),
      revert: refusal,
      tx: txHash,
    });
    return abandoned;
  }
  const reason = `submission refused: ${refusal}`;
  log.error("submission refused", { revert: refusal, tx: txHash });
  if (await claimIsLive(record, ctx)) return ctx.abandon(record, reason);
  ctx.markFailed(record, reason);
}
