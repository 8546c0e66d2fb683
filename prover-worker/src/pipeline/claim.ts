/**
 * Claim: sends the claim of a job that passed its preflight, records it before sending (so a restart finds it), and
 * says whether the worker holds the job afterwards.
 *
 * A claim the contract refuses is counted by where it was refused: at gas estimation (ethers estimates before
 * sending: nothing was spent) or mined and reverted (the gas was spent: another prover's claim was mined first).
 * A claim that fails for any other reason (the node dropped the connection, the receipt did not come) may be on
 * the chain, pending, or nowhere: unless the chain already shows it, the record stays "claiming" and reconciliation
 * settles it later (worker.ts), adopting the claim if it lands, so the worker never forgets a claim it holds (and
 * would be slashed for). The deadline and the price the claim locked come from its own JobClaimed event, not from
 * a read that a lagging node could answer from before the claim; when only a read can say (the send failed but the
 * claim landed), both follow from the claim's second and the terms (common/market/price.ts), as the market
 * computes them.
 */
import type { ContractTransactionResponse, Interface } from "ethers";
import { isContractRevert } from "../../../common/contracts/revert.ts";
import { RetryableError } from "../../../common/errors.ts";
import type { JobView } from "../../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import { deadlineFrom, priceAt } from "../../../common/market/price.ts";
import type { Logger } from "../../../common/log.ts";
import type { Metrics } from "../metrics.ts";
import type { ClaimRecord, WorkerStore } from "../store.ts";

/** How long a claim's receipt is waited for before the chain is asked whether the claim is there. */
export const CLAIM_RECEIPT_TIMEOUT_MS = 60_000;

/** What the chain's `jobState` view says of a job, as the worker reads it. */
export interface ChainJobState {
  status: bigint;
  assignee: string;
  attempt: bigint;
  /** The live claim's second: the deadline and the locked price follow from it and the terms. */
  claimedAt: bigint;
}

/** A held claim's deadline and locked price, from the second it was claimed and the terms of its attempt. */
export function claimTerms(terms: JobView["terms"], claimedAt: bigint): { deadline: number; price: bigint } {
  return { deadline: Number(deadlineFrom(terms, claimedAt)), price: priceAt(terms, claimedAt) };
}

export type ClaimOutcome =
  | { held: true; deadline: number; price: bigint }
  /** `refusal`: the contract's refusal decoded (e.g. `JobNotOpen(7, 2)`), null when it did not refuse. */
  | { held: false; reason: string; refusal: string | null };

export interface ClaimContext {
  me: string;
  market: {
    claim(jobId: bigint, terms: JobView["terms"]): Promise<ContractTransactionResponse>;
    jobState(jobId: bigint): Promise<ChainJobState>;
    interface: Interface;
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

/** Whether the chain shows this attempt of the job claimed by `me`. */
export const heldBy = (
  state: { status: bigint; assignee: string; attempt: bigint },
  me: string,
  attempt: bigint,
): boolean => state.status === JOB_STATUS.Claimed && state.assignee.toLowerCase() === me && state.attempt === attempt;

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
  let held: { deadline: number; price: bigint } | null = null;
  try {
    tx = await ctx.send(() => ctx.market.claim(job.jobId, job.terms));
    ctx.store.setClaimStatus(job.jobId, "claiming", { txHash: tx.hash });
    const receipt = await tx.wait(1, ctx.receiptTimeoutMs ?? CLAIM_RECEIPT_TIMEOUT_MS);
    // The deadline the market set and the price it locked, from the claim's own event: a read of the job could
    // come from a node that has not seen the claim yet.
    for (const log of receipt?.logs ?? []) {
      const parsed = ctx.market.interface.parseLog(log);
      if (parsed?.name === "JobClaimed")
        held = { deadline: Number(parsed.args.deadline), price: BigInt(parsed.args.price) };
    }
  } catch (e) {
    if (isContractRevert(e)) {
      const refusal = (await ctx.refusalOf(e)) ?? "reverted without a reason";
      const mined = (e as { receipt?: unknown }).receipt != null;
      ctx.metrics.claimsRefused.inc({ where: mined ? "mined" : "estimate" });
      ctx.store.setClaimStatus(job.jobId, "lost", { error: refusal });
      ctx.logger.info("claim not taken", { reason: refusal, mined, tx: tx?.hash ?? null });
      return { held: false, reason: refusal, refusal };
    }
    // Not a refusal: the claim may be on the chain, pending, or nowhere. Only the chain can say, and a pending claim
    // may still be mined: the record stays "claiming" (the job is not claimed again meanwhile: decision HELD) and
    // reconciliation settles it by the chain, adopting it if it lands.
    const state = await ctx.market.jobState(job.jobId).catch(() => null);
    if (state === null || !heldBy(state, ctx.me, job.attempt)) {
      ctx.logger.warn("claim not confirmed: left to reconciliation", {
        jobId: job.jobId,
        tx: tx?.hash ?? null,
        failure: (e as Error).message,
      });
      throw new ClaimUnconfirmedError("claim", "CLAIM_UNCONFIRMED", `claim of job ${job.jobId} not confirmed`, {
        cause: e,
        details: { jobId: job.jobId, tx: tx?.hash ?? null },
      });
    }
    ctx.logger.warn("claim confirmed by reading the chain after its send failed", { jobId: job.jobId });
    held = claimTerms(job.terms, state.claimedAt);
  }
  if (held === null) {
    // A receipt without the event (it cannot be: the claim succeeded): read the job, and only trust a read that
    // shows the claim.
    const state = await ctx.market.jobState(job.jobId);
    if (!heldBy(state, ctx.me, job.attempt))
      throw new ClaimUnconfirmedError("claim", "CLAIM_UNCONFIRMED", `claim of job ${job.jobId} not visible yet`, {
        details: { jobId: job.jobId, tx: tx?.hash ?? null },
      });
    held = claimTerms(job.terms, state.claimedAt);
  }
  ctx.store.setClaimStatus(job.jobId, "claimed", { price: held.price });
  ctx.metrics.claimed(job.terms.circuitId, held.price);
  ctx.logger.info("claimed", { deadline: held.deadline, price: held.price, bond: job.terms.bond });
  return { held: true, ...held };
}
