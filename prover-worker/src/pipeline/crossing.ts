/**
 * Crossing: a job's price rises every second (common/market/price.ts) and the worker claims it once the price
 * reaches its reservation price (decision.ts, pricing.ts), at second T. This module says when a claim sent now is
 * certain to lock a price of T or later, and when the scheduler should look, so that the claim goes out for the
 * right block rather than at the next poll, and never for a block before T.
 *
 * Certain to land at T or later. A claim locks the price of its block's timestamp, and timestamps strictly increase:
 * the next block is stamped at least latest + 1, so once the latest block is stamped T − 1 or later, a claim sent
 * then locks the price of T or later, on any chain (automining, interval mining, a real chain's slots). On a
 * development chain (a devnet: hardhat, anvil, ganache, geth --dev) the node also mines on demand or at intervals,
 * stamping each block with its clock at that moment, and it reports that clock as the pending block's timestamp; a
 * claim sent once the pending timestamp is T is mined later, so at T or later: a quiet devnet whose latest block is
 * minutes old still claims at the right second. Elsewhere the pending block is not trusted: a proof-of-stake node
 * stamps it with its clock, yet a transaction sent then can still land in the current slot's block, stamped with
 * the slot's start.
 *
 * When to look. The chain's clock runs with the local one, offset. Every reading (the pending timestamp on a devnet,
 * else the latest block's) is a second the chain has reached, so it bounds the offset from below; the largest bound
 * of the last minute is kept (older ones may predate a chain clock set back). The estimate never leads the chain,
 * but it may trail it by up to a second (readings are whole seconds), so the scheduler sleeps until the estimate is
 * a second short of the moment the claim could land at T, then looks every CROSSING_POLL_MS until the check above
 * lets it claim: what decides is always the check, never the estimate.
 */

/** The chain ids of local development chains: Hardhat's and Anvil's, and Ganache's and `geth --dev`'s. */
export const DEV_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);

/** How often the scheduler looks while a crossing is due. */
export const CROSSING_POLL_MS = 250;
/** How long a reading of the chain's clock counts toward its offset. */
const READING_MEMORY_MS = 60_000;

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
 * The chain's time from the latest block's timestamp and, on a development chain only, the pending block's (null
 * elsewhere, or when the node gives none).
 */
export function chainTime(latest: number, pending: number | null): ChainTime {
  return {
    now: latest,
    claimAt: Math.max(latest + 1, pending ?? 0),
    reading: Math.max(latest, pending ?? 0),
  };
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
 * `time`: the claim can land at `crossesAt` once the reading has advanced by crossesAt − claimAt seconds.
 */
export function wakeDelayMs(clock: ChainClock, time: ChainTime, crossesAt: number): number {
  const target = time.reading + (crossesAt - time.claimAt);
  const until = clock.msUntil(target - 1) ?? 0;
  return Math.max(CROSSING_POLL_MS, until);
}
