/**
 * A `jobsPage` query's filter, two ways: as the database's `where` (to list the jobs) and as a predicate on a job's
 * fields (to tell whether a job the indexer changed belongs in a kept answer). They live together so that they
 * cannot drift apart; test/coordinator/ResponseCache.test.ts checks them against each other on random data.
 */
import { join, raw, type Sql, sqltag as sql } from "@prisma/client/runtime/client";
import type { JobKey } from "../commitChanges.ts";
import { columnOf } from "./theGraphSql.ts";

export interface JobFilter {
  status?: string | null;
  circuitId?: string | null;
  requester?: string | null;
  prover?: string | null;
  postedAfter?: number | null;
  postedBefore?: number | null;
}

const given = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** The filter as an SQL condition over the Job table's alias (every part an index's leading column or range). */
export function jobWhere(f: JobFilter, alias: string): Sql {
  const column = (name: string) => raw(columnOf(alias, name));
  const parts: Sql[] = [];
  if (f.status) parts.push(sql`${column("status")} = ${f.status}`);
  if (f.circuitId) parts.push(sql`${column("circuitId")} = ${Number(f.circuitId)}`);
  if (f.requester) parts.push(sql`${column("requester")} = ${f.requester.toLowerCase()}`);
  if (f.prover) parts.push(sql`${column("assignee")} = ${f.prover.toLowerCase()}`);
  if (given(f.postedAfter)) parts.push(sql`${column("postedAt")} > ${f.postedAfter}`);
  if (given(f.postedBefore)) parts.push(sql`${column("postedAt")} < ${f.postedBefore}`);
  return parts.length === 0 ? raw("1 = 1") : join(parts, " AND ");
}

export function jobMatches(f: JobFilter, job: JobKey): boolean {
  return (
    (!f.status || job.status === f.status) &&
    (!f.circuitId || job.circuitId === Number(f.circuitId)) &&
    (!f.requester || job.requester === f.requester.toLowerCase()) &&
    (!f.prover || job.assignee === f.prover.toLowerCase()) &&
    (!given(f.postedAfter) || job.postedAt > f.postedAfter) &&
    (!given(f.postedBefore) || job.postedAt < f.postedBefore)
  );
}
