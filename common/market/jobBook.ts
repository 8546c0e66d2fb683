/**
 * Folds the market's job events into the current view of each job: its terms (which the market stores only as a
 * hash and every call must pass back) and its state. The worker uses it to find Open jobs and act on them; the
 * same fold serves anything else that reads the events.
 */
import type { Log, LogDescription } from "ethers";
import type { Interface } from "ethers";
import { JOB_STATUS, type JobStatusName } from "./jobStatus.ts";

/** `JobTerms` as the contract takes it. */
export interface JobTerms {
  requester: string;
  circuitId: bigint;
  expiresAt: bigint;
  provingWindow: bigint;
  fee: bigint;
  bond: bigint;
  inputsCommitment: string;
}

export interface JobView {
  jobId: bigint;
  terms: JobTerms;
  status: JobStatusName;
  attempt: bigint;
  assignee: string | null;
  deadline: bigint | null;
  inputsHash: string;
  inputsURI: string;
  postedAtBlock: number;
}

export type JobEvent = { log: Log; parsed: LogDescription };

export function parseMarketLogs(iface: Interface, logs: readonly Log[]): JobEvent[] {
  const events: JobEvent[] = [];
  for (const log of logs) {
    const parsed = iface.parseLog(log);
    if (parsed !== null) events.push({ log, parsed });
  }
  return events;
}

export class JobBook {
  readonly jobs = new Map<bigint, JobView>();

  /** Applies events in chain order; events of jobs posted before the book's start are ignored. */
  apply(events: readonly JobEvent[]): JobView[] {
    const touched: JobView[] = [];
    for (const { log, parsed } of events) {
      const a = parsed.args;
      if (parsed.name === "JobPosted") {
        const view: JobView = {
          jobId: a.jobId,
          terms: {
            requester: a.requester,
            circuitId: a.circuitId,
            expiresAt: a.expiresAt,
            provingWindow: a.provingWindow,
            fee: a.fee,
            bond: a.bond,
            inputsCommitment: a.inputsCommitment,
          },
          status: "Open",
          attempt: 0n,
          assignee: null,
          deadline: null,
          inputsHash: a.inputsHash,
          inputsURI: a.inputsURI,
          postedAtBlock: log.blockNumber,
        };
        this.jobs.set(view.jobId, view);
        touched.push(view);
        continue;
      }
      // (`"jobId" in args` is always false on an ethers Result: ask the event's declared inputs instead.)
      if (!parsed.fragment.inputs.some((input) => input.name === "jobId")) continue;
      const job = this.jobs.get(a.jobId as bigint);
      if (job === undefined) continue;
      switch (parsed.name) {
        case "JobClaimed":
          Object.assign(job, { status: "Claimed", assignee: a.prover, deadline: a.deadline, attempt: a.attempt });
          break;
        case "JobReassigned":
        case "JobAbandoned":
          job.terms = { ...job.terms, fee: a.newFee };
          Object.assign(job, { status: "Open", assignee: null, deadline: null, attempt: a.attempt });
          break;
        case "JobProved":
          job.status = "Proved";
          break;
        case "JobCancelled":
          job.status = "Cancelled";
          break;
        case "JobExpired":
          job.status = "Expired";
          break;
        default:
          continue;
      }
      touched.push(job);
    }
    return touched;
  }

  open(): JobView[] {
    return [...this.jobs.values()].filter((j) => j.status === "Open");
  }
}

export { JOB_STATUS };
