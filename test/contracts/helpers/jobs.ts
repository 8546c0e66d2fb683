/**
 * What a test needs to know of a job that the market does not store: a claim's deadline (the job's state keeps the
 * claim's second; the deadline follows from it and the terms, by common/market/price.ts's `deadlineFrom`) and the
 * terms a reopening leaves (both ends of the ramp raised by the slash's reward share, its start moved by the pause).
 */
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import { deadlineFrom } from "../../../common/market/price.ts";
import type { Terms } from "./fixture.ts";

/** The deadline of the live claim on `jobId` (claimed under `terms`). */
export async function claimDeadline(market: any, jobId: bigint, terms: Terms): Promise<bigint> {
  const s = await market.jobState(jobId);
  if (s.status !== JOB_STATUS.Claimed) throw new Error(`job ${jobId} is not Claimed: it has no deadline`);
  return deadlineFrom(terms, s.claimedAt);
}

/**
 * The terms of a job reopened by a slash whose reward share was `reward`, its ramp starting at `rampStart` (the
 * reopening's `newRampStart`: `reopenedRampStart`). The rule that moves the start is tested apart (pricing tests,
 * common/market/price.ts `reopenedRamp`).
 */
export function raised(terms: Terms, reward: bigint, rampStart: bigint): Terms {
  return { ...terms, minFee: terms.minFee + reward, maxFee: terms.maxFee + reward, rampStart };
}

/** An event's `newRampStart`, where the test does not know the second its block was given: a block's second. */
export const aBlockSecond = (t: bigint) => t > 1_700_000_000n;

/** The `newRampStart` of the job's latest reopening (`JobReassigned` or `JobAbandoned`). */
export async function reopenedRampStart(market: any, jobId: bigint): Promise<bigint> {
  const events = [
    ...(await market.queryFilter(market.filters.JobReassigned(jobId), 0)),
    ...(await market.queryFilter(market.filters.JobAbandoned(jobId), 0)),
  ].sort((a: any, b: any) => a.blockNumber - b.blockNumber || a.index - b.index);
  if (events.length === 0) throw new Error(`job ${jobId} was never reopened`);
  return events[events.length - 1].args.newRampStart as bigint;
}
