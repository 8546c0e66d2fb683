/**
 * What each market event does to the subgraph's entities, as plain functions over plain records. Written in the
 * part of TypeScript that AssemblyScript also compiles (i32 numbers, strings, arrays, classes; no closures, no
 * unions but `| null` on references), so the same file is the subgraph mapping's logic (mapping.ts loads and
 * saves entities around it) and runs under Node in test/subgraph/Transitions.test.ts, where a real chain's
 * events must produce the entities the coordinator's database holds. Amounts are decimal strings, added and
 * subtracted here digit by digit, so no big-number type has to be shared between the two languages.
 */

/** a + b, for non-negative decimal strings. */
export function addAmounts(a: string, b: string): string {
  let result = "";
  let carry: i32 = 0;
  let i: i32 = a.length - 1;
  let j: i32 = b.length - 1;
  while (i >= 0 || j >= 0 || carry > 0) {
    let digit: i32 = carry;
    if (i >= 0) digit += a.charCodeAt(i) - 48;
    if (j >= 0) digit += b.charCodeAt(j) - 48;
    carry = digit >= 10 ? 1 : 0;
    result = String.fromCharCode(48 + (digit % 10)) + result;
    i--;
    j--;
  }
  return result;
}

/** a - b, for decimal strings with a >= b (the contract's accounting never goes below zero). */
export function subAmounts(a: string, b: string): string {
  let result = "";
  let borrow: i32 = 0;
  let i: i32 = a.length - 1;
  let j: i32 = b.length - 1;
  while (i >= 0) {
    let digit: i32 = a.charCodeAt(i) - 48 - borrow;
    if (j >= 0) digit -= b.charCodeAt(j) - 48;
    borrow = digit < 0 ? 1 : 0;
    if (digit < 0) digit += 10;
    result = String.fromCharCode(48 + digit) + result;
    i--;
    j--;
  }
  let start: i32 = 0;
  while (start < result.length - 1 && result.charCodeAt(start) == 48) start++;
  return result.slice(start);
}

/** a < b, for non-negative decimal strings without leading zeros. */
export function lessAmount(a: string, b: string): boolean {
  if (a.length != b.length) return a.length < b.length;
  return a < b;
}

/** No value, for the Int fields that are null until set (deadline, provedAt). */
export const NONE: i32 = -1;

export class JobRecord {
  id: string = "";
  circuit: string = "";
  requester: string = "";
  status: string = "Open";
  minFee: string = "0";
  maxFee: string = "0";
  rampStart: i32 = 0;
  rampDuration: i32 = 0;
  /** The price the current claim locked (Claimed) or the price paid (Proved); null otherwise. */
  lockedPrice: string | null = null;
  bond: string = "0";
  provingWindow: i32 = 0;
  expiresAt: i32 = 0;
  inputsCommitment: string = "";
  inputsHash: string = "";
  inputsURI: string = "";
  attempt: i32 = 0;
  assignee: string | null = null;
  deadline: i32 = NONE;
  outputs: string[] | null = null;
  postedAt: i32 = 0;
  postedAtBlock: i32 = 0;
  provedAt: i32 = NONE;
}

export class ProverRecord {
  id: string = "";
  staked: string = "0";
  locked: string = "0";
  unbonding: string = "0";
  jobsProved: i32 = 0;
  jobsMissed: i32 = 0;
  jobsAbandoned: i32 = 0;
  slashed: string = "0";
  earned: string = "0";
}

export const MARKET_STATS_ID = "market";

/**
 * How many of a circuit's newest locked prices a Circuit keeps (recentLockedPrices) and takes the median of: the
 * coordinator's RECENT_LOCKED_PRICES (coordinator/graphql/resolvers.ts), checked equal by Transitions.test.ts.
 */
export const RECENT_LOCKED_PRICES: i32 = 20;

export class CircuitPrices {
  /** Newest first, RECENT_LOCKED_PRICES at most. */
  recentLockedPrices: string[] = [];
  medianLockedPrice: string | null = null;
}

export class StatsRecord {
  open: i32 = 0;
  claimed: i32 = 0;
  proved: i32 = 0;
  cancelled: i32 = 0;
  expired: i32 = 0;
  feesPaid: string = "0";
  requesterSavings: string = "0";
  escrowed: string = "0";
  slashes: i32 = 0;
  medianTimeToProof: i32 = NONE;
  /** Seconds from posting to proof of every proved job, ascending. */
  timesToProof: i32[] = [];
}

// ---- jobs

export function jobClaimed(job: JobRecord, prover: string, attempt: i32, deadline: i32, price: string): void {
  job.status = "Claimed";
  job.assignee = prover;
  job.attempt = attempt;
  job.deadline = deadline;
  job.lockedPrice = price;
}

/** Reassigned or abandoned: Open again as the next attempt, both ends of its ramp raised by the reward share and its
 *  start moved to `newRampStart` (the ramp paused while the failed claim held the job). */
export function jobReopened(
  job: JobRecord,
  attempt: i32,
  newMinFee: string,
  newMaxFee: string,
  newRampStart: i32,
): void {
  job.status = "Open";
  job.assignee = null;
  job.deadline = NONE;
  job.attempt = attempt;
  job.minFee = newMinFee;
  job.maxFee = newMaxFee;
  job.rampStart = newRampStart;
  job.lockedPrice = null;
}

export function jobProved(job: JobRecord, prover: string, price: string, outputs: string[], timestamp: i32): void {
  job.status = "Proved";
  job.assignee = prover;
  job.lockedPrice = price;
  job.outputs = outputs;
  job.provedAt = timestamp;
}

export function jobCancelled(job: JobRecord): void {
  job.status = "Cancelled";
}

export function jobExpired(job: JobRecord): void {
  job.status = "Expired";
  job.assignee = null;
  job.deadline = NONE;
  job.lockedPrice = null;
}

// ---- circuits

/** A claim of one of the circuit's jobs locked `price`: it heads the recent prices, and the median moves. */
export function circuitClaimed(circuit: CircuitPrices, price: string): void {
  const recent = new Array<string>();
  recent.push(price);
  const previous = circuit.recentLockedPrices;
  for (let i: i32 = 0; i < previous.length && recent.length < RECENT_LOCKED_PRICES; i++) recent.push(previous[i]);
  circuit.recentLockedPrices = recent;
  // Sorted by insertion (AssemblyScript's sort takes no closure over amounts), then the upper median, as the
  // coordinator takes it.
  const sorted = new Array<string>();
  for (let i: i32 = 0; i < recent.length; i++) {
    sorted.push(recent[i]);
    let at: i32 = sorted.length - 1;
    while (at > 0 && lessAmount(recent[i], sorted[at - 1])) {
      sorted[at] = sorted[at - 1];
      at--;
    }
    sorted[at] = recent[i];
  }
  circuit.medianLockedPrice = sorted[sorted.length >> 1];
}

// ---- provers

export function proverStaked(prover: ProverRecord, staked: string): void {
  prover.staked = staked;
}

export function proverUnstakeRequested(prover: ProverRecord, amount: string, unbonding: string): void {
  prover.staked = subAmounts(prover.staked, amount);
  prover.unbonding = unbonding;
}

export function proverUnstaked(prover: ProverRecord, amount: string): void {
  prover.unbonding = subAmounts(prover.unbonding, amount);
}

export function proverClaimed(prover: ProverRecord, bond: string): void {
  prover.locked = addAmounts(prover.locked, bond);
}

export function proverPaid(prover: ProverRecord, bond: string, fee: string): void {
  prover.locked = subAmounts(prover.locked, bond);
  prover.jobsProved += 1;
  prover.earned = addAmounts(prover.earned, fee);
}

/** A claim slashed: missed (reassigned, or held at expiry) or abandoned. */
export function proverSlashed(prover: ProverRecord, bond: string, slashed: string, abandoned: boolean): void {
  prover.locked = subAmounts(prover.locked, bond);
  prover.staked = subAmounts(prover.staked, slashed);
  prover.slashed = addAmounts(prover.slashed, slashed);
  if (abandoned) prover.jobsAbandoned += 1;
  else prover.jobsMissed += 1;
}

// ---- market stats

function addToStatus(stats: StatsRecord, status: string, delta: i32): void {
  if (status == "Open") stats.open += delta;
  else if (status == "Claimed") stats.claimed += delta;
  else if (status == "Proved") stats.proved += delta;
  else if (status == "Cancelled") stats.cancelled += delta;
  else if (status == "Expired") stats.expired += delta;
}

/** A job moved from one status to another ("" for a new job). */
export function statsStatusChanged(stats: StatsRecord, from: string, to: string): void {
  if (from != "") addToStatus(stats, from, -1);
  addToStatus(stats, to, 1);
}

/** A job posted: its escrow (maxFee) is held. */
export function statsPosted(stats: StatsRecord, maxFee: string): void {
  stats.escrowed = addAmounts(stats.escrowed, maxFee);
}

/** A job reopened: the reward share of the slash raised its escrow from `maxFee` to `newMaxFee`. */
export function statsReopened(stats: StatsRecord, maxFee: string, newMaxFee: string): void {
  stats.escrowed = addAmounts(subAmounts(stats.escrowed, maxFee), newMaxFee);
}

/** A job cancelled or expired: its escrow went back to the requester. */
export function statsRefunded(stats: StatsRecord, maxFee: string): void {
  stats.escrowed = subAmounts(stats.escrowed, maxFee);
}

/** A job proved at `price`: paid out of its escrow (`maxFee`), the rest back to the requester, saved. */
export function statsProved(stats: StatsRecord, price: string, maxFee: string, secondsToProof: i32): void {
  stats.feesPaid = addAmounts(stats.feesPaid, price);
  stats.requesterSavings = addAmounts(stats.requesterSavings, subAmounts(maxFee, price));
  stats.escrowed = subAmounts(stats.escrowed, maxFee);
  // Insertion into the sorted list (AssemblyScript's splice cannot insert).
  const times = stats.timesToProof;
  times.push(secondsToProof);
  let at: i32 = times.length - 1;
  while (at > 0 && times[at - 1] > secondsToProof) {
    times[at] = times[at - 1];
    at--;
  }
  times[at] = secondsToProof;
  stats.timesToProof = times;
  // The upper median, as the coordinator computes it.
  stats.medianTimeToProof = times[times.length >> 1];
}

export function statsSlashed(stats: StatsRecord): void {
  stats.slashes += 1;
}
