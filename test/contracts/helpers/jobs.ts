/**
 * What a test needs to know of a job that the market does not store: a claim's deadline (the job's state keeps the
 * claim's second; the deadline follows from it and the terms, by common/market/price.ts's `deadlineFrom`) and the
 * terms a reopening leaves (both ends of the price ramp raised by the slash's reward share).
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

/** The terms of a job reopened by a slash whose reward share was `reward`. */
export function raised(terms: Terms, reward: bigint): Terms {
  return { ...terms, minFee: terms.minFee + reward, maxFee: terms.maxFee + reward };
}
