/**
 * Keeping: reassigning other provers' stalled claims (the keeper's share of their slash). The decision is
 * `jobsToReassign`: which claimed jobs of other provers to reassign now. A job is remembered by (job id,
 * attempt), so a later attempt of the same job that stalls is reassigned again; entries are forgotten once the job
 * has moved past that attempt or left Claimed, so the memory does not grow for ever.
 */
import { isContractRevert } from "../../../common/contracts/revert.ts";
import type { Logger } from "../../../common/log.ts";
import type { JobView } from "../../../common/market/jobBook.ts";

export const attemptKey = (job: Pick<JobView, "jobId" | "attempt">) => `${job.jobId}:${job.attempt}`;

/**
 * The jobs to reassign at chain time `now` (claimed by someone other than `me`, past their deadline, not expired,
 * this attempt not already tried); drops from `reassigned` the attempts that are over.
 */
export function jobsToReassign(
  jobs: Iterable<JobView>,
  { now, me, reassigned }: { now: number; me: string; reassigned: Set<string> },
): JobView[] {
  const live = new Set<string>();
  const due: JobView[] = [];
  for (const job of jobs) {
    if (job.status !== "Claimed" || job.deadline === null) continue;
    const key = attemptKey(job);
    live.add(key);
    if (reassigned.has(key)) continue;
    if (job.assignee?.toLowerCase() === me.toLowerCase()) continue;
    if (now <= Number(job.deadline) || now > Number(job.terms.expiresAt)) continue;
    due.push(job);
  }
  for (const key of reassigned) if (!live.has(key)) reassigned.delete(key);
  return due;
}

export interface KeeperContext {
  me: string;
  /** The job book's jobs. */
  jobs(): Iterable<JobView>;
  /** Chain time (seconds). */
  now(): Promise<number>;
  /** Sends the reassign through the worker's transaction queue and waits for it to be mined. */
  reassign(job: JobView): Promise<void>;
  /** The contract's refusal decoded, or the failure's message. */
  reasonOf(error: unknown): Promise<string>;
  logger: Logger;
}

/** One keeping pass. A refused reassign ends that attempt (another keeper was first); one not sent is tried again. */
export function createKeeper(ctx: KeeperContext) {
  const reassigned = new Set<string>();
  return async function keep(): Promise<void> {
    const now = await ctx.now();
    for (const job of jobsToReassign(ctx.jobs(), { now, me: ctx.me, reassigned })) {
      reassigned.add(attemptKey(job));
      try {
        await ctx.reassign(job);
        ctx.logger.info("reassigned a stalled job as keeper", { jobId: job.jobId, prover: job.assignee });
      } catch (e) {
        if (!isContractRevert(e)) reassigned.delete(attemptKey(job));
        ctx.logger.info("reassign not taken", { jobId: job.jobId, reason: await ctx.reasonOf(e) });
      }
    }
  };
}
