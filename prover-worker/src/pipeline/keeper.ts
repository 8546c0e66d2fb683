/**
 * The keeper's decision: which claimed jobs of other provers to reassign now. A job is remembered by (job id,
 * attempt), so a later attempt of the same job that stalls is reassigned again; entries are forgotten once the job
 * has moved past that attempt or left Claimed, so the memory does not grow for ever.
 */
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
