/**
 * Issue #14: a job is sold by reverse Dutch auction. Its price is `minFee` until `rampStart`, then rises every second
 * (rounded down) to `maxFee` at `rampStart + rampDuration`; the market escrows `maxFee`, a claim locks the price of
 * its block's second, a proof pays that price and credits the rest of the escrow to the requester, and every other
 * ending refunds the whole escrow. A reopening raises both ends of the ramp by the slash's reward share and pauses the
 * ramp for the time the failed claim held the job.
 *
 * Each test pins a rule with numbers worked out by hand (the TypeScript mirror, common/market/price.ts, is checked
 * beside them, and against the contract's library in CommonMirrors.test.ts), claiming in blocks whose timestamps the
 * test sets, and checks the accounting invariant after every path that moves money.
 */
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import { parseEther } from "ethers";
import { network } from "hardhat";
import { JobBook } from "../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
import { deadlineFrom, priceAt, reopenedRamp } from "../../common/market/price.ts";
import { deployCheckedMarket } from "./helpers/accounting.ts";
import { batchArgs, BOND, PARAMS, postJob, postProvableJob, type Terms, WINDOW } from "./helpers/fixture.ts";
import { claimDeadline } from "./helpers/jobs.ts";
import { bps, slashSplit } from "./helpers/splits.ts";
import { setClaimedAttempt, wroteEntryOf } from "./helpers/storage.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const MAX96 = 2n ** 96n - 1n;
const MAX_ATTEMPTS = 1_000n;
/** The ramp most tests use: 1 token rising to 11 over 1,000 s, i.e. 0.01 token a second. */
const MIN = parseEther("1");
const MAX = parseEther("11");
const DURATION = 1_000n;

const fixture = () => deployCheckedMarket(ethers);
type Fixture = Awaited<ReturnType<typeof fixture>>;
/** A keeper's full-bond slash of a job that does not reopen (expiry, the attempt limit): the reward share is the
 *  requester's. */
const closingSlash = slashSplit(PARAMS, BOND, { keeper: true, reopens: false });
type Job = { jobId: bigint; terms: Terms };

/**
 * The fixture, its clock running on from its last block. loadFixture reverts the chain to its snapshot but not the
 * clock, so the next block would come as many seconds later as the tests before took: the ramps and expiries below,
 * counted from the latest block, would not survive that.
 */
async function load(): Promise<Fixture> {
  const f = await loadFixture(fixture);
  await time.setNextBlockTimestamp((await now()) + 1n);
  return f;
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** The named event of `tx`'s receipt, decoded with the market's ABI. */
async function eventOf(market: any, tx: ContractTransactionResponse, name: string) {
  const receipt = (await tx.wait())!;
  for (const log of receipt.logs) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === name) return { args: parsed.args, receipt };
  }
  throw new Error(`no ${name} event`);
}

/** Claims `job` in a block of timestamp `at`; returns the price and deadline its JobClaimed event reports. */
async function claimAt(f: Fixture, job: Job, at: bigint, prover = f.prover) {
  await time.setNextBlockTimestamp(at);
  const { args, receipt } = await eventOf(
    f.market,
    await f.market.connect(prover).claim(job.jobId, job.terms),
    "JobClaimed",
  );
  expect(BigInt((await receipt.getBlock()).timestamp)).to.equal(at);
  return { price: args.price as bigint, deadline: args.deadline as bigint };
}

/** A job on the standard ramp (MIN to MAX over DURATION from `rampStart`), its inputs for no proof in particular. */
function postRamped(f: Fixture, rampStart: bigint, inputs: bigint, o: Parameters<typeof postJob>[5] = {}) {
  return postJob(ethers, f.market, f.requester, f.circuitId, [inputs], {
    minFee: MIN,
    maxFee: MAX,
    rampStart,
    rampDuration: DURATION,
    expiresIn: 10_000n,
    ...o,
  });
}

/** A job on the standard ramp whose public inputs are those of the real proof of `seed`. */
function postProvableRamped(f: Fixture, rampStart: bigint, seed: number) {
  return postProvableJob(ethers, f.market, f.requester, f.circuitId, seed, undefined, undefined, {
    minFee: MIN,
    maxFee: MAX,
    rampStart,
    rampDuration: DURATION,
  });
}

/** What `who` may withdraw now. */
async function owed(f: Fixture, who: { address: string }): Promise<bigint> {
  return f.market.withdrawable(who.address);
}

/** `close` ends `job`'s claim by `f.prover` with the job Expired: the requester is credited the whole escrow and its
 *  share of the keeper's slash, whatever price the claim had locked. */
async function expectClosedWithSlash(f: Fixture, job: Job, close: () => Promise<ContractTransactionResponse>) {
  const before = await owed(f, f.requester);
  await expect(close())
    .to.emit(f.market, "JobExpired")
    .withArgs(job.jobId, f.requester.address, f.prover.address, MAX, closingSlash);
  expect((await owed(f, f.requester)) - before).to.equal(MAX + closingSlash[4]);
  await f.check([job.jobId]);
}

describe("ProofMarket: the price ramp", function () {
  it("a claim locks the ramp's price of its second: minFee at rampStart, half way up in the middle, maxFee at the end and after it", async function () {
    const f = await load();
    const R = (await now()) + 100n;
    const jobs = [];
    for (let i = 1n; i <= 4n; i++) jobs.push(await postRamped(f, R, i));
    const cases: [bigint, bigint][] = [
      [R, MIN],
      [R + DURATION / 2n, parseEther("6")],
      [R + DURATION, MAX],
      [R + 5n * DURATION, MAX],
    ];
    for (const [k, [at, expected]] of cases.entries()) {
      const { price, deadline } = await claimAt(f, jobs[k], at);
      expect(price, `claimed at rampStart + ${at - R}`).to.equal(expected);
      expect(price).to.equal(priceAt(jobs[k].terms, at));
      expect(deadline).to.equal(at + WINDOW);
    }
    await f.check(jobs.map((j) => j.jobId));
  });

  it("the price rounds down: a rise of 10 units over 3 s is 3, then 6, then all 10", async function () {
    const f = await load();
    const R = (await now()) + 100n;
    const ramp = { minFee: 100n, maxFee: 110n, rampStart: R, rampDuration: 3n };
    const jobs = [];
    for (let i = 1n; i <= 3n; i++) jobs.push(await postJob(ethers, f.market, f.requester, f.circuitId, [i], ramp));
    for (const [k, expected] of [103n, 106n, 110n].entries()) {
      const at = R + BigInt(k) + 1n;
      expect((await claimAt(f, jobs[k], at)).price, `${k + 1} s into the ramp`).to.equal(expected);
      expect(priceAt(ramp, at)).to.equal(expected);
    }
  });

  it("a ramp that starts later holds minFee until then, and rises from its start", async function () {
    const f = await load();
    const R = (await now()) + 2_000n;
    const jobs = [];
    for (let i = 1n; i <= 3n; i++) jobs.push(await postRamped(f, R, i));
    expect((await claimAt(f, jobs[0], R - 1_500n)).price).to.equal(MIN);
    expect((await claimAt(f, jobs[1], R)).price).to.equal(MIN);
    expect((await claimAt(f, jobs[2], R + 1n)).price).to.equal(MIN + parseEther("0.01"));
  });

  it("rampStart 0 starts the ramp at posting: JobPosted reports the posting block's timestamp, and the price rises from it", async function () {
    const f = await load();
    const T = (await now()) + 50n;
    await time.setNextBlockTimestamp(T);
    const job = await postRamped(f, 0n, 1n);
    expect(BigInt((await job.receipt.getBlock()).timestamp)).to.equal(T);
    expect(job.terms.rampStart).to.equal(T);
    expect((await claimAt(f, job, T + 250n)).price).to.equal(parseEther("3.5"));
  });

  it("rampDuration 0 with minFee < maxFee: minFee up to rampStart, maxFee from the next second on", async function () {
    const f = await load();
    const R = (await now()) + 100n;
    const jobs = [];
    for (let i = 1n; i <= 3n; i++) jobs.push(await postRamped(f, R, i, { rampDuration: 0n }));
    expect((await claimAt(f, jobs[0], R - 1n)).price).to.equal(MIN);
    expect((await claimAt(f, jobs[1], R)).price).to.equal(MIN);
    expect((await claimAt(f, jobs[2], R + 1n)).price).to.equal(MAX);
  });
});

describe("ProofMarket: what a proof pays and refunds", function () {
  it("the claim locks the price: a proof submitted after the ramp's end is paid the claim's price, and the requester is credited maxFee - price", async function () {
    const f = await load();
    const { market, requester, prover } = f;
    const R = (await now()) + 100n;
    const job = await postProvableRamped(f, R, 1);
    const { price } = await claimAt(f, job, R + 500n);
    expect(price).to.equal(parseEther("6"));
    const [proverBefore, requesterBefore] = [await owed(f, prover), await owed(f, requester)];
    // Submitted in the claim's last second, R + 1,100, when the ramp has reached its top.
    const submitAt = await claimDeadline(market, job.jobId, job.terms);
    expect(submitAt).to.equal(R + 1_100n);
    expect(priceAt(job.terms, submitAt)).to.equal(MAX);
    await time.setNextBlockTimestamp(submitAt);
    const tx = await market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals);
    await expect(tx).to.emit(market, "JobProved").withArgs(job.jobId, prover.address, 0n, price, []);
    // The requester's credit is written (the fixed-fee test below relies on seeing such a write).
    expect(await wroteEntryOf(ethers, tx.hash, requester.address)).to.equal(true);
    expect((await owed(f, prover)) - proverBefore).to.equal(parseEther("6"));
    expect((await owed(f, requester)) - requesterBefore).to.equal(parseEther("5"));
    expect((await market.jobState(job.jobId)).status).to.equal(JOB_STATUS.Proved);
    await f.check([job.jobId]);
  });

  it("a fixed fee (minFee == maxFee) pays the whole escrow to the prover and credits the requester nothing", async function () {
    const f = await load();
    const { market, requester, prover } = f;
    const fee = parseEther("7");
    const job = await postProvableJob(ethers, market, requester, f.circuitId, 2, undefined, undefined, {
      minFee: fee,
      maxFee: fee,
      rampStart: (await now()) + 100n,
      rampDuration: DURATION,
    });
    const { price } = await claimAt(f, job, job.terms.rampStart + DURATION / 2n);
    expect(price).to.equal(fee);
    const tx = await market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals);
    expect(await owed(f, prover)).to.equal(fee);
    expect(await owed(f, requester)).to.equal(0n);
    // Not even a credit of zero: the proof leaves the requester's balance untouched (a storage write saved).
    expect(await wroteEntryOf(ethers, tx.hash, requester.address)).to.equal(false);
    await f.check([job.jobId]);
  });

  it("batch: jobs of two requesters on different ramps pay the prover the sum of their locked prices and refund each requester its own", async function () {
    const f = await load();
    const { market, requester, stranger, prover } = f;
    const R = (await now()) + 100n;
    const post = (who: typeof requester, seed: number, o: Parameters<typeof postJob>[5]) =>
      postProvableJob(ethers, market, who, f.circuitId, seed, undefined, undefined, o);
    // a: the standard ramp; b: another requester's, 2 to 4 tokens over 100 s; c: a fixed 3 tokens.
    const a = await postProvableRamped(f, R, 1);
    const b = await post(stranger, 2, {
      minFee: parseEther("2"),
      maxFee: parseEther("4"),
      rampStart: R,
      rampDuration: 100n,
    });
    const c = await post(requester, 3, { fee: parseEther("3") });
    const prices = [
      (await claimAt(f, b, R + 50n)).price,
      (await claimAt(f, a, R + 500n)).price,
      (await claimAt(f, c, R + 600n)).price,
    ];
    expect(prices).to.deep.equal([parseEther("3"), parseEther("6"), parseEther("3")]);
    const before = [await owed(f, prover), await owed(f, requester), await owed(f, stranger)];
    const tx = await market.connect(prover).submitProofs(...batchArgs([a, b, c]));
    await expect(tx).to.emit(market, "JobProved").withArgs(a.jobId, prover.address, 0n, parseEther("6"), []);
    await expect(tx).to.emit(market, "JobProved").withArgs(b.jobId, prover.address, 0n, parseEther("3"), []);
    await expect(tx).to.emit(market, "JobProved").withArgs(c.jobId, prover.address, 0n, parseEther("3"), []);
    const after = [await owed(f, prover), await owed(f, requester), await owed(f, stranger)];
    expect(after.map((x, i) => x - before[i])).to.deep.equal([
      parseEther("12"), // 6 + 3 + 3
      parseEther("5"), // a: 11 - 6; c: 3 - 3
      parseEther("1"), // b: 4 - 3
    ]);
    await f.check([a.jobId, b.jobId, c.jobId]);
  });
});

describe("ProofMarket: every other ending refunds the whole escrow (maxFee)", function () {
  it("cancelled before any claim: maxFee", async function () {
    const f = await load();
    const job = await postRamped(f, (await now()) + 100n, 1n);
    await time.increaseTo(job.terms.rampStart + DURATION / 2n);
    await expect(f.market.connect(f.requester).cancel(job.jobId, job.terms))
      .to.emit(f.market, "JobCancelled")
      .withArgs(job.jobId, f.requester.address, MAX);
    expect(await owed(f, f.requester)).to.equal(MAX);
    await f.check([job.jobId]);
  });

  it("expired while Open: maxFee", async function () {
    const f = await load();
    const job = await postRamped(f, 0n, 1n, { expiresIn: WINDOW + 10n, rampDuration: WINDOW });
    await time.increaseTo(job.terms.expiresAt + 1n);
    await expect(f.market.connect(f.keeper).expire(job.jobId, job.terms))
      .to.emit(f.market, "JobExpired")
      .withArgs(job.jobId, f.requester.address, ethers.ZeroAddress, MAX, [0n, 0n, 0n, 0n, 0n]);
    expect(await owed(f, f.requester)).to.equal(MAX);
    await f.check([job.jobId]);
  });

  it("expired while Claimed: maxFee and the requester's share of the slash, whatever price the claim locked", async function () {
    const f = await load();
    const job = await postRamped(f, 0n, 1n, { expiresIn: WINDOW + 30n, rampDuration: WINDOW });
    const { price } = await claimAt(f, job, job.terms.rampStart + WINDOW / 2n);
    expect(price).to.equal(parseEther("6"));
    await time.increaseTo(job.terms.expiresAt + 1n);
    await expectClosedWithSlash(f, job, () => f.market.connect(f.keeper).expire(job.jobId, job.terms));
  });

  it("closed at the attempt limit: maxFee and the requester's share of the slash (the reward share included)", async function () {
    const f = await load();
    const job = await postRamped(f, (await now()) + 100n, 1n);
    await claimAt(f, job, job.terms.rampStart + DURATION / 2n);
    await setClaimedAttempt(ethers, f.market, job.jobId, MAX_ATTEMPTS - 1n);
    await time.increaseTo((await claimDeadline(f.market, job.jobId, job.terms)) + 1n);
    await expectClosedWithSlash(f, job, () => f.market.connect(f.keeper).reassign(job.jobId, job.terms));
  });
});

describe("ProofMarket: a reopened job's price", function () {
  it("after a reassign: both ends raised by the reward share and the ramp paused while the claim held the job, so the job is offered at the failed claim's price plus the reward share, never at what the ramp reached meanwhile", async function () {
    const f = await load();
    const { market, requester, prover, prover2, keeper } = f;
    const R = (await now()) + 100n;
    const job = await postProvableRamped(f, R, 1);
    const failed = await claimAt(f, job, R + 100n);
    expect(failed.price).to.equal(parseEther("2"));
    const split = slashSplit(PARAMS, BOND, { keeper: true, reopens: true });
    const reward = split[2];
    const reopenedAt = failed.deadline + 1n;
    // Paused for the time the claim held the job: from R + 100 to the reopening.
    const pausedStart = R + (reopenedAt - (R + 100n));
    await time.setNextBlockTimestamp(reopenedAt);
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, 1n, MIN + reward, MAX + reward, pausedStart, split);
    const reopened = { jobId: job.jobId, terms: reopenedRamp(job.terms, R + 100n, reopenedAt, reward) };
    expect(reopened.terms).to.deep.include({ minFee: MIN + reward, maxFee: MAX + reward, rampStart: pausedStart });
    await f.check([reopened]);

    // A second after the reopening: the failed claim's price plus the reward share and one second's rise at the
    // ramp's own rate, not the price the ramp had run on to (over 5 PMT more: what a prover that let its own claim
    // lapse, reassigned it from a second address and claimed it back at once would otherwise collect).
    const at = reopenedAt + 1n;
    const next = await claimAt(f, reopened, at, prover2);
    expect(next.price).to.equal(priceAt(reopened.terms, at));
    expect(next.price).to.equal(failed.price + reward + (MAX - MIN) / DURATION);
    expect(priceAt(job.terms, at) + reward - next.price > parseEther("5")).to.equal(true);

    // The raised escrow pays the new price and refunds the rest.
    const requesterBefore = await owed(f, requester);
    await market.connect(prover2).submitProof(job.jobId, reopened.terms, job.proof.proof, job.proof.publicSignals);
    expect(await owed(f, prover2)).to.equal(next.price);
    expect((await owed(f, requester)) - requesterBefore).to.equal(MAX + reward - next.price);
    await f.check([reopened]);
  });

  it("after an abandon: the same, with the abandon slash's smaller reward share; a ramp still to start is not moved", async function () {
    const f = await load();
    const { market, prover } = f;
    const R = (await now()) + 100n;
    const job = await postRamped(f, R, 1n);
    const failed = await claimAt(f, job, R + 100n);
    const split = slashSplit(PARAMS, bps(BOND, PARAMS.abandonSlashBps), { keeper: false, reopens: true });
    const reward = split[2];
    expect(reward).to.equal(parseEther("0.375"));
    await time.setNextBlockTimestamp(R + 110n);
    await expect(market.connect(prover).abandon(job.jobId, job.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(job.jobId, prover.address, 1n, MIN + reward, MAX + reward, R + 10n, split);
    const reopened = { jobId: job.jobId, terms: reopenedRamp(job.terms, R + 100n, R + 110n, reward) };
    const next = await claimAt(f, reopened, R + 111n, f.prover2);
    expect(next.price).to.equal(parseEther("2.01") + parseEther("0.375"));
    expect(next.price).to.equal(priceAt(reopened.terms, R + 111n));
    expect(next.price).to.be.at.least(failed.price);
    await f.check([reopened]);

    // Claimed and abandoned before its ramp starts: nothing to pause, the start stays.
    const later = R + 2_000n;
    const early = await postRamped(f, later, 2n, { expiresIn: 20_000n });
    await claimAt(f, early, later - 50n);
    await time.setNextBlockTimestamp(later - 40n);
    await expect(market.connect(prover).abandon(early.jobId, early.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(early.jobId, prover.address, 1n, MIN + reward, MAX + reward, later, split);
  });
});

describe("ProofMarket: posting a ramp", function () {
  it("refuses minFee > maxFee (FeeRangeInverted) and maxFee 0 (ZeroAmount); a ramp from 0 is accepted", async function () {
    const f = await load();
    const { market, requester, circuitId } = f;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { minFee: MAX + 1n, maxFee: MAX }))
      .to.be.revertedWithCustomError(market, "FeeRangeInverted")
      .withArgs(MAX + 1n, MAX);
    await expect(
      postJob(ethers, market, requester, circuitId, [1n], { minFee: 0n, maxFee: 0n }),
    ).to.be.revertedWithCustomError(market, "ZeroAmount");
    const job = await postJob(ethers, market, requester, circuitId, [1n], {
      minFee: 0n,
      maxFee: MAX,
      rampDuration: 10n,
    });
    expect([job.terms.minFee, job.terms.maxFee]).to.deep.equal([0n, MAX]);
    await f.check([job.jobId]);
  });

  it("a ramp must end by the job's expiry (RampPastExpiry), and a job expire within MAX_JOB_LIFETIME of its posting (ExpiryTooLate)", async function () {
    const f = await load();
    const { market, requester, circuitId } = f;
    // load() stamps the next block (the post) one second after the latest, which postJob counts expiresIn from.
    const postedAt = (await now()) + 1n;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { minFee: 1n, maxFee: MAX, rampDuration: 3600n }))
      .to.be.revertedWithCustomError(market, "RampPastExpiry")
      .withArgs(postedAt + 3600n, postedAt - 1n + 3600n);
    await time.setNextBlockTimestamp((await now()) + 1n);
    const ending = await postJob(ethers, market, requester, circuitId, [1n], {
      minFee: 1n,
      maxFee: MAX,
      rampDuration: 3599n,
    });
    expect(ending.terms.rampStart + ending.terms.rampDuration).to.equal(ending.terms.expiresAt);
    // A later start counts too: its end, not its length, is what must come by the expiry (here one second after).
    await time.setNextBlockTimestamp((await now()) + 1n);
    const start = (await now()) + 101n;
    await expect(
      postJob(ethers, market, requester, circuitId, [1n], {
        minFee: 1n,
        maxFee: MAX,
        rampStart: start,
        rampDuration: 3500n,
      }),
    ).to.be.revertedWithCustomError(market, "RampPastExpiry");

    const lifetime = await market.MAX_JOB_LIFETIME();
    await time.setNextBlockTimestamp((await now()) + 1n);
    const longest = await postJob(ethers, market, requester, circuitId, [1n], { expiresIn: lifetime + 1n });
    await time.setNextBlockTimestamp((await now()) + 1n);
    const posting = (await now()) + 1n;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { expiresIn: lifetime + 2n }))
      .to.be.revertedWithCustomError(market, "ExpiryTooLate")
      .withArgs(posting - 1n + lifetime + 2n, posting + lifetime);
    await f.check([ending.jobId, longest.jobId]);
  });

  it("the AmountTooLarge bound is on maxFee (what reopenings escalate and the escrow holds), whatever minFee is", async function () {
    const f = await load();
    const { market, token, requester, circuitId } = f;
    await token.mint(requester.address, MAX96);
    const atBound = MAX96 - (MAX_ATTEMPTS - 1n) * BOND;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { minFee: 1n, maxFee: atBound + 1n }))
      .to.be.revertedWithCustomError(market, "AmountTooLarge")
      .withArgs("maxFee + (MAX_ATTEMPTS - 1) * bond", MAX96 + 1n, MAX96);
    const job = await postJob(ethers, market, requester, circuitId, [1n], { minFee: 1n, maxFee: atBound });
    expect(job.terms.maxFee).to.equal(atBound);
    await f.check([job.jobId]);
  });
});

describe("ProofMarket: the events carry the ramp and the locked price", function () {
  it("an indexer reads the ramp from JobPosted and the price from JobClaimed and JobProved, with no eth_call", async function () {
    const f = await load();
    const { market, requester, prover } = f;
    const R = (await now()) + 100n;
    const request = { minFee: parseEther("2"), maxFee: parseEther("5"), rampStart: R, rampDuration: 300n };
    const job = await postProvableJob(ethers, market, requester, f.circuitId, 4, undefined, undefined, request);
    const posted = job.receipt.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted")!;
    expect({
      minFee: posted.args.minFee,
      maxFee: posted.args.maxFee,
      rampStart: posted.args.rampStart,
      rampDuration: posted.args.rampDuration,
      bond: posted.args.bond,
      provingWindow: posted.args.provingWindow,
    }).to.deep.equal({ ...request, bond: BOND, provingWindow: WINDOW });

    // The terms read from the event alone give the price and the deadline the claim reports.
    const at = R + 100n;
    const claimed = await claimAt(f, job, at);
    expect(claimed.price).to.equal(parseEther("3"));
    expect(claimed.price).to.equal(priceAt(job.terms, at));
    expect(claimed.deadline).to.equal(deadlineFrom(job.terms, at));
    const { args } = await eventOf(
      market,
      await market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals),
      "JobProved",
    );
    expect(args.price).to.equal(claimed.price);

    // The job book folds the same events into the job's ramp and the price it was paid.
    const book = new JobBook();
    book.apply(await createMarketReader({ provider: ethers.provider, address: await market.getAddress() }).scan(0, []));
    const view = book.jobs.get(job.jobId)!;
    expect(view).to.include({ status: "Proved", price: claimed.price, ...request });
    expect(view.terms).to.deep.equal(job.terms);
    await f.check([job.jobId]);
  });
});
