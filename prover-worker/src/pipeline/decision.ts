/**
 * Decision: the one place that says whether the worker claims a job now, and if not, why. Every gate is here, in
 * the order they are checked: the job must be Open and not already in the worker's hands, not written off, not
 * waiting out a retry backoff, not seen claimed by someone else; its circuit served, its backend and verifiers in
 * service; its fee and bond within the policy; enough time to prove before the deadline with a margin; a free
 * proving slot and free stake for the bond. The reason (a stable code and a sentence) is what `status --job N` and
 * the debug log show.
 */
import type { JobView } from "../../../common/market/jobBook.ts";
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
  | "FEE_BELOW_MINIMUM"
  | "BOND_ABOVE_MAXIMUM"
  | "NOT_ENOUGH_TIME"
  | "NO_FREE_SLOT"
  | "NOT_ENOUGH_STAKE";

export type Decision =
  | { claim: true; code: "CLAIM"; reason: string; circuit: ServedCircuit }
  /** `final`: the job will never be claimed by this worker (it is written off, one line in the log). */
  | { claim: false; code: DecisionCode; reason: string; final: boolean };

/** What the decision looks at besides the job: the worker's state at this moment. */
export interface DecisionContext {
  config: Pick<WorkerConfig, "policy" | "slots">;
  circuits: readonly ServedCircuit[];
  /** Chain time (seconds). */
  now: number;
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
  if (job.terms.fee < policy.minFee)
    return no("FEE_BELOW_MINIMUM", `fee ${job.terms.fee} is below the policy's minimum ${policy.minFee}`);
  if (policy.maxBond !== undefined && job.terms.bond > policy.maxBond)
    return no("BOND_ABOVE_MAXIMUM", `bond ${job.terms.bond} is above the policy's maximum ${policy.maxBond}`, true);
  const windowEnd = Math.min(ctx.now + Number(job.terms.provingWindow), Number(job.terms.expiresAt));
  const needed = ctx.provingSeconds(circuit) + policy.safetyMarginSeconds;
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
