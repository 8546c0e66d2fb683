/**
 * Reconciliation: keeps the worker's claim store in agreement with the chain, so that it never forgets a claim it
 * holds (the whole bond would be slashed at the deadline) nor works on one it does not.
 *
 * It settles a claim record by what the chain shows for the job: proved by the worker; held by the worker at the
 * record's attempt (resumed, or abandoned if its circuit is no longer trusted, when no task works on it: a claim
 * whose send failed but landed, a proof or an abandon a reorg removed, a task that crashed); or not the worker's
 * (dropped, and a task working on it stopped before it sends anything more). A claim whose transaction the node
 * still has pending is left to land. It runs at start, after each reorg (for the jobs the reorg touched), when
 * discovery reads a claim of the worker's own that the store does not hold, and periodically for the records that
 * may still change.
 */
import { JOB_STATUS, jobStatusName } from "../../../common/market/jobStatus.ts";
import type { Logger } from "../../../common/log.ts";
import type { ServedCircuit } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import type { ClaimRecord, WorkerStore } from "../store.ts";
import { createBackoff } from "./backoff.ts";
import { type ChainJobState, claimTerms, heldBy } from "./claim.ts";
import type { ReorgNotice } from "./discovery.ts";

/** How long a proved or abandoned record is checked again: its transaction could still be removed by a reorg. */
export const RECHECK_SETTLED_MS = 15 * 60_000;

export interface ReconciliationContext {
  /** The worker's address, lower case. */
  me: string;
  market: { jobState(jobId: bigint): Promise<ChainJobState> };
  /**
   * The prover the job's JobProved event names, as the worker's book has read it; null while the book has not read it
   * yet. A proof clears the job's state slot, so a Proved job's state no longer says who proved it.
   */
  provedBy(jobId: bigint): string | null;
  /** Whether the node has the transaction and has not mined it. */
  pending(txHash: string): Promise<boolean>;
  store: WorkerStore;
  metrics: Metrics;
  logger: Logger;
  /** Whether a task works on the job now. */
  working(jobId: bigint): boolean;
  /** Tells a task working on the job that the claim is not the worker's (it sends nothing more); or that it is. */
  revoke(jobId: bigint, reason: string): void;
  unrevoke(jobId: bigint): void;
  /** Starts a task that proves and submits a held claim. */
  resume(record: ClaimRecord, circuit: ServedCircuit, deadline: number): void;
  /** Starts a task that abandons a held claim (its circuit is no longer trusted). */
  abandon(record: ClaimRecord, reason: string): void;
  circuitOf(circuitId: bigint): ServedCircuit | undefined;
  /** Why the circuit is out of service, if it is. */
  distrusted(circuitId: number): string | undefined;
  now?: () => number;
}

export function createReconciliation(ctx: ReconciliationContext) {
  /** Held claims resumed and found idle again: resumed again only after a backoff. */
  const resumes = createBackoff<bigint>({ initialMs: 5_000, maxMs: 120_000 });
  const now = ctx.now ?? Date.now;
  /** Claims of the worker's key it has no record of: reported once each. */
  const unknownReported = new Set<string>();

  /**
   * Marks a record the chain shows held as claimed, with the price its claim locked: both follow from the claim's
   * second and the terms of the record's attempt. The price is written whenever it differs from the record's: a
   * claim adopted after its send failed has none yet, and a reorg that mined the claim again in a block of another
   * second moved it (with the deadline).
   */
  function markHeld(record: ClaimRecord, state: ChainJobState): { record: ClaimRecord; deadline: number } {
    const { deadline, price } = claimTerms(record.view.terms, state.claimedAt);
    if (record.status !== "claimed" && record.status !== "submitting")
      ctx.store.setClaimStatus(record.jobId, "claimed", { error: null, price });
    else if (record.price !== price) {
      ctx.store.setClaimStatus(record.jobId, record.status, { price });
      if (record.price != null)
        ctx.logger.info("the claim's second moved (a reorg): its locked price follows", {
          jobId: record.jobId,
          was: record.price,
          price,
          deadline,
        });
    }
    return { record: { ...record, price }, deadline };
  }

  /** Starts work on a claim the chain shows held: proving it, or abandoning it if its circuit is distrusted. */
  function takeUp(record: ClaimRecord, deadline: number, why: string, message: string): void {
    const circuit = ctx.circuitOf(record.view.terms.circuitId);
    if (circuit === undefined) {
      ctx.logger.error("a held claim's circuit is not served: it cannot be proved", { jobId: record.jobId, why });
      return;
    }
    const distrusted = ctx.distrusted(circuit.circuitId);
    if (distrusted !== undefined) {
      // The worker no longer trusts the verifier that would check the proof: the smaller slash now rather than the
      // risk of the whole bond.
      ctx.logger.warn("abandoning a claim held at restart: the worker no longer trusts its circuit's verifier", {
        jobId: record.jobId,
        circuitId: circuit.circuitId,
      });
      ctx.abandon(record, `its circuit is out of service: ${distrusted}`);
      return;
    }
    ctx.logger.info(message, { jobId: record.jobId, deadline, why });
    ctx.resume({ ...record, status: "claimed" }, circuit, deadline);
  }

  /**
   * Who proved a job the chain shows Proved: "me", "other", or "unknown" while the book has not read its JobProved
   * event (a record is then left as it is, for a later pass: a proof is never taken for a lost claim).
   */
  function proofOf(jobId: bigint): "me" | "other" | "unknown" {
    const prover = ctx.provedBy(jobId);
    if (prover === null) return "unknown";
    return prover.toLowerCase() === ctx.me ? "me" : "other";
  }

  async function settle(record: ClaimRecord, why: string): Promise<void> {
    const state = await ctx.market.jobState(record.jobId);
    const proof = state.status === JOB_STATUS.Proved ? proofOf(record.jobId) : null;
    if (proof === "unknown") return;
    if (proof === "me") {
      ctx.unrevoke(record.jobId);
      if (record.status !== "proved") ctx.store.setClaimStatus(record.jobId, "proved", { error: null });
      return;
    }
    if (heldBy(state, ctx.me, record.view.attempt)) {
      ctx.unrevoke(record.jobId);
      const held = markHeld(record, state);
      if (ctx.working(record.jobId) || !resumes.ready(record.jobId)) return;
      resumes.failed(record.jobId);
      takeUp(held.record, held.deadline, why, "resuming a held claim no task was working on");
      return;
    }
    // Not the worker's at this attempt. A claim still pending may land yet; a settled refusal stays as it is.
    if (state.status !== JOB_STATUS.None) {
      if (record.status === "claiming" && record.txHash !== null && (await ctx.pending(record.txHash))) return;
      if (record.status === "lost" || record.status === "abandoned" || record.status === "failed") return;
    } else if (record.status === "lost") return;
    const onChain =
      state.status === JOB_STATUS.None
        ? "gone"
        : proof === "other"
          ? "proved by another prover"
          : `as ${jobStatusName(state.status)}, attempt ${state.attempt}`;
    const reason = `${why}: the chain shows the job ${onChain}`;
    if (ctx.working(record.jobId)) ctx.revoke(record.jobId, reason);
    ctx.store.setClaimStatus(record.jobId, "lost", { error: reason });
    ctx.metrics.claimsDropped.inc({ why: why.startsWith("reorg") ? "reorg" : "reconcile" });
    ctx.logger.warn("claim dropped: not the worker's on chain", {
      jobId: record.jobId,
      previously: record.status,
      reason,
    });
  }

  return {
    /** After a restart: every claim the store holds, as the chain now sees it. */
    async atStart(): Promise<void> {
      for (const record of ctx.store.claims(["claiming", "claimed", "submitting"])) {
        const state = await ctx.market.jobState(record.jobId);
        const proof = state.status === JOB_STATUS.Proved ? proofOf(record.jobId) : null;
        if (heldBy(state, ctx.me, record.view.attempt)) {
          const held = markHeld({ ...record, status: "claiming" }, state);
          takeUp(held.record, held.deadline, "restart", "resuming claim after restart");
        } else if (proof === "me") {
          ctx.store.setClaimStatus(record.jobId, "proved");
        } else if (proof === "unknown") {
          // Proved, but not read yet by the book: reconciliation settles it once discovery has.
        } else if (record.status === "claiming" && record.txHash !== null && (await ctx.pending(record.txHash))) {
          ctx.logger.info("a claim sent before the restart is still pending", { jobId: record.jobId });
        } else {
          ctx.store.setClaimStatus(record.jobId, "lost", { error: "not held after restart" });
        }
      }
    },

    /** After a reorg: every record of a job it touched, whatever its status. */
    async afterReorg(notice: ReorgNotice): Promise<void> {
      const affected = new Set([...notice.removed, ...notice.changed.map((v) => v.jobId)]);
      for (const record of ctx.store.claims())
        if (affected.has(record.jobId)) await settle(record, `reorg at block ${notice.fork.number}`);
    },

    /** Discovery read a claim by the worker's key: if the store does not hold it, it is adopted. */
    async ownClaimSeen(jobId: bigint, attempt: bigint): Promise<void> {
      const record = ctx.store.claim(jobId);
      if (record === null || record.view.attempt !== attempt) {
        const key = `${jobId}:${attempt}`;
        if (!unknownReported.has(key)) {
          unknownReported.add(key);
          ctx.logger.error(
            "a claim by this worker's key that it has no record of (another process with the same key?): not proved here",
            { jobId, attempt },
          );
        }
        return;
      }
      if (record.status === "claimed" || record.status === "submitting" || ctx.working(jobId)) return;
      await settle(record, "own claim read on chain");
    },

    /** Periodically: held records no task works on, and recently settled ones a reorg could still undo. */
    async periodically(): Promise<void> {
      for (const record of ctx.store.claims()) {
        const open = record.status === "claiming" || record.status === "claimed" || record.status === "submitting";
        const recent =
          (record.status === "proved" || record.status === "abandoned") &&
          now() - (record.updatedAt ?? 0) < RECHECK_SETTLED_MS;
        if ((open && !ctx.working(record.jobId)) || recent) await settle(record, "reconciliation");
      }
    },
  };
}
export type Reconciliation = ReturnType<typeof createReconciliation>;
