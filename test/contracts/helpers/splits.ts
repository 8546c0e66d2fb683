/**
 * How the market divides a slashed bond (contracts/libraries/SlashMath.sol), for tests to state the split they
 * expect: each share is its basis points of the amount slashed, rounded down, and the requester takes the rest.
 */
export const bps = (amount: bigint, basisPoints: bigint): bigint => (amount * basisPoints) / 10_000n;

export interface Shares {
  keeperShareBps: bigint;
  rewardShareBps: bigint;
  treasuryShareBps: bigint;
}

/**
 * A slash of `amount` under `shares`, as the events' SlashSplit: [slashed, keeper, reward, treasury, requester].
 * `keeper`: a keeper called (reassign, expire; not abandon). `reopens`: the job opens again, so the reward share is
 * the next prover's; otherwise (expiry, the attempt limit) it is the requester's.
 */
export function slashSplit(shares: Shares, amount: bigint, o: { keeper: boolean; reopens: boolean }): bigint[] {
  const keeper = o.keeper ? bps(amount, shares.keeperShareBps) : 0n;
  const reward = o.reopens ? bps(amount, shares.rewardShareBps) : 0n;
  const treasury = bps(amount, shares.treasuryShareBps);
  return [amount, keeper, reward, treasury, amount - keeper - reward - treasury];
}
