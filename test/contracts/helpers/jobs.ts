/**
 * What a test needs to know of a job that the market does not store: a claim's deadline (the job's state keeps the
 * claim's second; the deadline follows from it and the terms, by common/market/price.ts's `deadlineFrom`) and the
 * terms a reopening leaves (the ramp restarted from the locked price plus the slash's reward share).
 */
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import { deadlineFrom, reopenedRamp } from "../../../common/market/price.ts";
import type { Terms } from "./fixture.ts";

/** The deadline of the live claim on `jobId` (claimed under `terms`). */
export async function claimDeadline(market: any, jobId: bigint, terms: Terms): Promise<bigint> {
  const s = await market.jobState(jobId);
  if (s.status !== JOB_STATUS.Claimed) throw new Error(`job ${jobId} is not Claimed: it has no deadline`);
  return deadlineFrom(terms, s.claimedAt);
}

/**
 * The terms of a fixed-fee job (or one claimed at its minimum) reopened at `reopenedAt` by a slash whose reward share
 * was `reward` (common/market/price.ts `reopenedRamp`); a `reopenedAt` of 0 keeps the ramp's start, for terms a test
 * sets itself.
 */
/** An event's `newRampStart`, where the test does not know the second its block was given: a block's second. */
export const aBlockSecond = (t: bigint) => t > 1_700_000_000n;

export function raised(terms: Terms, reward: bigint, reopenedAt: bigint): Terms {
  return reopenedRamp(terms, terms.rampStart, reopenedAt, reward);
}
