/**
 * What `proofmarket-worker status` says about prices, from the worker's data folder: each served circuit's
 * reservation price and how it is made up (as the running worker last computed it, else computed now), the price
 * each claim locked, what the worker earned per proving second; and for `status --job N`, the job's price now, the
 * reservation, when the price crosses it and when, relative to that second, the worker sends its claim.
 */
import { firstSecondAtPrice, type PriceRamp, priceAt } from "../../common/market/price.ts";
import type { ServedCircuit } from "./config.ts";
import { earnedPerProvingSecond, type Reservation } from "./pricing.ts";
import { claimTiming } from "./pipeline/crossing.ts";
import type { ClaimRecord, StoredReservation, StoredStampOrder } from "./store.ts";

/** How `status` writes an amount of tokens (formatUnits with the token's decimals; base units without a chain). */
export type Units = (amount: bigint) => string;

/** How many claims `status` lists, newest first. */
export const RECENT_CLAIMS = 20;

/** A reservation price and its parts, as `status` shows them. */
export function describeReservation(r: Reservation, units: Units) {
  return {
    price: units(r.price),
    // max(floor, proving + gas)
    floor: units(r.floor),
    proving: {
      cost: units(r.proving),
      seconds: r.provingSeconds,
      source: r.provingSource,
      perProvingSecond: units(r.perProvingSecond),
    },
    gas: {
      cost: units(r.gas),
      units: r.gasUnits.toString(),
      gasPriceWei: r.gasPrice.toString(),
      tokensPerEth: r.tokensPerEth === null ? "not set: gas is not counted" : units(r.tokensPerEth),
    },
  };
}

/** Each served circuit: its reservation price, and its claims' prices, earnings and proving seconds. */
export function circuitsStatus(
  circuits: readonly ServedCircuit[],
  claims: readonly ClaimRecord[],
  reservationOf: (circuit: ServedCircuit) => { reservation: Reservation; at: number; by: string },
  units: Units,
) {
  return circuits.map((c) => {
    const own = claims.filter((r) => Number(r.view.terms.circuitId) === c.circuitId);
    const proved = own.filter((r) => r.status === "proved" && r.price != null);
    const earned = proved.reduce((sum, r) => sum + r.price!, 0n);
    const seconds = proved.reduce((sum, r) => sum + (r.provingSeconds ?? 0), 0);
    const perSecond = earnedPerProvingSecond(earned, seconds);
    const { reservation, at, by } = reservationOf(c);
    return {
      circuitId: c.circuitId,
      name: c.manifestData.name,
      system: c.system,
      reservation: { ...describeReservation(reservation, units), at: new Date(at).toISOString(), by },
      claimed: own.filter((r) => r.price != null).length,
      proved: proved.length,
      earned: units(earned),
      provingSeconds: Number(seconds.toFixed(3)),
      earnedPerProvingSecond: perSecond === null ? null : units(perSecond),
    };
  });
}

/** The newest claims, with the price each locked. */
export function recentClaims(claims: readonly ClaimRecord[], units: Units) {
  return [...claims]
    .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))
    .slice(0, RECENT_CLAIMS)
    .map((r) => ({
      jobId: r.jobId.toString(),
      circuitId: Number(r.view.terms.circuitId),
      attempt: r.view.attempt.toString(),
      status: r.status,
      price: r.price == null ? null : units(r.price),
      provingSeconds: r.provingSeconds ?? null,
    }));
}

/**
 * An Open job's price at `now` (chain seconds), against the reservation the worker last used for its circuit: when
 * the price reaches it (null: never, its maxFee is below), and when the worker sends its claim relative to that
 * second (`sendsClaim`, pipeline/crossing.ts's claimTiming; null before the worker has read the chain).
 */
export function jobPricing(
  ramp: PriceRamp,
  now: number,
  clock: string,
  reservation: StoredReservation | null,
  stamps: StoredStampOrder | null,
) {
  const price = priceAt(ramp, BigInt(now));
  const sendsClaim =
    stamps === null ? null : `for a crossing at second T (crossesAt): ${claimTiming(stamps.order, stamps.devChain)}`;
  const base = { now, clock, priceNow: price.toString(), sendsClaim };
  if (reservation === null)
    return { ...base, reservation: null, note: "the worker has not priced this job's circuit yet (not run?)" };
  const crossesAt = price >= reservation.price ? null : firstSecondAtPrice(ramp, reservation.price);
  return {
    ...base,
    reservation: reservation.price.toString(),
    reached: price >= reservation.price,
    crossesAt: crossesAt === null ? null : Number(crossesAt),
    crossesIn: crossesAt === null ? null : Number(crossesAt) - now,
    never: price < reservation.price && crossesAt === null,
  };
}
