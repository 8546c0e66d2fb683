/**
 * The worker's store as discovery and reconciliation use it (prover-worker/src/store.ts): a range saved with its
 * events, blocks and cursor together; a rewind that folds each touched job again from the events that remain and
 * forgets a job whose posting is gone (with what was said about it); a reset that makes discovery read from the
 * start again, keeping the claims; the last decision per job, written when it changes; the price each claim locked
 * and its proving seconds (a store from before them migrated, its claims' prices their fixed fees); the reservation
 * prices and the chain clock's offset the worker last used.
 */
import Database from "better-sqlite3";
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JobBook, type JobView } from "../../common/market/jobBook.ts";
import { MEASURED_GAS, reservationPrice } from "../../prover-worker/src/pricing.ts";
import { openStore, type StoredEvent, type WorkerStore } from "../../prover-worker/src/store.ts";

const posted = (jobId: bigint, block: number): StoredEvent => ({
  name: "JobPosted",
  args: {
    jobId,
    circuitId: 1n,
    requester: "0x" + "cc".repeat(20),
    minFee: 3n,
    maxFee: 3n,
    rampStart: 0n,
    rampDuration: 0n,
    bond: 2n,
    provingWindow: 30n,
    expiresAt: 10_000n,
    inputsCommitment: "0x00",
    inputsHash: "0x00",
    inputsURI: "data:,",
  },
  blockNumber: block,
  timestamp: 0,
  logIndex: 0,
});
const claimed = (jobId: bigint, block: number): StoredEvent => ({
  name: "JobClaimed",
  args: { jobId, prover: "0x" + "aa".repeat(20), attempt: 0n, deadline: 500n, bond: 2n, price: 3n },
  blockNumber: block,
  timestamp: 0,
  logIndex: 0,
});
const refold = (jobId: bigint, events: StoredEvent[]): JobView | null => {
  const book = new JobBook();
  book.apply(events);
  return book.jobs.get(jobId) ?? null;
};

describe("worker store: the job book's events, rewinds and decisions", function () {
  let store: WorkerStore;
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "pm-store-"));
    store = openStore(dir);
  });

  afterEach(function () {
    store.close();
  });

  function save(events: StoredEvent[], block: number): void {
    const book = new JobBook();
    for (const view of store.loadBook()) book.jobs.set(view.jobId, view);
    store.saveRange({ number: block, hash: `0x${block}` }, events, book.apply(events), [
      { number: block, hash: `0x${block}` },
    ]);
  }

  it("rewinds to a fork: a claim above it is undone, a job posted above it is forgotten with its decision and skip", async function () {
    save([posted(1n, 10)], 10);
    save([claimed(1n, 12), { ...posted(2n, 12), logIndex: 1 }], 12);
    store.putDecision(2n, { code: "NOT_ENOUGH_TIME", reason: "1 s to the deadline" });
    store.recordSkip(2n, "inputs unavailable");
    expect(store.loadBook().map((j) => [j.jobId, j.status])).to.deep.equal([
      [1n, "Claimed"],
      [2n, "Open"],
    ]);
    expect(store.keptBlocks().map((b) => b.number)).to.deep.equal([12, 10]);

    const { changed, removed } = store.rewind({ number: 10, hash: "0x10" }, refold);
    expect(changed.map((j) => [j.jobId, j.status])).to.deep.equal([[1n, "Open"]]);
    expect(removed).to.deep.equal([2n]);
    expect(store.loadBook().map((j) => [j.jobId, j.status])).to.deep.equal([[1n, "Open"]]);
    expect([store.decision(2n), store.skipped(2n)]).to.deep.equal([null, null]);
    expect(store.cursor()).to.deep.equal({ number: 10, hash: "0x10" });
    expect(store.keptBlocks().map((b) => b.number)).to.deep.equal([10]);
  });

  it("resets the book, its events, blocks and cursor, keeping the claims", async function () {
    save([posted(1n, 10)], 10);
    const view = store.loadBook()[0];
    store.putClaim({ jobId: 1n, status: "claimed", view, inputs: "{}", txHash: null, error: null });
    store.resetChainState();
    expect([store.loadBook(), store.keptBlocks(), store.cursor()]).to.deep.equal([[], [], null]);
    expect(store.claim(1n)?.status).to.equal("claimed");
  });

  it("keeps a decision's first wording and time while its code stays, and replaces it when the code changes", async function () {
    store.putDecision(5n, { code: "NOT_ENOUGH_TIME", reason: "20 s to the deadline, 25 s needed" });
    const first = store.decision(5n)!;
    store.putDecision(5n, { code: "NOT_ENOUGH_TIME", reason: "19 s to the deadline, 25 s needed" });
    expect(store.decision(5n)).to.deep.equal(first);
    store.putDecision(5n, { code: "NO_FREE_SLOT", reason: "all 2 proving slots are busy" });
    expect(store.decision(5n)).to.include({ code: "NO_FREE_SLOT", reason: "all 2 proving slots are busy" });
  });

  it("keeps the price each claim locked and, once proved, its proving seconds, across a reopening", async function () {
    save([posted(1n, 10)], 10);
    const view = store.loadBook()[0];
    store.putClaim({ jobId: 1n, status: "claiming", view, inputs: "{}", txHash: null, error: null });
    expect(store.claim(1n)).to.include({ price: null, provingSeconds: null });
    store.setClaimStatus(1n, "claimed", { price: 2_500_000_000_000_000_123n });
    store.setClaimStatus(1n, "proved", { provingSeconds: 1.25 });
    store.close();
    store = openStore(dir);
    expect(store.claim(1n)).to.include({ status: "proved", price: 2_500_000_000_000_000_123n, provingSeconds: 1.25 });
  });

  it("migrates a store from before prices: its claims' prices are their jobs' fixed fees", async function () {
    store.close();
    const old = mkdtempSync(path.join(os.tmpdir(), "pm-store-old-"));
    const db = new Database(path.join(old, "worker.sqlite"));
    // The claims table as it was, and a record of a job with a fixed fee (its view encoded as the store did).
    db.exec(`CREATE TABLE claims (
      job_id TEXT PRIMARY KEY, status TEXT NOT NULL, view TEXT NOT NULL, inputs TEXT NOT NULL,
      tx_hash TEXT, error TEXT, updated_at INTEGER NOT NULL)`);
    const view = JSON.stringify({ jobId: "4n", attempt: "0n", terms: { circuitId: "1n", fee: "3000n", bond: "2n" } });
    db.prepare("INSERT INTO claims VALUES ('4', 'proved', ?, '{}', NULL, NULL, 1)").run(view);
    db.close();
    store = openStore(old);
    expect(store.claim(4n)).to.include({ status: "proved", price: 3000n, provingSeconds: null });
    // Opened again: nothing to migrate, nothing changed.
    store.close();
    store = openStore(old);
    expect(store.claim(4n)!.price).to.equal(3000n);
  });

  it("keeps each circuit's reservation price as last used, and the chain clock's offset", async function () {
    expect([store.reservations(), store.chainOffset()]).to.deep.equal([[], null]);
    const pricing = { tokensPerEth: 2000n * 10n ** 18n, claimGas: MEASURED_GAS.claim, submitGas: MEASURED_GAS.submit };
    const r = reservationPrice({ floor: 5n, perProvingSecond: 7n }, pricing, { seconds: 2, source: "bench" }, 3n);
    store.putReservation({ ...r, circuitId: 2, at: 1000 });
    store.putReservation({ ...r, price: 9n, circuitId: 2, at: 2000 });
    store.putReservation({ ...r, circuitId: 1, at: 3000 });
    expect(store.reservations().map((x) => [x.circuitId, x.price, x.at])).to.deep.equal([
      [1, r.price, 3000],
      [2, 9n, 2000],
    ]);
    expect(store.reservations()[0]).to.deep.equal({ ...r, circuitId: 1, at: 3000 });
    store.putChainOffset(-2_345.6);
    expect(store.chainOffset()).to.equal(-2_346);
  });
});
