/**
 * What one GraphQL answer read from the database, recorded by the resolvers as they run, and what one indexer
 * commit changed. The response cache keeps an answer with its reads and drops it only when a commit changed
 * something it read, so that a block's few changed jobs do not throw away the answers about the other 100k.
 *
 * A `jobs` page is recorded as a window: its filter, and the stretch of the list it covers, from its cursor
 * (exclusive) to the row after its last (the look-ahead that decides `hasNextPage`; to the list's end when
 * there is none). Pages are keyset-paginated on (postedAt, id), so a changed job alters a page exactly when it
 * was on the page or look-ahead (it left, or its fields changed), or it now matches the filter inside the
 * window (it arrived). The window compares postedAt only and counts a job with a boundary's postedAt as inside:
 * a few more pages are dropped than need be, and the order of ids (text in both databases) never matters.
 */
import type { CommitChanges, JobKey } from "../commitChanges.ts";
import { type JobFilter, jobMatches } from "./jobFilter.ts";

export type Direction = "asc" | "desc";

interface JobWindow {
  filter: JobFilter;
  direction: Direction;
  /** postedAt of the cursor the page starts after; null on a first page. */
  after: number | null;
  /** postedAt of the look-ahead row; null when the page reaches the end of the list. */
  through: number | null;
}

function covers(w: JobWindow, job: JobKey): boolean {
  const p = job.postedAt;
  const inside =
    w.direction === "desc"
      ? (w.after === null || p <= w.after) && (w.through === null || p >= w.through)
      : (w.after === null || p >= w.after) && (w.through === null || p <= w.through);
  return inside && jobMatches(w.filter, job);
}

export class ReadSet {
  readonly jobIds = new Set<string>();
  readonly windows: JobWindow[] = [];
  /** Read something derived from every job (market totals). */
  allJobs = false;
  provers = false;
  circuits = false;
  /** Circuits whose recent claims were read (Circuit.recentLockedPrices, medianLockedPrice). */
  readonly claimsOfCircuits = new Set<number>();
  /**
   * Read the chain's head time (Job.currentPrice): the answer changes with the clock, not only with a commit's
   * changes (a head that moved without a market event commits none), so it is never kept.
   */
  clock = false;
  /** Set once the operation, a query, was answered without errors: only such answers are kept. */
  answered = false;

  job(id: string): void {
    this.jobIds.add(id);
  }

  /** A page of a jobs list: `rows` are the rows read, look-ahead included. */
  jobsPage(
    filter: JobFilter,
    direction: Direction,
    after: number | null,
    rows: Pick<JobKey, "id" | "postedAt">[],
    size: number,
  ): void {
    for (const row of rows) this.jobIds.add(row.id);
    this.windows.push({ filter, direction, after, through: rows.length > size ? rows[size].postedAt : null });
  }

  affectedBy(change: CommitChanges): boolean {
    if ((change.provers && this.provers) || (change.circuits && this.circuits)) return true;
    if (change.jobs.length === 0) return false;
    if (this.allJobs) return true;
    return change.jobs.some(
      (job) =>
        this.jobIds.has(job.id) || this.claimsOfCircuits.has(job.circuitId) || this.windows.some((w) => covers(w, job)),
    );
  }
}
