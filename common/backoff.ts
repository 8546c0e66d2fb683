/**
 * The one backoff rule every retry in the project follows: the pause before the `attempt`-th retry (from 1) starts at
 * `initialMs`, doubles with each attempt up to `maxMs`, and is moved by up to ±`jitter` of itself at random, so that
 * many clients failing together do not retry in step.
 */
export interface BackoffRule {
  initialMs: number;
  maxMs: number;
  /** Fraction of the pause added or taken away at random (default 0.2: ±20%). */
  jitter?: number;
}

export function backoffDelay(attempt: number, rule: BackoffRule, random: () => number = Math.random): number {
  const jitter = rule.jitter ?? 0.2;
  const base = Math.min(rule.maxMs, rule.initialMs * 2 ** (attempt - 1));
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
