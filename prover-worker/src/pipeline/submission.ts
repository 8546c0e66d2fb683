/**
 * Submitting a checked proof until it is settled: accepted; refused by the contract (final, named or not: refusal.ts
 * reacts); or, when it keeps failing for other reasons (RPC down, a dropped transaction), retried until the deadline
 * comes within the margin an abandon needs to be mined, and then abandoned for the smaller slash rather than left to
 * expire for the whole bond.
 */
import { isContractRevert } from "../../../common/contracts/revert.ts";
import type { Logger } from "../../../common/log.ts";
import { UNKNOWN_REVERT } from "./refusal.ts";

/** The least time, in seconds, kept before the deadline for an abandon to be mined, whatever the policy's margin. */
export const MIN_ABANDON_SECONDS = 5;

export interface Submission {
  /** The claim's deadline (chain time, seconds). */
  deadline: number;
  /** Once the chain time is this close to the deadline, a submission that has not gone through is abandoned. */
  marginSeconds: number;
  /** Sends the submission; resolves when the node has it. */
  send(): Promise<{ hash: string; wait(): Promise<unknown> }>;
  sent(txHash: string): void;
  accepted(txHash: string): void;
  /** The contract's refusal decoded (common/contracts/revert.ts's explainRevert), or null. */
  refusalOf(error: unknown): Promise<string | null>;
  /** The contract refused the submission: `refusal` is decoded, or UNKNOWN_REVERT. */
  refused(refusal: string, txHash: string | null): Promise<void>;
  abandon(reason: string): Promise<void>;
  now(): Promise<number>;
  /** Waits between attempts (setTimeout by default). */
  pause?(ms: number): Promise<void>;
  logger: Logger;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function submitUntilSettled(s: Submission): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let txHash: string | null = null;
    try {
      const tx = await s.send();
      txHash = tx.hash;
      s.sent(tx.hash);
      await tx.wait();
      s.accepted(tx.hash);
      return;
    } catch (e) {
      // A revert is final, even one the worker cannot name: retrying would only meet it again until the deadline.
      const refusal = (await s.refusalOf(e)) ?? (isContractRevert(e) ? UNKNOWN_REVERT : null);
      if (refusal !== null) return s.refused(refusal, txHash);
      const reason = (e as Error).message;
      const chainNow = await s.now().catch(() => Math.floor(Date.now() / 1000));
      const secondsLeft = s.deadline - chainNow;
      if (secondsLeft <= s.marginSeconds) {
        s.logger.error("submission did not go through and the deadline is near: abandoning for the smaller slash", {
          reason,
          attempt,
          secondsLeft,
        });
        return s.abandon(`submission did not go through with ${secondsLeft} s left before the deadline: ${reason}`);
      }
      s.logger.warn("submission did not go through; retrying", { reason, attempt });
      await (s.pause ?? sleep)(Math.min(5_000, 500 * attempt, Math.max(0, (secondsLeft - s.marginSeconds) * 1000)));
    }
  }
}
