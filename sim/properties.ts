/**
 * What the market's incentives promise, checked on a simulated run: each broken promise is one line saying what and
 * by how much. The test asserts none is broken in the default market, and that each is broken in a market built to
 * break it; the report lists them.
 */
import { formatEther } from "ethers";
import type { SimResult } from "./engine.ts";
import { summarize } from "./report.ts";

/** Strategies that must not pay. */
export const LOSING_STRATEGIES = ["staller", "abandoner", "self-reassigner"] as const;
/** A claim at the crossing locks at most this much over the cheapest capable prover's reservation. */
export const PRICE_TOLERANCE = 1.1;
/** Provable jobs (a griefer's are not) proved before expiry, at least. */
export const PROVED_SHARE = 0.99;

export function brokenPromises(r: SimResult): string[] {
  const broken: string[] = [];
  const s = summarize(r);
  const profitOf = (strategy: string) => s.strategies.find((x) => x.strategy === strategy)?.profit;
  const honest = profitOf("honest");
  if (honest === undefined || honest <= 0n)
    broken.push(`honest provers net ${formatEther(honest ?? 0n)}, not a profit`);
  // An honest prover never loses its bond: it claims only what it can prove in time, on circuits whose verifiers
  // accept its proofs.
  for (const a of r.agents)
    if (a.strategy === "honest" && a.slashed > 0n)
      broken.push(`honest prover ${a.name} was slashed ${formatEther(a.slashed)}: an honest prover lost bond`);
  for (const strategy of LOSING_STRATEGIES) {
    const profit = profitOf(strategy);
    if (profit !== undefined && profit >= 0n) broken.push(`${strategy} nets ${formatEther(profit)}: the attack pays`);
  }
  for (const q of s.requesters)
    if (q.griefer && q.net >= 0n) broken.push(`${q.name} (a griefer) nets ${formatEther(q.net)}: griefing pays`);
  for (const q of r.requesters)
    if (!q.griefer && q.spent > q.paid)
      broken.push(
        `${q.name} lost ${formatEther(q.spent - q.paid)} more than its proofs' prices (escrow lost to a stall)`,
      );
  if (s.provedShare < PROVED_SHARE)
    broken.push(
      `${(100 * s.provedShare).toFixed(1)}% of provable jobs proved before expiry, under ${100 * PROVED_SHARE}%`,
    );
  const { max } = s.priceOverReservation;
  if (max !== null && max > PRICE_TOLERANCE)
    broken.push(
      `a claim at the crossing locked ${max.toFixed(3)} times the cheapest capable reservation, over ${PRICE_TOLERANCE}`,
    );
  return broken;
}
