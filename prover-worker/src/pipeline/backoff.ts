/**
 * Per-job retry backoff for preflights that could not run (inputs server down, witness failure): a job is not taken
 * again before its next-attempt time, which doubles with each failure from `initialMs` up to `maxMs`, with ±`jitter`
 * so that many workers do not retry in step. A success, or the job leaving Open, forgets it.
 */
import { backoffDelay } from "../../../common/backoff.ts";

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Fraction of the delay added or taken away at random (0.2: ±20%). */
  jitter?: number;
  now?: () => number;
  random?: () => number;
}

export function createBackoff<K>(o: BackoffOptions = {}) {
  const initialMs = o.initialMs ?? 1_000;
  const maxMs = o.maxMs ?? 60_000;
  const jitter = o.jitter ?? 0.2;
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const entries = new Map<K, { failures: number; nextAt: number }>();
  return {
    /** Whether the key may be tried now (never failed, or its next-attempt time has come). */
    ready(key: K): boolean {
      const e = entries.get(key);
      return e === undefined || now() >= e.nextAt;
    },
    /** Milliseconds until the key may be tried (0: now). */
    waitMs(key: K): number {
      const e = entries.get(key);
      return e === undefined ? 0 : Math.max(0, e.nextAt - now());
    },
    /** Records a retryable failure; returns the delay in ms before the next attempt. */
    failed(key: K): number {
      const failures = (entries.get(key)?.failures ?? 0) + 1;
      const delay = backoffDelay(failures, { initialMs, maxMs, jitter }, random);
      entries.set(key, { failures, nextAt: now() + delay });
      return delay;
    },
    /** Forgets the key (a success, or the job left Open). */
    clear(key: K): void {
      entries.delete(key);
    },
    /** Forgets every key for which `keep` is false. */
    prune(keep: (key: K) => boolean): void {
      for (const key of [...entries.keys()]) if (!keep(key)) entries.delete(key);
    },
    get size(): number {
      return entries.size;
    },
  };
}
export type Backoff<K> = ReturnType<typeof createBackoff<K>>;
