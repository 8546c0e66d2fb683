/**
 * Folds the market's job events into the current view of each job: its terms (which the market stores only as a
 * hash and every call must pass back) and its state. The worker uses it to find Open jobs and act on them; the
 * same fold serves anything else that reads the events.
 */
import type { LogReader } from "../chain/logReader.ts";
import { foldJob, JOB_EVENTS, type JobState, type MarketEvent } from "./fold.ts";
import { jobTopics } from "./marketReader.ts";

/** `JobTerms` as the contract takes it. */
export interface JobTerms {
  requester: string;
  circuitId: bigint;
  expiresAt: bigint;
  provingWindow: bigint;
  minFee: bigint;
  maxFee: bigint;
  rampStart: bigint;
  rampDuration: bigint;
  bond: bigint;
  inputsCommitment: string;
}

/** A job as the book holds it: its folded state and the terms that contract calls take. */
export type JobView = JobState & { terms: JobTerms };

/** The terms in a `JobPosted` event's arguments (or anything with the same fields, like a folded job). */
export function termsOf(a: JobTerms): JobTerms {
  return {
    requester: a.requester,
    circuitId: a.circuitId,
    expiresAt: a.expiresAt,
    provingWindow: a.provingWindow,
    minFee: a.minFee,
    maxFee: a.maxFee,
    rampStart: a.rampStart,
    rampDuration: a.rampDuration,
    bond: a.bond,
    inputsCommitment: a.inputsCommitment,
  };
}

function withTerms(state: JobState): JobView {
  return { ...state, terms: termsOf(state) };
}

export class JobBook {
  readonly jobs = new Map<bigint, JobView>();

  /**
   * Applies events in chain order (the book does not read block times: `postedAt` and `provedAt` stay 0);
   * events of jobs posted before the book's start are ignored. Returns the jobs that changed.
   */
  apply(events: readonly MarketEvent[]): JobView[] {
    const touched: JobView[] = [];
    for (const event of events) {
      if (!JOB_EVENTS.includes(event.name)) continue;
      const jobId = event.args.jobId as bigint;
      const next = foldJob(this.jobs.get(jobId) ?? null, { ...event, timestamp: 0 });
      if (next === null) continue;
      const view = withTerms(next);
      this.jobs.set(jobId, view);
      touched.push(view);
    }
    return touched;
  }

  open(): JobView[] {
    return [...this.jobs.values()].filter((j) => j.status === "Open");
  }
}

/**
 * A job's current terms (a reassignment raises its fees), folded from that job's own events only (found by their
 * indexed job id, from the market's deployment block); null if no such job was posted.
 */
export async function currentTerms(reader: LogReader, startBlock: number, jobId: bigint): Promise<JobTerms | null> {
  const book = new JobBook();
  book.apply(await reader.scan(startBlock, jobTopics(jobId)));
  return book.jobs.get(jobId)?.terms ?? null;
}
