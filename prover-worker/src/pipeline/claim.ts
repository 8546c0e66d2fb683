/**
 * Claim: sends the claim of a job that passed its preflight, records it before sending (so a restart finds it), and
 * says whether the worker holds the job afterwards.
 *
 * A claim the contract refuses is counted by where it was refused: at gas estimation (ethers estimates before
 * sending: nothing was spent) or mined and reverted (the gas was spent: another prover's claim was mined first).
 * A claim that fails for any other reason (the node dropped the connection, the receipt did not come) may or may
 * not be on the chain: the chain is asked, and the worker acts on what it says, so it neither misses a claim it
 * holds (and would be slashed for) nor believes in one it does not.
 */
import type { ContractTransactionResponse } from "ethers";
import { isContractRevert } from "../../../common/contracts/revert.ts";
import { RetryableError } from "../../../common/errors.ts";
import type { JobView } from "../../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import type { Logger } from "../../../common/log.ts";
import type { Metrics } from "../metrics.ts";
import type { ClaimRecord, WorkerStore } from "../store.ts";

/** How long a claim's receipt is waited for before the chain is asked whether the claim is there. */
export const CLAIM_RECEIPT_TIMEOUT_MS = 60_000;

export type ClaimOutcome =
  | { held: true; deadline: number }
  /** `refusal`: the contract's refusal decoded (e.g. `JobNotOpen(7, 2)`), null when it did not refuse. */
  | { held: false; reason: string; refusal: string | null };

export interface ClaimContext {
  me: string;
  market: {
    claim(jobId: bigint, terms: JobView["terms"]): Promise<ContractTransactionResponse>;
    jobState(jobId: bigint): Promise<{ status: bigint; assignee: string; attempt: bigint; deadline: bigint }>;
  };
  send(fn: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionResponse>;
  store: WorkerStore;
  metrics: Metrics;
  /** The contract's refusal decoded, or null (common/contracts/revert.ts's explainRevert). */
  refusalOf(error: unknown): Promise<string | null>;
  logger: Logger;
  receiptTimeoutMs?: number;
}

/** The claim could not be sent or confirmed, and the chain could not say whether it is there. */
export class ClaimUnconfirmedError extends RetryableError {}

export async function claimJob(job: JobView, inputs: string, ctx: ClaimContext): Promise<ClaimOutcome> {
  const record: ClaimRecord = {
    jobId: job.jobId,
    status: "claiming",
    view: structuredClone(job),
    inputs,
    txHash: null,
    error: null,
  };
  ctx.store.putClaim(record);
  let tx: ContractTransactionResponse | null = null;
  try {
    tx = await ctx.send(() => ctx.market.claim(job.jobId, job.terms));
    ctx.store.setClaimStatus(job.jobId, "claiming", { txHash: tx.hash });
    await tx.wait(1, ctx.receiptTimeoutMs ?? CLAIM_RECEIPT_TIMEOUT_MS);
  } catch (e) {
    if (isContractRevert(e)) {
      const refusal = (await ctx.refusalOf(e)) ?? "reverted without a reason";
      const mined = (e as { receipt?: unknown }).receipt != null;
      ctx.metrics.claimsRefused.inc({ where: mined ? "mined" : "estimate" });
      ctx.store.setClaimStatus(job.jobId, "lost", { error: refusal });
      ctx.logger.info("claim not taken", { reason: refusal, mined, tx: tx?.hash ?? null });
      return { held: false, reason: refusal, refusal };
    }
    // Not a refusal: the claim may be on the chain or not. The chain says which.
    const failure = (e as Error).message;
    let state;
    try {
      state = await ctx.market.jobState(job.jobId);
    } catch (readError) {
      // Neither sent-and-confirmed nor known to be absent: the record stays "claiming" and reconciliation (at the
      // next start, or the next reorg) settles it; the job is not claimed again meanwhile (decision: HELD).
      throw new ClaimUnconfirmedError("claim", "CLAIM_UNCONFIRMED", `claim of job ${job.jobId} not confirmed`, {
        cause: readError,
        details: { jobId: job.jobId, sendError: failure },
      });
    }
    if (
      state.status === JOB_STATUS.Claimed &&
      state.assignee.toLowerCase() === ctx.me.toLowerCase() &&
      state.attempt === job.attempt
    ) {
      ctx.logger.warn("claim confirmed by reading the chain after its send failed", { jobId: job.jobId, failure });
    } else {
      ctx.store.setClaimStatus(job.jobId, "lost", { error: `claim not sent: ${failure}` });
      ctx.logger.warn("claim not sent", { jobId: job.jobId, reason: failure });
      return { held: false, reason: failure, refusal: null };
    }
  }
  ctx.store.setClaimStatus(job.jobId, "claimed");
  ctx.metrics.jobsClaimed.inc();
  const state = await ctx.market.jobState(job.jobId);
  ctx.logger.info("claimed", { deadline: state.deadline, bond: job.terms.bond });
  return { held: true, deadline: Number(state.deadline) };
}
