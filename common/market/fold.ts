/**
 * How market events change a job and a prover: pure functions over decoded events, shared by everything that
 * reads the chain (the worker's job book, the coordinator's indexer, the subgraph's tests), so that one place
 * says what each event means.
 */

import type { JobStatusName as StatusName } from "./jobStatus.ts";

/** A decoded market event: its name and arguments (amounts as bigint). */
export interface MarketEvent {
  name: string;
  args: Record<string, unknown>;
  blockNumber: number;
  /** Block timestamp (unix seconds). */
  timestamp: number;
}

/** A posted job's status (the on-chain enum less None). */
export type JobStatusName = Exclude<StatusName, "None">;

export interface JobState {
  jobId: bigint;
  circuitId: bigint;
  requester: string;
  status: JobStatusName;
  /** The price ramp (reverse Dutch auction): `minFee` at `rampStart`, rising to `maxFee` (the escrow) over
   *  `rampDuration` seconds. A reopening raises both fees by the slash's reward share and moves `rampStart` later by
   *  the time the failed claim held the job. */
  minFee: bigint;
  maxFee: bigint;
  rampStart: bigint;
  rampDuration: bigint;
  /** The price the current claim locked (while Claimed) or the price paid (Proved); null otherwise. */
  price: bigint | null;
  bond: bigint;
  provingWindow: bigint;
  expiresAt: bigint;
  inputsCommitment: string;
  inputsHash: string;
  inputsURI: string;
  attempt: bigint;
  assignee: string | null;
  deadline: bigint | null;
  outputs: bigint[] | null;
  postedAtBlock: number;
  postedAt: number;
  provedAt: number | null;
}

/** The staking events: they change a prover's account. */
export const STAKE_EVENTS = ["Staked", "UnstakeRequested", "Unstaked"];

export const JOB_EVENTS = [
  "JobPosted",
  "JobClaimed",
  "JobProved",
  "JobReassigned",
  "JobAbandoned",
  "JobCancelled",
  "JobExpired",
];

/** The job after `event` (null before it was posted). Events of other jobs or kinds leave it unchanged. */
export function foldJob(job: JobState | null, event: MarketEvent): JobState | null {
  const a = event.args as Record<string, any>;
  if (event.name === "JobPosted") {
    return {
      jobId: a.jobId,
      circuitId: a.circuitId,
      requester: a.requester,
      status: "Open",
      minFee: a.minFee,
      maxFee: a.maxFee,
      rampStart: a.rampStart,
      rampDuration: a.rampDuration,
      price: null,
      bond: a.bond,
      provingWindow: a.provingWindow,
      expiresAt: a.expiresAt,
      inputsCommitment: a.inputsCommitment,
      inputsHash: a.inputsHash,
      inputsURI: a.inputsURI,
      attempt: 0n,
      assignee: null,
      deadline: null,
      outputs: null,
      postedAtBlock: event.blockNumber,
      postedAt: event.timestamp,
      provedAt: null,
    };
  }
  if (job === null) return null;
  switch (event.name) {
    case "JobClaimed":
      return {
        ...job,
        status: "Claimed",
        assignee: a.prover,
        deadline: a.deadline,
        attempt: a.attempt,
        price: a.price,
      };
    case "JobReassigned":
    case "JobAbandoned":
      return {
        ...job,
        status: "Open",
        minFee: a.newMinFee,
        maxFee: a.newMaxFee,
        rampStart: a.newRampStart,
        price: null,
        assignee: null,
        deadline: null,
        attempt: a.attempt,
      };
    case "JobProved":
      // (ethers decodes an empty array to an empty object: Object.values reads both.)
      return {
        ...job,
        status: "Proved",
        assignee: a.prover,
        price: a.price,
        outputs: Object.values(a.outputs) as bigint[],
        provedAt: event.timestamp,
      };
    case "JobCancelled":
      return { ...job, status: "Cancelled" };
    case "JobExpired":
      return { ...job, status: "Expired", assignee: null, deadline: null, price: null };
    default:
      return job;
  }
}

export interface ProverState {
  address: string;
  staked: bigint;
  locked: bigint;
  unbonding: bigint;
  jobsProved: number;
  jobsMissed: number;
  jobsAbandoned: number;
  slashed: bigint;
  earned: bigint;
}

export function emptyProver(address: string): ProverState {
  return {
    address,
    staked: 0n,
    locked: 0n,
    unbonding: 0n,
    jobsProved: 0,
    jobsMissed: 0,
    jobsAbandoned: 0,
    slashed: 0n,
    earned: 0n,
  };
}

/** The prover an event concerns, if any. */
export function proverOf(event: MarketEvent): string | null {
  const a = event.args as Record<string, any>;
  if (
    ["Staked", "UnstakeRequested", "Unstaked", "JobClaimed", "JobProved", "JobReassigned", "JobAbandoned"].includes(
      event.name,
    )
  )
    return a.prover;
  if (event.name === "JobExpired" && a.prover !== "0x0000000000000000000000000000000000000000") return a.prover;
  return null;
}

/**
 * The prover after `event`, mirroring the contract's accounting. `job` is the job as it stood before the event
 * (its bond is what a claim locked).
 */
export function foldProver(prover: ProverState, event: MarketEvent, job: JobState | null): ProverState {
  const a = event.args as Record<string, any>;
  const bond = job?.bond ?? 0n;
  switch (event.name) {
    case "Staked":
      return { ...prover, staked: a.staked };
    case "UnstakeRequested":
      return { ...prover, staked: prover.staked - a.amount, unbonding: a.unbonding };
    case "Unstaked":
      return { ...prover, unbonding: prover.unbonding - a.amount };
    case "JobClaimed":
      return { ...prover, locked: prover.locked + a.bond };
    case "JobProved":
      return {
        ...prover,
        locked: prover.locked - bond,
        jobsProved: prover.jobsProved + 1,
        earned: prover.earned + a.price,
      };
    case "JobReassigned":
    case "JobExpired":
    case "JobAbandoned": {
      // A missed deadline (reassigned, or still held at expiry) and an abandonment both slash: they differ only
      // in the counter they add to.
      const counter = event.name === "JobAbandoned" ? "jobsAbandoned" : "jobsMissed";
      return {
        ...prover,
        locked: prover.locked - bond,
        staked: prover.staked - a.split.slashed,
        slashed: prover.slashed + a.split.slashed,
        [counter]: prover[counter] + 1,
      };
    }
    default:
      return prover;
  }
}
