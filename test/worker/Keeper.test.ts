/**
 * The keeper's decision over the job book: which claimed jobs of other provers to reassign now, remembered by
 * (job id, attempt) so that a later stalled attempt of the same job is reassigned again; and a keeping pass, which
 * tries again a reassign that was not sent.
 */
import { expect } from "chai";
import type { JobView } from "../../common/market/jobBook.ts";
import { attemptKey, createKeeper, jobsToReassign } from "../../prover-worker/src/pipeline/keeper.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

const ME = "0x" + "aa".repeat(20);
const STALLER = "0x" + "bb".repeat(20);

function job(over: Partial<JobView>): JobView {
  const terms = {
    requester: "0x" + "cc".repeat(20),
    circuitId: 1n,
    expiresAt: 10_000n,
    provingWindow: 30n,
    minFee: 3n,
    maxFee: 3n,
    rampStart: 0n,
    rampDuration: 0n,
    bond: 2n,
    inputsCommitment: "0x00",
  };
  return {
    ...terms,
    price: 3n,
    jobId: 7n,
    status: "Claimed",
    inputsHash: "0x00",
    inputsURI: "data:,",
    attempt: 0n,
    assignee: STALLER,
    deadline: 100n,
    outputs: null,
    postedAtBlock: 1,
    postedAt: 0,
    provedAt: null,
    terms,
    ...over,
  };
}

describe("worker keeper: jobs to reassign", function () {
  it("reassigns a claimed job past its deadline, not before, not its own, not after expiry", function () {
    const reassigned = new Set<string>();
    const ids = (jobs: JobView[], now: number) => jobsToReassign(jobs, { now, me: ME, reassigned }).map((j) => j.jobId);
    expect(ids([job({})], 100)).to.deep.equal([]);
    expect(ids([job({})], 101)).to.deep.equal([7n]);
    expect(ids([job({ assignee: ME.toUpperCase().replace("0X", "0x") })], 101)).to.deep.equal([]);
    expect(ids([job({})], 10_001)).to.deep.equal([]);
    expect(ids([job({ status: "Open", deadline: null })], 101)).to.deep.equal([]);
  });

  it("reassigns a later stalled attempt of the same job again, and forgets attempts that are over", function () {
    const reassigned = new Set<string>();
    const first = job({ attempt: 0n, deadline: 100n });
    const due1 = jobsToReassign([first], { now: 101, me: ME, reassigned });
    expect(due1.map(attemptKey)).to.deep.equal(["7:0"]);
    reassigned.add(attemptKey(due1[0]));
    // Not tried twice for the same attempt while the book still shows it claimed.
    expect(jobsToReassign([first], { now: 102, me: ME, reassigned })).to.deep.equal([]);
    expect([...reassigned]).to.deep.equal(["7:0"]);

    // Reassigned (attempt 1 Open): the finished attempt is forgotten.
    jobsToReassign([job({ status: "Open", attempt: 1n, assignee: null, deadline: null })], {
      now: 103,
      me: ME,
      reassigned,
    });
    expect(reassigned.size).to.equal(0);

    // Claimed again by the staller, stalled again: reassigned again.
    const second = job({ attempt: 1n, deadline: 200n });
    expect(jobsToReassign([second], { now: 150, me: ME, reassigned })).to.deep.equal([]);
    const due2 = jobsToReassign([second], { now: 201, me: ME, reassigned });
    expect(due2.map(attemptKey)).to.deep.equal(["7:1"]);
  });

  it("does not grow without bound: entries of jobs no longer claimed are dropped", function () {
    const reassigned = new Set<string>(["1:0", "2:3", "7:0"]);
    jobsToReassign([job({ jobId: 7n, attempt: 0n })], { now: 50, me: ME, reassigned });
    expect([...reassigned]).to.deep.equal(["7:0"]);
  });
});

describe("worker keeper: a keeping pass", function () {
  it("tries a reassign that was not sent again at the next pass, and one the market refused never again", async function () {
    const { logger } = capturingLogger();
    const stalled = [job({ jobId: 1n }), job({ jobId: 2n })];
    const sent: string[] = [];
    // Job 1: the RPC fails (not sent). Job 2: the market refuses (another keeper was first).
    let rpcUp = false;
    const keep = createKeeper({
      me: ME,
      jobs: () => stalled,
      now: async () => 200,
      reassign: async (j) => {
        sent.push(String(j.jobId));
        if (j.jobId === 1n && !rpcUp) throw Object.assign(new Error("fetch failed"), { code: "NETWORK_ERROR" });
        if (j.jobId === 2n) throw Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" });
      },
      reasonOf: async (e) => (e as Error).message,
      logger,
    });
    await keep();
    expect(sent).to.deep.equal(["1", "2"]);
    rpcUp = true;
    await keep();
    expect(sent).to.deep.equal(["1", "2", "1"]);
    await keep();
    expect(sent).to.deep.equal(["1", "2", "1"]);
  });
});
