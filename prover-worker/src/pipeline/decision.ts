/**
 * Decision: the one place that says whether the worker claims a job now, and if not, why. Every gate is here, in
 * the order they are checked: the job must be Open and not already in the worker's hands, not written off, not
 * waiting out a retry backoff, not seen claimed by someone else; its circuit served, its backend and verifiers in
 * service; its bond within the policy; its price, in the block the claim can first land in, at least the worker's
 * reservation price for the circuit (pricing.ts); enough time to prove before the deadline with a margin; a free
 * proving slot and free stake for the bond. The reason (a stable code and a sentence) is what `status --job N` and
 * the debug log show. It is pure: the chain's time and the reservation prices come in the context.
 *
 * The price gate comes before the time, slot and stake gates: a job whose price has not reached the reservation
 * says when it will (`crossesAt`), and the scheduler wakes then (pipeline/crossing.ts); at that moment the other
 * gates are checked again, so a worker without a free slot or free stake lets the next cheapest prover take it.
 * Only the time is looked at ahead: a job whose crossing would leave too little time to prove (the deadline of a
 * claim at that second, or its expiry) is NOT_ENOUGH_TIME at once, since waiting gives it no more.
 */
import type { JobView } from "../../../common/market/jobBook.ts";
import { deadlineFrom, firstSecondAtPrice, priceAt } from "../../../common/market/price.ts";
import type { ServedCircuit, WorkerConfig } from "../config.ts";

export type DecisionCode =
  | "STOPPING"
  | "NOT_OPEN"
  | "IN_FLIGHT"
  | "HELD"
  | "SKIPPED"
  | "CLAIM_SEEN"
  | "RETRY_LATER"
  | "NOT_SERVED"
  | "BACKEND_OUT_OF_SERVICE"
  | "CIRCUIT_OUT_OF_SERVICE"
  | "BOND_ABOVE_MAXIMUM"
  | "PRICE_NEVER_REACHES_RESERVATION"
  | "PRICE_BELOW_RESERVATION"
  | "NOT_ENOUGH_TIME"
  | "NO_FREE_SLOT"
  | "NOT_ENOUGH_STAKE";

export type Decision =
  | { claim: true; code: "CLAIM"; reason: string; circuit: ServedCircuit }
  /** `final`: the job will never be claimed by this worker (it is written off, one line in the log).
   *  `crossesAt` (PRICE_BELOW_RESERVATION): the chain second from which the job's price is the reservation's. */
  | { claim: false; code: DecisionCode; reason: string; final: boolean; crossesAt?: number };

/** What the decision looks at besides the job: the worker's state at this moment. */
export interface DecisionContext {
  config: Pick<WorkerConfig, "policy" | "slots">;
  circuits: readonly ServedCircuit[];
  /** Chain time (seconds): the latest block's timestamp. */
  now: number;
  /**
   * The earliest timestamp the block of a claim sent now can have (pipeline/crossing.ts): the price the claim would
   * lock is at least the job's price at this second, since a price never falls.
   */
  claimAt: number;
  /** The least the worker takes for a job of the circuit (pricing.ts), in token base units. */
  reservation(circuit: ServedCircuit): bigint;
  /** Whether the worker takes new claims at all (false while it stops). */
  claiming: boolean;
  freeStake: bigint;
  freeSlots: number;
  provingSeconds(circuit: ServedCircuit): number;
  inFlight(jobId: bigint): boolean;
  /** Whether the worker holds (or is claiming) this attempt of the job. */
  held(job: JobView): boolean;
  /** Why the job was written off earlier, if it was. */
  skipped(jobId: bigint): string | null;
  /** A claim for the job was seen on the log subscription, before the job book read it. */
  claimSeen(jobId: bigint): boolean;
  /** Milliseconds until a failed preflight may be retried (0 or less: now). */
  retryInMs(jobId: bigint): number;
  backendOutOfService(backend: string): string | undefined;
  circuitOutOfService(circuitId: number): string | undefined;
}

const no = (code: DecisionCode, reason: string, final = false): Decision => ({ claim: false, code, reason, final });

export function decide(job: JobView, ctx: DecisionContext): Decision {
  if (!ctx.claiming) return no("STOPPING", "the worker is stopping: no new claims");
  if (job.status !== "Open") return no("NOT_OPEN", `the job is ${job.status}`);
  if (ctx.inFlight(job.jobId)) return no("IN_FLIGHT", "the worker is already working on this job");
  if (ctx.held(job)) return no("HELD", `the worker holds attempt ${job.attempt} of this job`);
  const skipped = ctx.skipped(job.jobId);
  if (skipped !== null) return no("SKIPPED", `written off earlier: ${skipped}`);
  if (ctx.claimSeen(job.jobId)) return no("CLAIM_SEEN", "another prover's claim of this job was just seen");
  const wait = ctx.retryInMs(job.jobId);
  if (wait > 0) return no("RETRY_LATER", `its preflight failed; next try in ${Math.ceil(wait / 1000)} s`);
  const circuit = ctx.circuits.find((c) => BigInt(c.circuitId) === job.terms.circuitId);
  if (circuit === undefined) return no("NOT_SERVED", `circuit ${job.terms.circuitId} is not served`, true);
  const backendDown = ctx.backendOutOfService(circuit.backend);
  if (backendDown !== undefined)
    return no("BACKEND_OUT_OF_SERVICE", `backend ${circuit.backend} is out of service: ${backendDown}`);
  const circuitDown = ctx.circuitOutOfService(circuit.circuitId);
  if (circuitDown !== undefined)
    return no("CIRCUIT_OUT_OF_SERVICE", `circuit ${circuit.circuitId} is out of service: ${circuitDown}`);
  const { policy } = ctx.config;
  if (policy.maxBond !== undefined && job.terms.bond > policy.maxBond)
    return no("BOND_ABOVE_MAXIMUM", `bond ${job.terms.bond} is above the policy's maximum ${policy.maxBond}`, true);
  const reservation = ctx.reservation(circuit);
  const price = priceAt(job.terms, BigInt(ctx.claimAt));
  const needed = ctx.provingSeconds(circuit) + policy.safetyMarginSeconds;
  if (price < reservation) {
    const crossesAt = firstSecondAtPrice(job.terms, reservation);
    // Not final: a reassignment reopens the job with its ramp restarted and raised by the reward share, and the
    // reservation moves with the gas price and the proving time.
    if (crossesAt === null)
      return no(
        "PRICE_NEVER_REACHES_RESERVATION",
        `its price rises to ${job.terms.maxFee} at most, below this worker's reservation price ${reservation}`,
      );
    // A claim at the crossing would get the deadline of that second, and a later one no more time: if that is too
    // little (or the job expires first: a claim needs a block before its expiry), the crossing is not waited for
    // (nor the job preflighted ahead). NOT_ENOUGH_TIME rather than PRICE_NEVER_REACHES_RESERVATION: the price does
    // reach the reservation; the time is what is missing.
    const left = deadlineFrom(job.terms, crossesAt) - crossesAt;
    if (crossesAt >= job.terms.expiresAt || Number(left) < needed)
      return no(
        "NOT_ENOUGH_TIME",
        `its price reaches this worker's reservation price ${reservation} at second ${crossesAt}, ` +
          `${left > 0n ? left : 0n} s before the deadline; ${Math.ceil(needed)} s needed (proving and margin)`,
      );
    return {
      claim: false,
      code: "PRICE_BELOW_RESERVATION",
      reason:
        `price ${price} (at second ${ctx.claimAt}) is below this worker's reservation price ${reservation}; ` +
        `it reaches it at second ${crossesAt}, in ${crossesAt - BigInt(ctx.claimAt)} s`,
      final: false,
      crossesAt: Number(crossesAt),
    };
  }
  const windowEnd = Math.min(ctx.now + Number(job.terms.provingWindow), Number(job.terms.expiresAt));
  if (windowEnd - ctx.now < needed)
    return no(
      "NOT_ENOUGH_TIME",
      `${Math.max(0, windowEnd - ctx.now)} s to the deadline, ${Math.ceil(needed)} s needed (proving and margin)`,
    );
  if (ctx.freeSlots <= 0) return no("NO_FREE_SLOT", `all ${ctx.config.slots} proving slots are busy`);
  if (ctx.freeStake < job.terms.bond)
    return no("NOT_ENOUGH_STAKE", `free stake ${ctx.freeStake} is less than the bond ${job.terms.bond}`);
  return { claim: true, code: "CLAIM", reason: "all gates passed", circuit };
}
