/**
 * The worker's store as discovery and reconciliation use it (prover-worker/src/store.ts): a range saved with its
 * events, blocks and cursor together; a rewind that folds each touched job again from the events that remain and
 * forgets a job whose posting is gone (with what was said about it); a reset that makes discovery read from the
 * start again, keeping the claims; the last decision per job, written when it changes.
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JobBook, type JobView } from "../../common/market/jobBook.ts";
import { openStore, type StoredEvent, type WorkerStore } from "../../prover-worker/src/store.ts";

const posted = (jobId: bigint, block: number): StoredEvent => ({
  name: "JobPosted",
  args: {
    jobId,
    circuitId: 1n,
    requester: "0x" + "cc".repeat(20),
    fee: 3n,
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
  args: { jobId, prover: "0x" + "aa".repeat(20), attempt: 0n, deadline: 500n, bond: 2n },
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

  beforeEach(function () {
    store = openStore(mkdtempSync(path.join(os.tmpdir(), "pm-store-")));
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
});
