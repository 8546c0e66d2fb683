/**
 * Reconciliation (prover-worker/src/pipeline/reconciliation.ts) against a real claim store and a chain that answers
 * as scripted: a claim the worker held but thought lost is adopted and proved (its send failed but it landed; a
 * second claim of the job was refused because the first won); a claim still pending is left to land; a proof or an
 * abandon a reorg removed is taken up again; a job whose posting is gone drops its claim whatever it was; a circuit
 * no longer trusted gets the abandon, not the proof; a stale "not ours" mark is lifted when the chain says it is.
 * A held claim's deadline and locked price follow from the second it was claimed (the chain's jobState keeps that,
 * not the deadline) and the terms of its attempt.
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { JobView } from "../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import type { ServedCircuit } from "../../prover-worker/src/config.ts";
import { createMetrics } from "../../prover-worker/src/metrics.ts";
import { createReconciliation, RECHECK_SETTLED_MS } from "../../prover-worker/src/pipeline/reconciliation.ts";
import { type ClaimRecord, type ClaimStatus, openStore, type WorkerStore } from "../../prover-worker/src/store.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

const ME = "0x" + "aa".repeat(20);
const OTHER = "0x" + "bb".repeat(20);
const circuit = { circuitId: 3 } as ServedCircuit;

/** Every record's terms: a 300 s proving window, and a price ramp from 10 at second 4,500 to 20 at 4,600. */
const TERMS = {
  circuitId: 3n,
  provingWindow: 300n,
  expiresAt: 100_000n,
  minFee: 10n,
  maxFee: 20n,
  rampStart: 4_500n,
  rampDuration: 100n,
};
/** Claimed at second 4,700: the deadline is 5,000, the price locked the ramp's end, 20. */
const CLAIMED_AT = 4_700n;

type ChainState = { status: bigint; assignee: string; attempt: bigint; claimedAt: bigint };
const held = (attempt = 0n, claimedAt = CLAIMED_AT): ChainState => ({
  status: JOB_STATUS.Claimed,
  assignee: ME,
  attempt,
  claimedAt,
});
const open = (attempt = 0n): ChainState => ({ status: JOB_STATUS.Open, assignee: OTHER, attempt, claimedAt: 0n });
const gone: ChainState = { status: JOB_STATUS.None, assignee: "0x" + "00".repeat(20), attempt: 0n, claimedAt: 0n };
/** A proof clears the job's state: Proved, and nothing else (its JobProved event names the prover). */
const proved: ChainState = { ...gone, status: JOB_STATUS.Proved };

describe("worker reconciliation: the claim store against the chain", function () {
  let store: WorkerStore;
  let chain: Map<bigint, ChainState>;
  /** The prover each proved job's JobProved event names. */
  let provers: Map<bigint, string>;
  let pendingTxs: Set<string>;
  let working: Set<bigint>;
  let done: string[];
  let revoked: Map<bigint, string>;
  let distrusted: string | undefined;
  let clock: number;

  function reconciliation() {
    const { logger } = capturingLogger();
    return createReconciliation({
      me: ME,
      market: { jobState: async (id) => chain.get(id)! },
      provedBy: (id) => provers.get(id) ?? null,
      pending: async (hash) => pendingTxs.has(hash),
      store,
      metrics: createMetrics(),
      logger,
      working: (id) => working.has(id),
      revoke: (id, reason) => revoked.set(id, reason),
      unrevoke: (id) => revoked.delete(id),
      resume: (record, _c, deadline) => void done.push(`resume ${record.jobId} by ${deadline}`),
      abandon: (record, reason) => void done.push(`abandon ${record.jobId}: ${reason}`),
      circuitOf: () => circuit,
      distrusted: () => distrusted,
      now: () => clock,
    });
  }

  function record(jobId: bigint, status: ClaimStatus, txHash: string | null = null, attempt = 0n): void {
    const view = { jobId, attempt, terms: TERMS } as unknown as JobView;
    const r: ClaimRecord = { jobId, status, view, inputs: "{}", txHash, error: null };
    store.putClaim(r);
  }
  const statusOf = (jobId: bigint) => store.claim(jobId)!.status;

  beforeEach(function () {
    store = openStore(mkdtempSync(path.join(os.tmpdir(), "pm-reconcile-")));
    chain = new Map();
    provers = new Map();
    pendingTxs = new Set();
    working = new Set();
    done = [];
    revoked = new Map();
    distrusted = undefined;
    clock = Date.now();
  });

  afterEach(function () {
    store.close();
  });

  it("leaves a claim whose transaction is still pending to land, and adopts it once it has", async function () {
    record(1n, "claiming", "0xc1");
    chain.set(1n, open());
    pendingTxs.add("0xc1");
    const r = reconciliation();
    await r.periodically();
    expect([statusOf(1n), done]).to.deep.equal(["claiming", []]);

    // Mined: the chain shows it held; no task works on it, so one is started.
    pendingTxs.clear();
    chain.set(1n, held());
    await r.periodically();
    expect([statusOf(1n), done]).to.deep.equal(["claimed", ["resume 1 by 5000"]]);
  });

  it("drops a claim that is neither pending nor on the chain", async function () {
    record(2n, "claiming", "0xc2");
    chain.set(2n, open());
    await reconciliation().periodically();
    expect(statusOf(2n)).to.equal("lost");
    expect(store.claim(2n)!.error).to.equal("reconciliation: the chain shows the job as Open, attempt 0");
  });

  it("adopts a claim it recorded lost when discovery reads it on the chain (a send that failed but landed)", async function () {
    record(3n, "lost");
    chain.set(3n, held());
    const r = reconciliation();
    await r.ownClaimSeen(3n, 0n);
    expect([statusOf(3n), done]).to.deep.equal(["claimed", ["resume 3 by 5000"]]);
    // The price the claim locked, which its failed send never reported: the ramp's at the claim's second.
    expect(store.claim(3n)!.price).to.equal(20n);
    // A claim by its key for an attempt it has no record of is reported, not proved.
    await r.ownClaimSeen(3n, 1n);
    await r.ownClaimSeen(9n, 0n);
    expect(done).to.have.length(1);
  });

  it("takes up a proof or an abandon a reorg removed (recent records), and leaves older ones alone", async function () {
    record(4n, "proved");
    record(5n, "abandoned");
    chain.set(4n, held());
    chain.set(5n, held());
    const r = reconciliation();
    await r.periodically();
    expect(statusOf(4n)).to.equal("claimed");
    expect(statusOf(5n)).to.equal("claimed");
    expect(done).to.deep.equal(["resume 4 by 5000", "resume 5 by 5000"]);

    // Long settled: not read again.
    record(6n, "proved");
    chain.set(6n, held());
    clock += RECHECK_SETTLED_MS + 60_000;
    done = [];
    await r.periodically();
    expect([statusOf(6n), done]).to.deep.equal(["proved", []]);
  });

  it("a proved job's cleared state is settled by its JobProved event: the worker's own proof is proved, another prover's after a lapse is lost", async function () {
    record(20n, "submitting", "0xp20");
    record(21n, "claimed");
    chain.set(20n, proved);
    chain.set(21n, proved);
    // Checksummed, as ethers decodes an event's address: the comparison ignores case.
    provers.set(20n, "0x" + "AA".repeat(20));
    provers.set(21n, OTHER);
    await reconciliation().atStart();
    expect([statusOf(20n), statusOf(21n), done]).to.deep.equal(["proved", "lost", []]);

    expect(store.claim(21n)!.error).to.equal("not held after restart");

    // Proved on the chain before the worker's book has read the proof (a restart ahead of discovery): left as it is,
    // never taken for lost, and settled once the book has read it.
    record(23n, "submitting", "0xp23");
    chain.set(23n, proved);
    const r = reconciliation();
    await r.atStart();
    await r.periodically();
    expect(statusOf(23n)).to.equal("submitting");
    provers.set(23n, ME);
    await r.periodically();
    expect(statusOf(23n)).to.equal("proved");

    // A reorg that touched the job but left its proof on the chain keeps the record proved.
    record(22n, "proved");
    chain.set(22n, proved);
    provers.set(22n, ME);
    await reconciliation().afterReorg({
      fork: { number: 5, hash: "0x5" },
      removed: [],
      changed: [{ jobId: 22n } as JobView],
    });
    expect(statusOf(22n)).to.equal("proved");
  });

  it("keeps an abandon that the chain shows done (the job reopened for the next attempt)", async function () {
    record(7n, "abandoned");
    chain.set(7n, open(1n));
    await reconciliation().periodically();
    expect([statusOf(7n), done]).to.deep.equal(["abandoned", []]);
  });

  it("after a reorg: a job whose posting is gone drops its claim whatever it was, and stops a task working on it", async function () {
    record(8n, "proved");
    record(9n, "failed");
    chain.set(8n, gone);
    chain.set(9n, gone);
    working.add(8n);
    await reconciliation().afterReorg({ fork: { number: 10, hash: "0x10" }, removed: [8n, 9n], changed: [] });
    expect([statusOf(8n), statusOf(9n)]).to.deep.equal(["lost", "lost"]);
    expect(revoked.get(8n)).to.equal("reorg at block 10: the chain shows the job gone");
  });

  it("lifts a stale 'not ours' mark when the chain shows the claim held, without starting a second task", async function () {
    record(10n, "claimed");
    chain.set(10n, held());
    working.add(10n);
    revoked.set(10n, "reorg at block 3: the chain shows the job as Open, attempt 0");
    await reconciliation().afterReorg({ fork: { number: 3, hash: "0x3" }, removed: [], changed: [] });
    await reconciliation().afterReorg({
      fork: { number: 3, hash: "0x3" },
      removed: [],
      changed: [{ jobId: 10n } as JobView],
    });
    expect([revoked.has(10n), done]).to.deep.equal([false, []]);
  });

  it("at start, resumes a held claim by the deadline and with the price that follow from the claim's second", async function () {
    record(12n, "claimed");
    record(13n, "claiming", "0xc13");
    // Claimed halfway up the ramp: price 15, deadline 4,550 + 300.
    chain.set(12n, held(0n, 4_550n));
    // Claimed at 99,900: the window would end past the job's expiry, which is the deadline then.
    chain.set(13n, held(0n, 99_900n));
    await reconciliation().atStart();
    expect(done).to.deep.equal(["resume 12 by 4850", "resume 13 by 100000"]);
    expect([store.claim(12n)!.price, store.claim(13n)!.price]).to.deep.equal([15n, 20n]);
    expect([statusOf(12n), statusOf(13n)]).to.deep.equal(["claimed", "claimed"]);
  });

  it("after a reorg mines the claim again at another second, its locked price follows", async function () {
    record(14n, "claimed");
    store.setClaimStatus(14n, "claimed", { price: 20n });
    working.add(14n);
    const r = reconciliation();
    /** A reorg at `block` after which the chain shows the claim mined at `claimedAt`. */
    const remined = (block: number, claimedAt: bigint) => {
      chain.set(14n, held(0n, claimedAt));
      return r.afterReorg({
        fork: { number: block, hash: `0x${block}` },
        removed: [],
        changed: [{ jobId: 14n } as JobView],
      });
    };
    // Mined again halfway up the ramp, at 4,550: price 15 (deadline 4,850).
    await remined(5, 4_550n);
    expect(store.claim(14n)).to.include({ status: "claimed", price: 15n });
    // The task working on it keeps it: no second one is started.
    expect(done).to.deep.equal([]);
    // While submitting, the status stays and the price still follows.
    store.setClaimStatus(14n, "submitting");
    await remined(6, 4_560n);
    expect(store.claim(14n)).to.include({ status: "submitting", price: 16n });
  });

  it("at start, abandons a held claim whose circuit it no longer trusts instead of proving it", async function () {
    record(11n, "claimed");
    chain.set(11n, held());
    distrusted = "the verifier's code changed";
    await reconciliation().atStart();
    expect(done).to.deep.equal(["abandon 11: its circuit is out of service: the verifier's code changed"]);
  });
});
