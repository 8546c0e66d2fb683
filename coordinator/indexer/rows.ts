/**
 * Between the fold's states (bigints) and database rows (decimal strings: uint96 amounts do not fit 64 bits).
 */
import type { JobState, ProverState } from "../../common/market/fold.ts";

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export function jobRow(j: JobState) {
  return {
    id: j.jobId.toString(),
    circuitId: Number(j.circuitId),
    requester: j.requester,
    status: j.status as string,
    minFee: j.minFee.toString(),
    maxFee: j.maxFee.toString(),
    rampStart: Number(j.rampStart),
    rampDuration: Number(j.rampDuration),
    lockedPrice: j.price === null ? null : j.price.toString(),
    bond: j.bond.toString(),
    provingWindow: Number(j.provingWindow),
    expiresAt: Number(j.expiresAt),
    inputsCommitment: j.inputsCommitment,
    inputsHash: j.inputsHash,
    inputsURI: j.inputsURI,
    attempt: Number(j.attempt),
    assignee: j.assignee,
    deadline: j.deadline === null ? null : Number(j.deadline),
    outputs: j.outputs === null ? null : json(j.outputs),
    postedAtBlock: j.postedAtBlock,
    postedAt: j.postedAt,
    provedAt: j.provedAt,
  };
}
export type JobRow = ReturnType<typeof jobRow>;

export function jobState(r: JobRow): JobState {
  return {
    jobId: BigInt(r.id),
    circuitId: BigInt(r.circuitId),
    requester: r.requester,
    status: r.status as JobState["status"],
    minFee: BigInt(r.minFee),
    maxFee: BigInt(r.maxFee),
    rampStart: BigInt(r.rampStart),
    rampDuration: BigInt(r.rampDuration),
    price: r.lockedPrice === null ? null : BigInt(r.lockedPrice),
    bond: BigInt(r.bond),
    provingWindow: BigInt(r.provingWindow),
    expiresAt: BigInt(r.expiresAt),
    inputsCommitment: r.inputsCommitment,
    inputsHash: r.inputsHash,
    inputsURI: r.inputsURI,
    attempt: BigInt(r.attempt),
    assignee: r.assignee,
    deadline: r.deadline === null ? null : BigInt(r.deadline),
    outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as string[]).map(BigInt),
    postedAtBlock: r.postedAtBlock,
    postedAt: r.postedAt,
    provedAt: r.provedAt,
  };
}

export function proverRow(p: ProverState) {
  return {
    address: p.address,
    staked: p.staked.toString(),
    locked: p.locked.toString(),
    unbonding: p.unbonding.toString(),
    jobsProved: p.jobsProved,
    jobsMissed: p.jobsMissed,
    jobsAbandoned: p.jobsAbandoned,
    slashed: p.slashed.toString(),
    earned: p.earned.toString(),
  };
}
export type ProverRow = ReturnType<typeof proverRow>;

export function proverState(r: ProverRow): ProverState {
  return {
    ...r,
    staked: BigInt(r.staked),
    locked: BigInt(r.locked),
    unbonding: BigInt(r.unbonding),
    slashed: BigInt(r.slashed),
    earned: BigInt(r.earned),
  };
}

/**
 * Addresses are kept in lowercase hex, as The Graph keeps them (subgraph/), so that ids and filters are the same
 * strings whichever of the two a client asks.
 */
export function lowercaseAddresses<T>(value: T): T {
  if (typeof value === "string") return (/^0x[0-9a-fA-F]{40}$/.test(value) ? value.toLowerCase() : value) as T;
  if (Array.isArray(value)) return value.map(lowercaseAddresses) as T;
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lowercaseAddresses(v)])) as T;
  return value;
}

/** An event's arguments as stored (JSON, amounts as decimal strings), and back. */
export const encodeArgs = json;
export function decodeArgs(data: string): Record<string, unknown> {
  return JSON.parse(data, (_k, x) => (typeof x === "string" && /^\d+$/.test(x) ? BigInt(x) : x));
}

/**
 * A job event's id: its block number and its log's index in the block, zero-padded, so that ids sort in chain order
 * (The Graph lists a job's events by id, and the subgraph's ids are the same strings: subgraph/src/mapping.ts).
 */
export function jobEventId(blockNumber: number, logIndex: number): string {
  return `${String(blockNumber).padStart(10, "0")}-${String(logIndex).padStart(6, "0")}`;
}

/**
 * The typed fields of a job event's row, from its arguments (as stored: amounts as bigint or decimal strings): which
 * argument each field shows depends on the kind of event. The migration that added these columns reads the same
 * arguments the same way (migrations/<provider>/*_event_fields).
 */
export function jobEventFields(args: Record<string, any>) {
  const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
  const int = (v: unknown) => (v === undefined || v === null ? null : Number(v));
  return {
    minFee: text(args.newMinFee ?? args.minFee),
    maxFee: text(args.newMaxFee ?? args.maxFee),
    rampStart: int(args.newRampStart ?? args.rampStart),
    price: text(args.price),
    bond: text(args.bond),
    deadline: int(args.deadline),
    refund: text(args.refund),
    keeper: text(args.keeper),
    slashed: text(args.split?.slashed),
    outputs: args.outputs === undefined ? null : json(Object.values(args.outputs as object)),
  };
}
