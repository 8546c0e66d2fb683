/**
 * Reservation prices: the least a worker takes for a job of a circuit. Jobs are sold by reverse Dutch auction (a
 * job's price rises from its minFee to its maxFee: common/market/price.ts), so the worker does not ask whether a
 * job pays enough but when: it claims in the first block whose price reaches its reservation, and never below it
 * (pipeline/decision.ts, pipeline/crossing.ts). With several provers serving a circuit, the one whose reservation
 * is lowest (and that has a free slot and free stake then) is the first the price reaches, so it wins the job,
 * near its own price.
 *
 * reservation = max(floor, provingSeconds × perProvingSecond + (claimGas + submitGas) × gasPrice × tokensPerEth / 1e18)
 *
 * - floor: the circuit's configured `price.floor` (token base units);
 * - provingSeconds: what the worker expects a proof to take (measured in this process, else `bench`'s stored figure,
 *   else `policy.provingSecondsEstimate`), times the circuit's `price.perProvingSecond`;
 * - the gas of a claim and a submission at the chain's current gas price, in ETH, converted at the configured
 *   `pricing.tokensPerEth` (none configured: the gas is left out, and the floor must cover it).
 * Every part is rounded up: rounding never lets the worker claim below its costs.
 */
import gasSnapshot from "../../bench/gas-snapshot.json" with { type: "json" };

/**
 * The gas of a claim and of a single proof's submission as `npm run gas` measured them (bench/gas-snapshot.json):
 * the defaults of `pricing.claimGas` and `pricing.submitGas`. The submission's figure is a Groth16 proof with two
 * public signals; a worker serving a circuit whose verifier costs more wants a larger `submitGas` (one figure for
 * all its circuits).
 */
export const MEASURED_GAS = { claim: BigInt(gasSnapshot.claim), submit: BigInt(gasSnapshot.submit) } as const;

const WEI_PER_ETH = 10n ** 18n;
/** provingSeconds is fractional: it is priced by the millisecond. */
const MS_PER_SECOND = 1000n;

/** A served circuit's configured price (token base units). */
export interface CircuitPrice {
  floor: bigint;
  perProvingSecond: bigint;
}

/** The worker's `pricing` settings. */
export interface PricingSettings {
  /** Token base units that 1 ETH of gas is worth; undefined: gas is not counted. */
  tokensPerEth?: bigint;
  claimGas: bigint;
  submitGas: bigint;
}

/** Where the expected proving time comes from, in the worker's order of preference. */
export type ProvingSource = "measured" | "bench" | "estimate";

/** A reservation price and how it is made up (what `status` and the logs show). */
export interface Reservation {
  /** The reservation price: max(floor, proving + gas). */
  price: bigint;
  floor: bigint;
  /** provingSeconds × perProvingSecond, rounded up. */
  proving: bigint;
  /** The gas of claim and submit in token base units, rounded up; 0 when tokensPerEth is not set. */
  gas: bigint;
  provingSeconds: number;
  provingSource: ProvingSource;
  perProvingSecond: bigint;
  /** claimGas + submitGas. */
  gasUnits: bigint;
  /** Wei per gas, as the chain quoted it. */
  gasPrice: bigint;
  tokensPerEth: bigint | null;
}

/**
 * The seconds a proof of the circuit is expected to take, and where that comes from: what this process measured,
 * else what `bench` stored, else the configured estimate.
 */
export function expectedProvingTime(
  measured: number | undefined,
  bench: number | null,
  estimate: number,
): { seconds: number; source: ProvingSource } {
  if (measured !== undefined) return { seconds: measured, source: "measured" };
  if (bench !== null) return { seconds: bench, source: "bench" };
  return { seconds: estimate, source: "estimate" };
}

/** What a transaction pays per gas now (base fee and tip), from ethers' fee data; maxFeePerGas is only its cap. */
export const gasPriceOf = (fees: { gasPrice: bigint | null; maxFeePerGas: bigint | null }) =>
  fees.gasPrice ?? fees.maxFeePerGas ?? 0n;

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

export function reservationPrice(
  price: CircuitPrice,
  pricing: PricingSettings,
  proving: { seconds: number; source: ProvingSource },
  gasPrice: bigint,
): Reservation {
  const ms = BigInt(Math.ceil(proving.seconds * 1000));
  const provingCost = ceilDiv(ms * price.perProvingSecond, MS_PER_SECOND);
  const gasUnits = pricing.claimGas + pricing.submitGas;
  const gas =
    pricing.tokensPerEth === undefined ? 0n : ceilDiv(gasUnits * gasPrice * pricing.tokensPerEth, WEI_PER_ETH);
  const derived = provingCost + gas;
  return {
    price: derived > price.floor ? derived : price.floor,
    floor: price.floor,
    proving: provingCost,
    gas,
    provingSeconds: proving.seconds,
    provingSource: proving.source,
    perProvingSecond: price.perProvingSecond,
    gasUnits,
    gasPrice,
    tokensPerEth: pricing.tokensPerEth ?? null,
  };
}

/**
 * What a circuit earned per second of proving: the prices paid for its proofs over the seconds they took (token
 * base units per second, rounded down); null before any proof.
 */
export function earnedPerProvingSecond(earned: bigint, provingSeconds: number): bigint | null {
  if (provingSeconds <= 0) return null;
  return (earned * MS_PER_SECOND) / BigInt(Math.max(1, Math.round(provingSeconds * 1000)));
}
