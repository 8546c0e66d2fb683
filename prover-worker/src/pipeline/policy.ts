/**
 * Evaluator: which Open jobs this worker should claim. It serves only its configured circuits, wants a fee and
 * bond within its policy, enough time to prove before the deadline with a margin, a free slot and free stake.
 */
import type { JobView } from "../../../common/market/jobBook.ts";
import type { ServedCircuit, WorkerConfig } from "../config.ts";

export type Verdict = { claim: true; circuit: ServedCircuit } | { claim: false; reason: string; final: boolean };

export function evaluate(
  job: JobView,
  ctx: {
    config: WorkerConfig;
    circuits: ServedCircuit[];
    now: number;
    freeStake: bigint;
    freeSlots: number;
    provingSeconds: (c: ServedCircuit) => number;
  },
): Verdict {
  const circuit = ctx.circuits.find((c) => BigInt(c.circuitId) === job.terms.circuitId);
  if (circuit === undefined) return { claim: false, reason: "circuit not served", final: true };
  const { policy } = ctx.config;
  if (job.terms.fee < policy.minFee) return { claim: false, reason: "fee below policy minimum", final: false };
  if (policy.maxBond !== undefined && job.terms.bond > policy.maxBond)
    return { claim: false, reason: "bond above policy maximum", final: true };
  const windowEnd = Math.min(ctx.now + Number(job.terms.provingWindow), Number(job.terms.expiresAt));
  const needed = ctx.provingSeconds(circuit) + policy.safetyMarginSeconds;
  if (windowEnd - ctx.now < needed)
    return { claim: false, reason: "not enough time to prove before the deadline", final: false };
  if (ctx.freeSlots <= 0) return { claim: false, reason: "no free proving slot", final: false };
  if (ctx.freeStake < job.terms.bond)
    return { claim: false, reason: "not enough free stake for the bond", final: false };
  return { claim: true, circuit };
}
