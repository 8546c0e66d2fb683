/**
 * A small seeded random generator (mulberry32), so that anything random in the project's scaffolding (the provider
 * imitation's faults, the simulated market's arrivals and orderings) can be replayed exactly from its seed.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** A whole number in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  /** In place, and returned. */
  shuffle<T>(xs: T[]): T[];
  /** Exponentially distributed with the given mean: the gaps between the events of a Poisson process. */
  exponential(mean: number): number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (xs) => xs[int(xs.length)],
    shuffle(xs) {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
    exponential: (mean) => -mean * Math.log(1 - next()),
  };
}
