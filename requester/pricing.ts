/**
 * How a requester prices a job (a reverse Dutch auction: the price rises from a minimum to a maximum over a ramp,
 * common/market/price.ts says how): the defaults of a ramp, the checks a ramp passes before it is posted, and the
 * ramp `quote` suggests from the prices that recent claims of a circuit locked. Pure: no chain, no I/O.
 */
import { firstSecondAtPrice, type PriceRamp, rampStep } from "../common/market/price.ts";
import { RequestError } from "./errors.ts";

/**
 * The block time the defaults are sized for: Ethereum's 12 s slots. A claim locks the price of its block's second,
 * and a prover claims in the first block at or above its own price, so it is paid at most one block's rise above it.
 */
export const BLOCK_SECONDS = 12n;
/** The most the price should rise over one such block, in basis points of the maximum (2%). */
export const MAX_STEP_BPS = 200n;
/** 600 s: the price then rises by (max − min) × 12 / 600 = (max − min) / 50 per block, ≤ 2% of the maximum even from 0. */
export const DEFAULT_RAMP_SECONDS = (BLOCK_SECONDS * 10_000n) / MAX_STEP_BPS;
/** The default minimum is the maximum divided by this: the job opens at a tenth of what the requester would pay. */
export const DEFAULT_MIN_DIVISOR = 10n;

/** A fixed price, or a ramp (defaults: minimum a tenth of the maximum, 600 s, rising from posting). */
export type Pricing =
  | { fee: bigint }
  | {
      maxFee: bigint;
      minFee?: bigint;
      /** Seconds the price takes to rise from minFee to maxFee. */
      rampDuration?: bigint;
      /** Seconds after posting before the price starts to rise (0: it rises from posting). */
      rampDelay?: bigint;
    };

/** The ramp to post. `rampStart` is relative to posting (0 is "at posting", which the chain writes as 0). */
export function rampOf(pricing: Pricing): PriceRamp {
  if ("fee" in pricing) return { minFee: pricing.fee, maxFee: pricing.fee, rampStart: 0n, rampDuration: 0n };
  const minFee = pricing.minFee ?? pricing.maxFee / DEFAULT_MIN_DIVISOR;
  // A minimum equal to the maximum is a fixed price: posted without a ramp, whose timing would change nothing (and
  // which the market refuses when it outlasts the job: RampPastExpiry).
  if (minFee === pricing.maxFee) return { minFee, maxFee: minFee, rampStart: 0n, rampDuration: 0n };
  return {
    minFee,
    maxFee: pricing.maxFee,
    rampStart: pricing.rampDelay ?? 0n,
    rampDuration: pricing.rampDuration ?? DEFAULT_RAMP_SECONDS,
  };
}

/** What a ramp is checked against: the job's timing, in seconds after posting. */
export interface JobTiming {
  provingWindow: bigint;
  expiresIn: bigint;
}

/**
 * Refuses a ramp the market would refuse, or one whose top would never be offered, with what to change (amounts
 * shown with `money`). A ramp must end by the last second at which a claim still gets its whole proving window
 * (expiry − window): a claim after that gets a shorter window (the deadline never passes the expiry), which a
 * prover that needs the whole window does not take, so the maximum escrowed would in effect never be offered; and
 * a requester who asks for a ramp longer than the job's life has mistaken one of the two.
 */
export function checkRamp(ramp: PriceRamp, timing: JobTiming, money: (amount: bigint) => string): void {
  if (ramp.maxFee <= 0n)
    throw new RequestError(
      "the maximum fee (--max-fee, or --fee) must be above 0: it is what the prover is paid at the top of the ramp, " +
        "and what is escrowed",
    );
  if (ramp.minFee > ramp.maxFee)
    throw new RequestError(
      `the minimum fee ${money(ramp.minFee)} (--min-fee) is above the maximum ${money(ramp.maxFee)} (--max-fee): ` +
        "the price rises from the minimum to the maximum, so lower --min-fee or raise --max-fee (or give --fee " +
        "alone for a fixed price)",
    );
  if (ramp.minFee === ramp.maxFee) return; // a fixed price: the ramp's timing changes nothing
  const end = ramp.rampStart + ramp.rampDuration;
  const lastFullClaim = timing.expiresIn - timing.provingWindow;
  if (end > lastFullClaim) {
    const fits = lastFullClaim - ramp.rampStart;
    throw new RequestError(
      `the price would reach its maximum ${end} s after posting, but a claim gets its whole ${timing.provingWindow} s ` +
        `proving window only until ${lastFullClaim} s after posting (the job expires after ${timing.expiresIn} s): ` +
        "the top of the ramp would be offered only with a shorter window, or not at all; " +
        (fits > 0n ? `shorten --ramp to at most ${fits} s, or ` : "") +
        `lengthen --expires-in to at least ${end + timing.provingWindow} s`,
    );
  }
}

/**
 * The price's rise over one 12 s block (rounded up, as rampStep does), when the rise is more than 2% of the maximum;
 * null otherwise. The comparison is exact: (max − min) × 12 / d > 2% × max.
 */
export function steepRise(ramp: PriceRamp): bigint | null {
  const steep = (ramp.maxFee - ramp.minFee) * BLOCK_SECONDS * 10_000n > MAX_STEP_BPS * ramp.maxFee * ramp.rampDuration;
  return steep ? rampStep(ramp, BLOCK_SECONDS) : null;
}

/**
 * The shortest ramp, in whole minutes, over which a 12 s block raises the price from `minFee` to `maxFee` by at most
 * 2% of `maxFee`: (max − min) × 12 / d ≤ 2% × max  ⇔  d ≥ (max − min) × 12 × 10,000 / (200 × max).
 */
export function shortestGentleRamp(minFee: bigint, maxFee: bigint): bigint {
  const least = ceilDiv((maxFee - minFee) * BLOCK_SECONDS * 10_000n, MAX_STEP_BPS * maxFee);
  return ceilDiv(least > 0n ? least : 1n, 60n) * 60n;
}

/** Rounds a positive amount to `digits` significant digits, down or up (so suggested amounts read as 0.9, 3.75). */
export function roundSignificant(amount: bigint, digits: number, direction: "down" | "up"): bigint {
  const length = amount.toString().length;
  if (length <= digits) return amount;
  const unit = 10n ** BigInt(length - digits);
  const down = (amount / unit) * unit;
  return direction === "up" && down < amount ? down + unit : down;
}

/**
 * The middle of sorted amounts: the upper of the two middle ones for an even count, a price some prover took, as
 * the coordinator's Circuit.medianLockedPrice takes it.
 */
function median(sorted: readonly bigint[]): bigint {
  return sorted[Math.floor(sorted.length / 2)];
}

export interface Suggestion {
  /** The prices seen, in base units: how many, the lowest, the median, the highest. */
  count: number;
  lowest: bigint;
  median: bigint;
  highest: bigint;
  minFee: bigint;
  maxFee: bigint;
  /** Seconds. */
  rampDuration: bigint;
  /** Seconds after the ramp starts at which its price reaches the median of the prices seen. */
  medianAfter: bigint;
}

/** The minimum sits this far below the lowest price seen (percent). */
export const SUGGEST_BELOW_PERCENT = 10n;
/** The maximum sits this far above the highest price seen (percent). */
export const SUGGEST_ABOVE_PERCENT = 25n;

/**
 * A ramp from the prices recent claims of a circuit locked (null when there are none):
 *   - minimum: 10% below the lowest price seen (3 significant digits, rounded down), so the job opens below every
 *     prover seen and the cheapest of them can claim at about its own price, not above it;
 *   - maximum: 25% above the highest (3 significant digits, rounded up), room for a busier market than the one
 *     seen; it is escrowed, and what the prover is not paid comes back to the requester;
 *   - ramp: the shortest whole minute over which a 12 s block raises the price by at most 2% of the maximum, so
 *     a prover is paid at most that above its own price and the job is claimed as soon as that allows.
 */
export function suggestRamp(prices: readonly bigint[]): Suggestion | null {
  if (prices.length === 0) return null;
  const sorted = [...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lowest = sorted[0];
  const highest = sorted[sorted.length - 1];
  const minFee = roundSignificant((lowest * (100n - SUGGEST_BELOW_PERCENT)) / 100n, 3, "down");
  // Never 0: the market refuses a maximum of 0 (provers who claimed for nothing still get a ramp to bid on).
  const maxFee = roundSignificant((highest * (100n + SUGGEST_ABOVE_PERCENT) + 99n) / 100n, 3, "up") || 1n;
  const rampDuration = shortestGentleRamp(minFee, maxFee);
  const mid = median(sorted);
  const ramp = { minFee, maxFee, rampStart: 0n, rampDuration };
  return {
    count: sorted.length,
    lowest,
    median: mid,
    highest,
    minFee,
    maxFee,
    rampDuration,
    medianAfter: firstSecondAtPrice(ramp, mid) ?? rampDuration,
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** Why each suggested value is what it is, in a line each (amounts shown with `money`). */
export function explainSuggestion(s: Suggestion, money: (amount: bigint) => string): Record<string, string> {
  return {
    minFee:
      `${SUGGEST_BELOW_PERCENT}% below the lowest price a claim locked (${money(s.lowest)}): the job opens below ` +
      "every prover seen, so the cheapest of them claims at about its own price, not above it",
    maxFee:
      `${SUGGEST_ABOVE_PERCENT}% above the highest (${money(s.highest)}): room for a busier market than the one ` +
      "seen; it is escrowed, and what the prover is not paid comes back to you",
    ramp:
      `the shortest whole minute over which a 12 s block raises the price by at most 2% of the maximum (a prover ` +
      `is paid at most that above its own price); the price reaches the median (${money(s.median)}) ` +
      `${s.medianAfter} s after posting`,
  };
}
