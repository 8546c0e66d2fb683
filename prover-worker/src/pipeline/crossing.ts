/**
 * Crossing: a job's price rises every second (common/market/price.ts) and the worker claims it once the price
 * reaches its reservation price (decision.ts, pricing.ts), at second T. This module says when a claim sent now is
 * certain to lock a price of T or later, and when the scheduler should look, so that the claim goes out for the
 * right block rather than at the next poll, and never for a block before T.
 *
 * Certain to land at T or later. A claim locks the price of its block's timestamp. Timestamps never decrease, but
 * they need not increase: a chain that makes blocks faster than one a second (Arbitrum, other sub-second L2s) stamps
 * several blocks with the same second, so a claim sent while the latest block is stamped T − 1 can land in another
 * block stamped T − 1 and lock a price below the reservation. So, by default, the worker claims only once the latest
 * block is stamped T or later. It claims a block earlier (once the latest is stamped T − 1) only on a chain it has
 * seen stamp consecutive blocks with increasing seconds (STRICT_PAIRS_NEEDED pairs n, n + 1) and never two blocks
 * with the same second (createStampWatch); once it sees a shared second it stays with the default. On a development
 * chain (a devnet: hardhat, anvil, ganache, geth --dev) the node also mines on demand or at intervals, stamping each
 * block with its clock at that moment, and it reports that clock as the pending block's timestamp; a claim sent once
 * the pending timestamp is T is mined later, so at T or later: a quiet devnet whose latest block is minutes old
 * still claims at the right second. Elsewhere the pending block is not trusted: a proof-of-stake node stamps it with
 * its clock, yet a transaction sent then can still land in the current slot's block, stamped with the slot's start.
 *
 * When to look. The chain's clock runs with the local one, offset. Every reading (the pending timestamp on a devnet,
 * else the latest block's) is a second the chain has reached, so it bounds the offset from below; the largest bound
 * of the last minute is kept (older ones may predate a chain clock set back). The estimate never leads the chain,
 * but it may trail it by up to a second (readings are whole seconds), so the scheduler sleeps until the estimate is
 * a second short of the moment the claim could land at T (at most MAX_WAKE_MS: every scheduling pass looks again),
 * then looks every CROSSING_POLL_MS until the check above lets it claim: what decides is always the check, never the
 * estimate.
 */

/** The chain ids of local development chains: Hardhat's and Anvil's, and Ganache's and `geth --dev`'s. */
export const DEV_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);

/** How often the scheduler looks while a crossing is due. */
export const CROSSING_POLL_MS = 250;
/**
 * The longest the scheduler sleeps for a crossing. A job may expire a year after its posting, so its crossing can
 * be months away, and Node fires a timer whose delay is above 2^31 − 1 ms (24.8 days) after 1 ms: every worker would
 * then pass again at once, for ever. A crossing further off is simply looked at again on a later pass.
 */
export const MAX_WAKE_MS = 60_000;
/** How long a reading of the chain's clock counts toward its offset. */
const READING_MEMORY_MS = 60_000;
/** Consecutive blocks seen with increasing timestamps before the worker counts on the next block's being later. */
export const STRICT_PAIRS_NEEDED = 3;
/** How many recent blocks' timestamps are kept to compare new ones with. */
const STAMPS_KEPT = 32;

/** The chain's time as one scheduling pass sees it (chain seconds). */
export interface ChainTime {
  /** The latest block's timestamp. */
  now: number;
  /** The earliest timestamp the block of a claim sent now can have. */
  claimAt: number;
  /** The second the chain's clock is known to have reached (the pending timestamp on a devnet, else `now`). */
  reading: number;
}

/**
 * The chain's time from the latest block's timestamp, whether the chain's block timestamps are known to strictly
 * increase (createStampWatch), and, on a development chain only, the pending block's timestamp (null elsewhere, or
 * when the node gives none).
 */
export function chainTime(latest: number, strict: boolean, pending: number | null): ChainTime {
  return {
    now: latest,
    claimAt: Math.max(strict ? latest + 1 : latest, pending ?? 0),
    reading: Math.max(latest, pending ?? 0),
  };
}

/** What the worker knows of the chain's block timestamps. */
export type StampOrder = "strict" | "shared" | "unknown";

export interface StampWatch {
  /** Records a block's timestamp (the latest block's, or its parent's). */
  observe(block: { number: number; timestamp: number }): void;
  /** Whether the block's timestamp is already known (its parent need not be read again). */
  knows(number: number): boolean;
  /**
   * strict: consecutive blocks seen with increasing seconds, never two with the same one; shared: two blocks seen
   * stamped with the same second (for good); unknown: neither yet.
   */
  order(): StampOrder;
  /** The blocks that showed a shared second, once it was seen. */
  sharedSeen(): { from: number; to: number } | null;
}

/**
 * Watches block timestamps for the crossing's rule. Two blocks n < m whose seconds differ by less than m − n prove
 * that some consecutive pair between them shares a second (it needs no pair to be read itself); consecutive blocks n,
 * n + 1 stamped apart count toward strictness. A block number seen again with another timestamp (a reorg) forgets
 * the kept blocks from it on.
 */
export function createStampWatch(pairsNeeded = STRICT_PAIRS_NEEDED): StampWatch {
  const kept = new Map<number, number>();
  const strictPairs = new Set<number>();
  let shared: { from: number; to: number } | null = null;
  return {
    observe({ number, timestamp }) {
      const before = kept.get(number);
      if (before === timestamp) return;
      if (before !== undefined) for (const n of [...kept.keys()]) if (n >= number) kept.delete(n);
      for (const [n, t] of kept) {
        const [lo, hi] =
          n < number
            ? [
                { n, t },
                { n: number, t: timestamp },
              ]
            : [
                { n: number, t: timestamp },
                { n, t },
              ];
        if (hi.t - lo.t < hi.n - lo.n) shared ??= { from: lo.n, to: hi.n };
        else if (hi.n - lo.n === 1) strictPairs.add(hi.n);
      }
      kept.set(number, timestamp);
      if (kept.size > STAMPS_KEPT) kept.delete(Math.min(...kept.keys()));
    },
    knows: (number) => kept.has(number),
    order: () => (shared !== null ? "shared" : strictPairs.size >= pairsNeeded ? "strict" : "unknown"),
    sharedSeen: () => shared,
  };
}

/**
 * When the worker sends a claim, relative to the crossing second T, under the rule the worker follows now: what
 * `status --job N` shows next to T.
 */
export function claimTiming(order: StampOrder, devChain: boolean): string {
  const rule =
    order === "strict"
      ? "once the latest block is stamped T − 1 or later (this chain's block timestamps have been seen to " +
        "strictly increase, so the next block is stamped T or later)"
      : order === "shared"
        ? "once the latest block is stamped T or later (this chain has been seen to stamp two blocks with the same " +
          "second, so a claim sent earlier could land in a block stamped before T)"
        : "once the latest block is stamped T or later (until the worker has seen this chain's block timestamps " +
          "strictly increase: a block may share its predecessor's second)";
  return devChain ? `${rule}, or as soon as this development chain's clock (its pending block) reaches T` : rule;
}

export interface ChainClock {
  /** Records that the chain's clock has reached `second`, now. */
  observe(second: number): void;
  /** Milliseconds until the chain's clock is estimated to reach `second` (0 or less: reached); null before any reading. */
  msUntil(second: number): number | null;
  /** The chain's clock minus the local one, as estimated (ms); null before any reading. */
  offsetMs(): number | null;
}

export function createChainClock(localMs: () => number = Date.now): ChainClock {
  let readings: { at: number; offsetMs: number }[] = [];
  const offsetMs = () => (readings.length === 0 ? null : Math.max(...readings.map((r) => r.offsetMs)));
  return {
    observe(second) {
      const at = localMs();
      readings = readings.filter((r) => at - r.at < READING_MEMORY_MS);
      readings.push({ at, offsetMs: second * 1000 - at });
    },
    msUntil(second) {
      const offset = offsetMs();
      return offset === null ? null : second * 1000 - (localMs() + offset);
    },
    offsetMs,
  };
}

/**
 * How long the scheduler sleeps before looking again at the earliest crossing, `crossesAt`, after a pass that saw
 * `time`: the claim can land at `crossesAt` once the reading has advanced by crossesAt − claimAt seconds. Never more
 * than MAX_WAKE_MS (a timer's delay has a ceiling; the next pass arms it again).
 */
export function wakeDelayMs(clock: ChainClock, time: ChainTime, crossesAt: number): number {
  const target = time.reading + (crossesAt - time.claimAt);
  const until = clock.msUntil(target - 1) ?? 0;
  return Math.min(MAX_WAKE_MS, Math.max(CROSSING_POLL_MS, until));
}
