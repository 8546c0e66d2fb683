/**
 * A `jobs` query's filter, two ways: as the database's `where` (to list the jobs) and as a predicate on a job's
 * fields (to tell whether a job the indexer changed belongs in a kept answer). They live together so that they
 * cannot drift apart; test/coordinator/ResponseCache.test.ts checks them against each other on random data.
 */
import type { JobKey } from "../commitChanges.ts";

export interface JobFilter {
  status?: string | null;
  circuitId?: string | null;
  requester?: string | null;
  prover?: string | null;
  postedAfter?: number | null;
  postedBefore?: number | null;
}

const given = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

export function jobWhere(f: JobFilter = {}) {
  return {
    ...(f.status ? { status: f.status } : {}),
    ...(f.circuitId ? { circuitId: Number(f.circuitId) } : {}),
    ...(f.requester ? { requester: f.requester.toLowerCase() } : {}),
    ...(f.prover ? { assignee: f.prover.toLowerCase() } : {}),
    ...(given(f.postedAfter) || given(f.postedBefore)
      ? {
          postedAt: {
            ...(given(f.postedAfter) ? { gt: f.postedAfter } : {}),
            ...(given(f.postedBefore) ? { lt: f.postedBefore } : {}),
          },
        }
      : {}),
  };
}

export function jobMatches(f: JobFilter = {}, job: JobKey): boolean {
  return (
    (!f.status || job.status === f.status) &&
    (!f.circuitId || job.circuitId === Number(f.circuitId)) &&
    (!f.requester || job.requester === f.requester.toLowerCase()) &&
    (!f.prover || job.assignee === f.prover.toLowerCase()) &&
    (!given(f.postedAfter) || job.postedAt > f.postedAfter) &&
    (!given(f.postedBefore) || job.postedAt < f.postedBefore)
  );
}
