/**
 * The worker's reaction to a refused submission (prover-worker/src/pipeline/refusal.ts), with the worker's actions
 * recorded: a verifier's refusal of a proof that verifies against the key abandons at once, takes the circuit out of
 * service and logs the evidence; a refusal without a name is the verifier's while the claim is live; any other
 * refusal abandons only a live claim, else records the claim failed. And the submission loop
 * (prover-worker/src/pipeline/submission.ts) with stand-in sends: any revert, named or not, ends it in that reaction
 * rather than in retries; other failures are retried until the deadline comes within the margin, then abandoned.
 */
import { expect } from "chai";
import { makeError } from "ethers";
import { isContractRevert } from "../../common/contracts/revert.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { resolveManifest, type ServedCircuit } from "../../prover-worker/src/config.ts";
import {
  isVerifierRefusal,
  reactToRefusedSubmission,
  type RefusalContext,
  UNKNOWN_REVERT,
} from "../../prover-worker/src/pipeline/refusal.ts";
import { type Submission, submitUntilSettled } from "../../prover-worker/src/pipeline/submission.ts";
import type { ClaimRecord } from "../../prover-worker/src/store.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

const PROVER = "0x" + "aa".repeat(20);
const VERIFIER = "0x" + "11".repeat(20);

const circuit = {
  circuitId: 4,
  system: "groth16",
  ...resolveManifest("poseidon_preimage", REPO_ROOT),
} as ServedCircuit;
/** A claim of a 500 s proving window: its deadline is the claim's second plus 500 (the job expires much later). */
const record = {
  jobId: 7n,
  status: "submitting",
  view: { terms: { provingWindow: 500n, expiresAt: 100_000n } },
} as ClaimRecord;

function recordingContext(state: { status: bigint; assignee: string; claimedAt: bigint } | Error, now = 1_000) {
  const done: string[] = [];
  const { logger, lines: logs } = capturingLogger();
  const ctx: RefusalContext = {
    prover: PROVER,
    market: { jobState: async () => (state instanceof Error ? Promise.reject(state) : state) },
    now: async () => now,
    abandon: async (r, reason) => void done.push(`abandon ${r.jobId}: ${reason}`),
    markFailed: (r, reason) => void done.push(`failed ${r.jobId}: ${reason}`),
    takeOutOfService: (c, reason, { jobId, txHash }) =>
      void done.push(`out of service ${c.circuitId}: ${reason} [job ${jobId}, tx ${txHash}]`),
    verifiersOf: () => ({ verifier: VERIFIER, batchVerifier: null }),
    logger,
  };
  return { ctx, done, logs };
}

/** Claimed at second 1,500 (deadline 2,000); the chain's time is 1,000. */
const live = { status: JOB_STATUS.Claimed, assignee: PROVER, claimedAt: 1_500n };
/** Claimed at second 499: its deadline, 999, has passed. */
const PAST_DEADLINE = 499n;

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
    expect(done).to.deep.equal([`out of service 4: ${reason} [job 7, tx 0xabc]`, `abandon 7: ${reason}`]);
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
      { ...live, claimedAt: PAST_DEADLINE },
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

  describe("a refusal without a name (no revert data, or a replay that did not revert)", function () {
    const unknown = { record, circuit, refusal: UNKNOWN_REVERT, txHash: "0xdef" };

    it("with the claim live: the verifier's doing, as for a named refusal: out of service, abandon at once, evidence", async function () {
      const { ctx, done, logs } = recordingContext(live);
      await reactToRefusedSubmission(unknown, ctx);
      const reason =
        "the market refused a proof that verifies against the verification key, without saying why " +
        "(unknown revert (no data)), while the claim was live";
      expect(done).to.deep.equal([`out of service 4: ${reason} [job 7, tx 0xdef]`, `abandon 7: ${reason}`]);
      expect(logs.find((l) => l.level === "error")!.fields).to.deep.include({ revert: UNKNOWN_REVERT, tx: "0xdef" });
    });

    it("with the claim over (past its deadline, reassigned): recorded failed, the circuit stays in service", async function () {
      for (const state of [
        { ...live, claimedAt: PAST_DEADLINE },
        { ...live, assignee: VERIFIER },
      ]) {
        const { ctx, done } = recordingContext(state);
        await reactToRefusedSubmission(unknown, ctx);
        expect(done).to.deep.equal([
          "failed 7: submission refused: unknown revert (no data), after the claim had ended",
        ]);
      }
    });

    it("when the job cannot be read: abandons, without taking the circuit out of service", async function () {
      const { ctx, done } = recordingContext(new Error("RPC down"));
      await reactToRefusedSubmission(unknown, ctx);
      expect(done).to.deep.equal(["abandon 7: submission refused: unknown revert (no data)"]);
    });
  });

  it("isContractRevert: a revert without data at estimation, a mined revert, a node refusing a reverting transaction; not an RPC failure", function () {
    // As ethers reports them from a local chain (a contract that reverts with no data).
    const estimated = makeError(
      "execution reverted (no data present; likely require(false) occurred",
      "CALL_EXCEPTION",
      {
        action: "estimateGas",
        data: "0x",
        reason: "require(false)",
        transaction: { to: VERIFIER, data: "0x12345678" },
        invocation: null,
        revert: null,
      },
    );
    const mined = Object.assign(new Error("transaction execution reverted"), { receipt: { status: 0, hash: "0x1" } });
    const coalesced = makeError("could not coalesce error", "UNKNOWN_ERROR", {
      error: { code: 3, message: "Transaction reverted without a reason string", data: "0x" },
    });
    for (const e of [estimated, mined, coalesced]) expect(isContractRevert(e), e.message).to.equal(true);
    const down = makeError("request timeout", "TIMEOUT", { operation: "eth_sendRawTransaction", reason: "timeout" });
    const refused = makeError("could not coalesce error", "UNKNOWN_ERROR", {
      error: { code: -32000, message: "nonce too low" },
    });
    for (const e of [down, refused, new Error("fetch failed")]) expect(isContractRevert(e), e.message).to.equal(false);
  });
});

describe("worker submission loop", function () {
  const DEADLINE = 1_000;

  /** A submission whose sends fail with `failures` in turn (then succeed), at chain times `times` in turn. */
  function submission(failures: unknown[], times: number[], overrides: Partial<Submission> = {}) {
    const done: string[] = [];
    const pauses: number[] = [];
    const { logger } = capturingLogger();
    let sends = 0;
    let clock = 0;
    const s: Submission = {
      deadline: DEADLINE,
      marginSeconds: 10,
      send: async () => {
        const failure = failures[sends++];
        if (failure !== undefined) throw failure;
        return { hash: `0x${sends}`, wait: async () => undefined };
      },
      sent: (hash) => void done.push(`sent ${hash}`),
      accepted: (hash) => void done.push(`accepted ${hash}`),
      // As explainRevert does: null for anything without revert data it can decode.
      refusalOf: async () => null,
      refused: async (refusal, txHash) => void done.push(`refused ${refusal} (tx ${txHash})`),
      abandon: async (reason) => void done.push(`abandon: ${reason}`),
      now: async () => times[Math.min(clock++, times.length - 1)],
      pause: async (ms) => void pauses.push(ms),
      logger,
      ...overrides,
    };
    return { s, done, pauses, sends: () => sends };
  }

  const rpcDown = () => makeError("request timeout", "TIMEOUT", { operation: "eth_estimateGas", reason: "timeout" });
  const noData = () =>
    makeError("execution reverted (no data present; likely require(false) occurred", "CALL_EXCEPTION", {
      action: "estimateGas",
      data: "0x",
      reason: "require(false)",
      transaction: { to: VERIFIER, data: "0x" },
      invocation: null,
      revert: null,
    });

  it("a revert it cannot decode is a refusal at once, not retried until the deadline", async function () {
    const { s, done, sends } = submission([noData()], [500]);
    await submitUntilSettled(s);
    expect(done).to.deep.equal([`refused ${UNKNOWN_REVERT} (tx null)`]);
    expect(sends()).to.equal(1);
  });

  it("a mined revert whose replay does not say why: a refusal with the transaction", async function () {
    const { s, done } = submission([], [500], {
      send: async () => ({
        hash: "0xmined",
        wait: async () => {
          throw Object.assign(new Error("transaction execution reverted"), { receipt: { status: 0, hash: "0xmined" } });
        },
      }),
    });
    await submitUntilSettled(s);
    expect(done).to.deep.equal(["sent 0xmined", `refused ${UNKNOWN_REVERT} (tx 0xmined)`]);
  });

  it("a decoded refusal goes through as decoded", async function () {
    const { s, done } = submission([noData()], [500], { refusalOf: async () => "InvalidProof(7)" });
    await submitUntilSettled(s);
    expect(done).to.deep.equal(["refused InvalidProof(7) (tx null)"]);
  });

  it("an undecodable revert on a live claim ends in the abandon, never the full slash", async function () {
    const { ctx, done } = recordingContext(live);
    const { s } = submission([noData()], [500], {
      refused: (refusal, txHash) => reactToRefusedSubmission({ record, circuit, refusal, txHash }, ctx),
    });
    await submitUntilSettled(s);
    expect(done.map((d) => d.split(":")[0])).to.deep.equal(["out of service 4", "abandon 7"]);
  });

  it("retries other failures, and abandons once the deadline is within the margin rather than letting it pass", async function () {
    const { s, done, pauses, sends } = submission(
      [rpcDown(), rpcDown(), rpcDown(), rpcDown()],
      [DEADLINE - 60, DEADLINE - 30, DEADLINE - 11, DEADLINE - 10, DEADLINE - 5],
    );
    await submitUntilSettled(s);
    expect(sends()).to.equal(4);
    expect(done).to.have.length(1);
    expect(done[0]).to.match(
      /^abandon: submission did not go through with 10 s left before the deadline: request timeout/,
    );
    // Never a pause past the margin: at 11 s left, 1 s until it (not the 1.5 s the third retry would wait).
    expect(pauses).to.deep.equal([500, 1_000, 1_000]);
  });

  it("a transient failure with time to spare is retried until the submission goes through", async function () {
    const { s, done } = submission([rpcDown(), rpcDown()], [DEADLINE - 100]);
    await submitUntilSettled(s);
    expect(done).to.deep.equal(["sent 0x3", "accepted 0x3"]);
  });

  it("when the chain time cannot be read, the machine's clock decides", async function () {
    const { s, done } = submission([rpcDown()], [], {
      deadline: Math.floor(Date.now() / 1000) + 3,
      now: async () => Promise.reject(new Error("RPC down")),
    });
    await submitUntilSettled(s);
    expect(done[0]).to.match(/^abandon: submission did not go through with \d s left/);
  });
});
