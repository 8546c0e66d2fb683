/**
 * The on-chain `JobStatus` enum (contracts/types/JobState.sol) by name. The ABI carries it as a bare uint8, so it
 * is written once here; test/contracts/CommonMirrors.test.ts checks it against the Solidity source.
 */
export const JOB_STATUS = {
  None: 0n,
  Open: 1n,
  Claimed: 2n,
  Proved: 3n,
  Cancelled: 4n,
  Expired: 5n,
} as const;

export type JobStatusName = keyof typeof JOB_STATUS;

export function jobStatusName(value: bigint | number): JobStatusName {
  const name = (Object.keys(JOB_STATUS) as JobStatusName[]).find((k) => JOB_STATUS[k] === BigInt(value));
  if (name === undefined) throw new Error(`unknown job status ${value}`);
  return name;
}

/** The statuses a job never leaves (a requester's wait, a `jobStatus` subscription end there). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set<JobStatusName>(["Proved", "Cancelled", "Expired"]);
