/**
 * The worker's reaction to a refused submission (prover-worker/src/pipeline/refusal.ts), with the worker's actions
 * recorded: a verifier's refusal of a proof that verifies against the key abandons at once, takes the circuit out of
 * service and logs the evidence; any other refusal abandons only a live claim, else records the claim failed.
 */
import { expect } from "chai";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { resolveManifest, type ServedCircuit } from "../../prover-worker/src/config.ts";
import {
  isVerifierRefusal,
  reactToRefusedSubmission,
  type RefusalContext,
} from "../../prover-worker/src/pipeline/refusal.ts";
import type { ClaimRecord } from "../../prover-worker/src/store.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

const PROVER = "0x" + "aa".repeat(20);
const VERIFIER = "0x" + "11".repeat(20);

const circuit = {
  circuitId: 4,
  system: "groth16",
  ...resolveManifest("poseidon_preimage", REPO_ROOT),
} as ServedCircuit;
const record = { jobId: 7n, status: "submitting" } as ClaimRecord;

function recordingContext(state: { status: bigint; assignee: string; deadline: bigint } | Error, now = 1_000) {
  const done: string[] = [];
  const { logger, lines: logs } = capturingLogger();
  const ctx: RefusalContext = {
    prover: PROVER,
    market: { jobState: async () => (state instanceof Error ? Promise.reject(state) : state) },
    now: async () => now,
    abandon: async (r, reason) => void done.push(`abandon ${r.jobId}: ${reason}`),
    markFailed: (r, reason) => void done.push(`failed ${r.jobId}: ${reason}`),
    takeOutOfService: (c, reason) => void done.push(`out of service ${c.circuitId}: ${reason}`),
    verifiersOf: () => ({ verifier: VERIFIER, batchVerifier: null }),
    logger,
  };
  return { ctx, done, logs };
}

const live = { status: JOB_STATUS.Claimed, assignee: PROVER, deadline: 2_000n };

describe("worker reaction to a refused submission", function () {
  it("tells the verifier's refusals from the others", function () {
    for (const r of ["InvalidProof(7)", "InvalidBatchProof()", `VerifierCodeChanged(4, ${VERIFIER}, 0x01, 0x02)`])
      expect(isVerifierRefusal(r), r).to.equal(true);
    for (const r of [
      "ClaimExpired(7, 5)",
      "NotAssignee(7, 0x1, 0x2)",
      "WrongStatus(7, 2)",
      "PublicInputsMismatch(7, 0x1, 0x2)",
    ])
      expect(isVerifierRefusal(r), r).to.equal(false);
  });

  it("a verifier's refusal: out of service, abandon at once (even before reading the job), evidence at error level", async function () {
    const { ctx, done, logs } = recordingContext(new Error("not asked"));
    await reactToRefusedSubmission({ record, circuit, refusal: "InvalidProof(7)", txHash: "0xabc" }, ctx);
    const reason = "the circuit's verifier refused a proof that verifies against the verification key: InvalidProof(7)";
    expect(done).to.deep.equal([`out of service 4: ${reason}`, `abandon 7: ${reason}`]);
    const evidence = logs.find((l) => l.level === "error")!;
    expect(evidence.msg).to.contain("verifier refused a valid proof");
    expect(evidence.fields).to.deep.include({
      circuit: "poseidon_preimage/groth16",
      verifier: VERIFIER,
      batchVerifier: null,
      revert: "InvalidProof(7)",
      tx: "0xabc",
    });
  });

  it("another refusal with the claim still live: abandons, the circuit stays in service", async function () {
    const { ctx, done } = recordingContext(live);
    await reactToRefusedSubmission(
      { record, circuit, refusal: "PublicInputsMismatch(7, 0x1, 0x2)", txHash: null },
      ctx,
    );
    expect(done).to.deep.equal(["abandon 7: submission refused: PublicInputsMismatch(7, 0x1, 0x2)"]);
  });

  it("another refusal with the claim no longer live (expired, not ours, not Claimed): recorded failed", async function () {
    for (const state of [
      { ...live, deadline: 999n },
      { ...live, assignee: VERIFIER },
      { ...live, status: JOB_STATUS.Proved },
    ]) {
      const { ctx, done } = recordingContext(state);
      await reactToRefusedSubmission({ record, circuit, refusal: "ClaimExpired(7, 999)", txHash: null }, ctx);
      expect(done).to.deep.equal(["failed 7: submission refused: ClaimExpired(7, 999)"]);
    }
  });

  it("another refusal when the job cannot be read: tries to abandon (abandon records its own failure)", async function () {
    const { ctx, done } = recordingContext(new Error("RPC down"));
    await reactToRefusedSubmission({ record, circuit, refusal: "WrongStatus(7, 0)", txHash: null }, ctx);
    expect(done).to.deep.equal(["abandon 7: submission refused: WrongStatus(7, 0)"]);
  });
});
