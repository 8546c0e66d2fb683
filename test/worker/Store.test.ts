/**
 * The worker's store as discovery and reconciliation use it (prover-worker/src/store.ts): a range saved with its
 * events, blocks and cursor together; a rewind that folds each touched job again from the events that remain and
 * forgets a job whose posting is gone (with what was said about it); a reset that makes discovery read from the
 * start again, keeping the claims; the last decision per job, written when it changes; the price each claim locked
 * and its proving seconds (a store from before them migrated, its claims' prices their fixed fees); a job book of
 * fixed fees read again from the start (the claims it held lost, with why); the reservation prices, the chain
 * clock's offset and what is known of the chain's block timestamps, as the worker last used them.
 */
import Database from "better-sqlite3";
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JobBook, type JobView } from "../../common/market/jobBook.ts";
import { priceAt } from "../../common/market/price.ts";
import { MEASURED_GAS, reservationPrice } from "../../prover-worker/src/pricing.ts";
import { openStore, type StoredEvent, type WorkerStore } from "../../prover-worker/src/store.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

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

  it("reads a job book of fixed fees again from the start: old-shape claims keep their record, held ones are lost", async function () {
    store.close();
    const old = mkdtempSync(path.join(os.tmpdir(), "pm-store-fee-"));
    const db = new Database(path.join(old, "worker.sqlite"));
    // The store as the fixed-fee worker left it: its tables, a checkpoint, a job, its event, a block, and claims
    // whose views have a `fee` (and no price column: that migration comes first and reads the fee).
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE jobs (job_id TEXT PRIMARY KEY, view TEXT NOT NULL);
      CREATE TABLE claims (
        job_id TEXT PRIMARY KEY, status TEXT NOT NULL, view TEXT NOT NULL, inputs TEXT NOT NULL,
        tx_hash TEXT, error TEXT, updated_at INTEGER NOT NULL);
      CREATE TABLE job_events (
        block INTEGER NOT NULL, log_index INTEGER NOT NULL, job_id TEXT NOT NULL, event TEXT NOT NULL,
        PRIMARY KEY (block, log_index));
      CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);`);
    const terms = {
      requester: "0xcc",
      circuitId: "1n",
      expiresAt: "9000n",
      provingWindow: "30n",
      fee: "3000n",
      bond: "2n",
    };
    const view = (status: string) =>
      JSON.stringify({ jobId: "4n", status, circuitId: "1n", fee: "3000n", bond: "2n", attempt: "0n", terms });
    db.prepare("INSERT INTO meta VALUES ('checkpoint', '12'), ('checkpoint_hash', '0x12')").run();
    db.prepare("INSERT INTO jobs VALUES ('4', ?)").run(view("Open"));
    db.prepare("INSERT INTO job_events VALUES (12, 0, '4', ?)").run(
      JSON.stringify({ name: "JobPosted", args: { jobId: "4n", fee: "3000n" }, blockNumber: 12, logIndex: 0 }),
    );
    db.prepare("INSERT INTO blocks VALUES (12, '0x12')").run();
    db.prepare("INSERT INTO claims VALUES ('4', 'claimed', ?, '{}', '0xc4', NULL, 1)").run(view("Open"));
    db.prepare("INSERT INTO claims VALUES ('5', 'proved', ?, '{}', '0xc5', NULL, 1)").run(
      view("Open").replace('"jobId":"4n"', '"jobId":"5n"'),
    );
    db.close();

    const { logger, lines } = capturingLogger();
    store = openStore(old, logger);
    // The book is read again from the start block, in the new shapes.
    expect([store.loadBook(), store.keptBlocks(), store.cursor()]).to.deep.equal([[], [], null]);
    // The claim held cannot be sent under the new ABI: lost, saying why and what to do.
    const held = store.claim(4n)!;
    expect(held.status).to.equal("lost");
    expect(held.error).to.match(/fixed-fee ABI.*\(was claimed\): settle it with the previous release/);
    // Each claim's view is the ramp its fixed fee was (what status and earnings read), its price the fee.
    const proved = store.claim(5n)!;
    expect([proved.status, proved.price, proved.updatedAt]).to.deep.equal(["proved", 3000n, 1]);
    expect(proved.view.terms).to.deep.include({ minFee: 3000n, maxFee: 3000n, rampStart: 0n, rampDuration: 0n });
    expect(proved.view.terms).to.not.have.property("fee");
    expect(proved.view).to.deep.include({ minFee: 3000n, maxFee: 3000n, price: null });
    expect(priceAt(proved.view.terms, 5_000n)).to.equal(3000n);
    expect(lines.map((l) => [l.level, l.msg])).to.deep.equal([
      [
        "warn",
        "the data folder's job book predates the market's price ramps: reading the market's events again from the start block",
      ],
      [
        "error",
        "claims held under the market's fixed-fee ABI cannot be proved by this worker: marked lost (settle them with " +
          "the previous release before their deadlines, or their bonds are slashed)",
      ],
    ]);
    expect(lines[1].fields.jobIds).to.deep.equal(["4"]);

    // Opened again, read since: nothing is dropped or said a second time.
    const book = new JobBook();
    store.saveRange({ number: 20, hash: "0x20" }, [posted(6n, 20)], book.apply([posted(6n, 20)]), []);
    store.close();
    const again = capturingLogger();
    store = openStore(old, again.logger);
    expect(store.loadBook().map((j) => j.jobId)).to.deep.equal([6n]);
    expect(store.cursor()).to.deep.equal({ number: 20, hash: "0x20" });
    expect(again.lines).to.deep.equal([]);
  });

  it("a new store is in the current format: nothing to read again", async function () {
    save([posted(1n, 10)], 10);
    store.close();
    const { logger, lines } = capturingLogger();
    store = openStore(dir, logger);
    expect(store.loadBook().map((j) => j.jobId)).to.deep.equal([1n]);
    expect(lines).to.deep.equal([]);
  });

  it("keeps what the worker knows of the chain's block timestamps, for status", async function () {
    expect(store.stampOrder()).to.equal(null);
    store.putStampOrder({ order: "unknown", devChain: false });
    store.putStampOrder({ order: "shared", devChain: false });
    expect(store.stampOrder()).to.deep.equal({ order: "shared", devChain: false });
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
