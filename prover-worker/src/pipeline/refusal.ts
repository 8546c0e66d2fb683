/**
 * Reaction to a refused submission: the market refused `submitProof` (at gas estimation, which ethers runs before
 * every send, or after mining) for a proof this worker has already checked against the circuit's verification key.
 *
 * When the refusal comes from the verifier (InvalidProof, InvalidBatchProof, or VerifierCodeChanged: the code the
 * circuit was registered with is gone), the verifier is not what the worker checked or assumed: a valid proof will
 * never be accepted, so waiting for the deadline means losing the whole bond. The worker abandons at once for the
 * smaller slash, takes the circuit out of service (a verdict kept in its store, so that a restart does not serve it
 * again: trust/verdicts.ts), and logs the evidence.
 *
 * A refusal the worker cannot name (UNKNOWN_REVERT: no revert data, or a mined revert whose replay succeeds) is
 * treated as the verifier's while the claim is live: see `reactToUnknownRevert`.
 *
 * Any other refusal (ClaimExpired, NotAssignee, WrongStatus, ...) says nothing about the circuit: the claim is
 * abandoned if it is still live (the smaller slash again), else recorded failed with the reason.
 */
import { refusalName } from "../../../common/contracts/revert.ts";
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import { deadlineFrom } from "../../../common/market/price.ts";
import type { Logger } from "../../../common/log.ts";
import type { ServedCircuit } from "../config.ts";
import type { ClaimRecord } from "../store.ts";

/** The market's errors that mean its verifier refused, or can no longer be trusted to check, a valid proof. */
export const VERIFIER_REFUSALS: ReadonlySet<string> = new Set([
  "InvalidProof",
  "InvalidBatchProof",
  "VerifierCodeChanged",
]);

/** What the worker calls a contract's refusal it could not decode (common/contracts/revert.ts's isContractRevert). */
export const UNKNOWN_REVERT = "unknown revert (no data)";

/** Whether a decoded refusal (e.g. `InvalidProof(7)`) is the verifier's. */
export const isVerifierRefusal = (refusal: string) => VERIFIER_REFUSALS.has(refusalName(refusal));

export interface RefusedSubmission {
  record: ClaimRecord;
  circuit: ServedCircuit;
  /** The decoded revert, e.g. `InvalidProof(7)` (common/contracts/revert.ts), or UNKNOWN_REVERT. */
  refusal: string;
  /** The submission's transaction when it was mined (and reverted); null when gas estimation refused it. */
  txHash: string | null;
}

export interface RefusalContext {
  prover: string;
  market: { jobState(jobId: bigint): Promise<{ status: bigint; assignee: string; claimedAt: bigint }> };
  now(): Promise<number>;
  /** The worker's abandon: records the claim abandoned, or failed if the market refuses that too. */
  abandon(record: ClaimRecord, reason: string): Promise<void>;
  markFailed(record: ClaimRecord, reason: string): void;
  /** Stops claiming the circuit's jobs at once; what it returns settles when the verdict is stored. */
  takeOutOfService(
    circuit: ServedCircuit,
    reason: string,
    evidence: { jobId: bigint; txHash: string | null },
  ): void | Promise<void>;
  /** The circuit's verifier addresses as the start-up check read them. */
  verifiersOf(circuit: ServedCircuit): { verifier: string | null; batchVerifier: string | null };
  logger: Logger;
}

/** Whether the worker still holds the claim and may act on it (so abandon can succeed); null when it cannot tell. */
async function claimIsLive(record: ClaimRecord, ctx: RefusalContext): Promise<boolean | null> {
  try {
    const [state, now] = await Promise.all([ctx.market.jobState(record.jobId), ctx.now()]);
    return (
      state.status === JOB_STATUS.Claimed &&
      state.assignee.toLowerCase() === ctx.prover.toLowerCase() &&
      BigInt(now) <= deadlineFrom(record.view.terms, state.claimedAt)
    );
  } catch {
    return null;
  }
}

const logFor = ({ record, circuit }: RefusedSubmission, ctx: RefusalContext) =>
  ctx.logger.child({ jobId: record.jobId, circuitId: circuit.circuitId });

/** The verifier is to blame: out of service (first, so that no other claim of the circuit starts while the abandon
 *  is mined), abandon at once, the evidence at error level. */
async function blameVerifier(refused: RefusedSubmission, reason: string, ctx: RefusalContext): Promise<void> {
  const { record, circuit, refusal, txHash } = refused;
  const stored = ctx.takeOutOfService(circuit, reason, { jobId: record.jobId, txHash });
  const abandoned = ctx.abandon(record, reason);
  logFor(refused, ctx).error(
    "verifier refused a valid proof: abandoning the claim for the smaller slash; circuit out of service",
    {
      circuit: `${circuit.manifestData.name}/${circuit.system}`,
      ...ctx.verifiersOf(circuit),
      revert: refusal,
      tx: txHash,
    },
  );
  await stored;
  return abandoned;
}

/**
 * A refusal without a name. The market names each of its own refusals (a custom error); `submitProof` reverts without
 * one only when it runs out of gas, and the one unbounded call in it is the verifier's, so a verifier that burns the
 * gas it is given refuses this way. The worker also sees no name when its node drops revert data, or when a mined
 * submission's replay on the block before succeeds because an earlier transaction of the same block (a rug pull, a
 * keeper's reassign, the deadline passing) changed what it saw.
 *
 * The proof verifies against the key, so while the claim is live no refusal of the market's own applies to it (they
 * are about the claim: expired, reassigned, not ours): the verifier is to blame, as for a named refusal of its (out
 * of service, verdict stored, abandon at once). A wrong verdict costs fees until the operator clears it; a missed one
 * costs a slash on every later claim of the circuit. When the claim is no longer live the refusal is most likely
 * that (a submission mined past the deadline): the circuit stays in service and the claim is recorded failed, there
 * being nothing left to abandon. When the job cannot be read, the worker abandons (abandon records its own failure)
 * but keeps the circuit in service, having no evidence either way.
 */
async function reactToUnknownRevert(refused: RefusedSubmission, ctx: RefusalContext): Promise<void> {
  const { record, txHash } = refused;
  const live = await claimIsLive(record, ctx);
  if (live === true)
    return blameVerifier(
      refused,
      `the market refused a proof that verifies against the verification key, without saying why (${UNKNOWN_REVERT}), while the claim was live`,
      ctx,
    );
  const reason = `submission refused: ${UNKNOWN_REVERT}`;
  logFor(refused, ctx).error("submission refused", { revert: UNKNOWN_REVERT, tx: txHash, live });
  if (live === null) return ctx.abandon(record, reason);
  ctx.markFailed(record, `${reason}, after the claim had ended`);
}

export async function reactToRefusedSubmission(refused: RefusedSubmission, ctx: RefusalContext): Promise<void> {
  const { record, refusal, txHash } = refused;
  if (isVerifierRefusal(refusal))
    return blameVerifier(
      refused,
      `the circuit's verifier refused a proof that verifies against the verification key: ${refusal}`,
      ctx,
    );
  if (refusal === UNKNOWN_REVERT) return reactToUnknownRevert(refused, ctx);
  const reason = `submission refused: ${refusal}`;
  logFor(refused, ctx).error("submission refused", { revert: refusal, tx: txHash });
  // abandon records the failure, with both reasons, if the claim was not live after all
  if ((await claimIsLive(record, ctx)) !== false) return ctx.abandon(record, reason);
  ctx.markFailed(record, reason);
}
