/**
 * A job's price ramp (reverse Dutch auction), as the market computes it (`JobTerms.priceAt` and `deadlineFrom` in
 * contracts/types/JobTerms.sol): the price rises every second from `minFee` at `rampStart` to `maxFee` at
 * `rampStart + rampDuration`, rounded down, and a claim locks the price of its second. Everything off chain that
 * prices a job (the worker's bids, the requester's quotes, the coordinator's current price, the simulation) uses
 * these, and test/contracts/CommonMirrors.test.ts checks them against the contract.
 */

/**
 * How many of a circuit's newest claims its recent locked prices are: what the coordinator's
 * Circuit.recentLockedPrices lists at most and medianLockedPrice is taken over, and what a requester's quote reads.
 * The subgraph keeps as many on each circuit (its own constant in subgraph/src/transitions.ts, which AssemblyScript
 * compiles apart: test/subgraph/Transitions.test.ts checks the two are equal).
 */
export const RECENT_LOCKED_PRICES = 20;

/** The fields of a job's terms that fix its price. */
export interface PriceRamp {
  minFee: bigint;
  maxFee: bigint;
  /** Unix seconds. */
  rampStart: bigint;
  /** Seconds; 0 means `minFee` up to `rampStart` and `maxFee` from the second after. */
  rampDuration: bigint;
}

/** The price at `timestamp` (unix seconds): what a claim mined in a block of that timestamp locks. */
export function priceAt(ramp: PriceRamp, timestamp: bigint): bigint {
  if (timestamp <= ramp.rampStart) return ramp.minFee;
  const elapsed = timestamp - ramp.rampStart;
  if (elapsed >= ramp.rampDuration) return ramp.maxFee;
  return ramp.minFee + ((ramp.maxFee - ramp.minFee) * elapsed) / ramp.rampDuration;
}

/**
 * The first second at which the price is at least `price` (null if it never gets there): a prover whose
 * reservation price is `price` claims in the first block at or after it. For a price at or below `minFee`, which
 * every second asks, the answer is `rampStart` by convention (callers ask only about prices above the price now).
 */
export function firstSecondAtPrice(ramp: PriceRamp, price: bigint): bigint | null {
  if (price <= ramp.minFee) return ramp.rampStart;
  if (price > ramp.maxFee) return null;
  if (ramp.rampDuration === 0n) return ramp.rampStart + 1n;
  // Smallest elapsed e with minFee + floor(span·e / d) ≥ price, i.e. span·e ≥ (price − minFee)·d.
  const span = ramp.maxFee - ramp.minFee;
  const need = (price - ramp.minFee) * ramp.rampDuration;
  const elapsed = (need + span - 1n) / span;
  return ramp.rampStart + elapsed;
}

/** How much the price rises in `seconds` while it is rising: the ramp's step over one block of that length. */
export function rampStep(ramp: PriceRamp, seconds: bigint): bigint {
  if (ramp.rampDuration === 0n) return ramp.maxFee - ramp.minFee;
  return ((ramp.maxFee - ramp.minFee) * seconds + ramp.rampDuration - 1n) / ramp.rampDuration;
}

/** A claim's deadline: its proving window from the claim's second, never past the job's expiry. */
export function deadlineFrom(terms: { provingWindow: bigint; expiresAt: bigint }, claimedAt: bigint): bigint {
  const end = claimedAt + terms.provingWindow;
  return end < terms.expiresAt ? end : terms.expiresAt;
}

/**
 * The ramp a re-opening leaves (ProofMarket `_reopen`): both ends raised by the slash's reward share, and the ramp
 * paused for the time the failed claim held the job (its start moved later by the time from the claim to the
 * re-opening, each clamped to the ramp's start). The job is then offered at the price the claim locked plus the reward
 * share, and rises from there at the ramp's own rate: a lapse never lets the price run on for whoever claims it back.
 */
export function reopenedRamp<T extends PriceRamp>(
  terms: T,
  claimedAt: bigint,
  reopenedAt: bigint,
  rewardShare: bigint,
): T {
  const clamp = (t: bigint) => (t > terms.rampStart ? t : terms.rampStart);
  return {
    ...terms,
    minFee: terms.minFee + rewardShare,
    maxFee: terms.maxFee + rewardShare,
    rampStart: terms.rampStart + clamp(reopenedAt) - clamp(claimedAt),
  };
}
