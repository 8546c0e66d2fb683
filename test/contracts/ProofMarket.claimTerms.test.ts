/**
 * A claim is slashed by the terms in force when it was made (issue #12): after a claim, the owner raising the
 * abandon fraction, moving the slash shares or the treasury changes nothing for it; a claim made after the change
 * takes the new terms. Every change below alters the slash it would apply, so each test fails if a live claim were
 * re-priced.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { deployCheckedMarket } from "./helpers/accounting.ts";
import { BOND, FEE, PARAMS, postProvableJob, STAKE, WINDOW } from "./helpers/fixture.ts";
import { aBlockSecond, claimDeadline, raised, reopenedRampStart } from "./helpers/jobs.ts";
import { bps, type Shares, slashSplit } from "./helpers/splits.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

/** Every slash term moved: the abandon fraction doubled, keeper and treasury shares doubled, the reward share cut. */
const NEW_PARAMS = {
  ...PARAMS,
  keeperShareBps: 2_000n,
  rewardShareBps: 1_000n,
  treasuryShareBps: 2_000n,
  abandonSlashBps: 5_000n,
};

/** How `amount` splits under `shares` (the market's SlashMath.split arguments). */
const split = (shares: Shares, amount: bigint, withKeeper: boolean, rewardToRequester: boolean) =>
  slashSplit(shares, amount, { keeper: withKeeper, reopens: !rewardToRequester });

async function fixture() {
  const treasury2 = (await ethers.getSigners())[7];
  return { ...(await deployCheckedMarket(ethers, [treasury2])), treasury2 };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Posts `n` provable jobs (seeds 1..n) with the given expiry. */
async function postJobs(f: Fixture, n: number, expiresIn = 3600n) {
  const jobs = [];
  for (let seed = 1; seed <= n; seed++) {
    jobs.push(
      await postProvableJob(ethers, f.market, f.requester, f.circuitId, seed, undefined, undefined, { expiresIn }),
    );
  }
  return jobs;
}

/** The owner re-prices: new shares and abandon fraction, then a new treasury. */
async function reprice(f: Fixture) {
  const before = await f.market.slashTermsId();
  await f.market.setParams(NEW_PARAMS);
  await f.market.setTreasury(f.treasury2.address);
  expect(await f.market.slashTermsId()).to.equal(before + 2n);
  // The terms a claim made before keep their id and their values.
  const old = await f.market.slashTerms(before);
  expect([
    old.keeperShareBps,
    old.rewardShareBps,
    old.treasuryShareBps,
    old.abandonSlashBps,
    old.treasury,
  ]).to.deep.equal([
    PARAMS.keeperShareBps,
    PARAMS.rewardShareBps,
    PARAMS.treasuryShareBps,
    PARAMS.abandonSlashBps,
    f.treasury.address,
  ]);
}

describe("ProofMarket: a claim keeps the slash terms it was made under", function () {
  it("abandon: a claim made before setParams and setTreasury is slashed by the old fraction and shares, to the old treasury; claims made after take each change", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover, treasury, treasury2 } = f;
    const [before, between, after] = await postJobs(f, 3);

    // `before` under the deployment's terms; `between` under the new shares with the old treasury; `after` under both.
    const id0 = await market.slashTermsId();
    await market.connect(prover).claim(before.jobId, before.terms);
    await market.setParams(NEW_PARAMS);
    await market.connect(prover).claim(between.jobId, between.terms);
    await market.setTreasury(treasury2.address);
    await market.connect(prover).claim(after.jobId, after.terms);
    expect((await market.jobState(before.jobId)).slashTermsId).to.equal(id0);
    expect((await market.jobState(between.jobId)).slashTermsId).to.equal(id0 + 1n);
    expect((await market.jobState(after.jobId)).slashTermsId).to.equal(id0 + 2n);
    const staked = STAKE;

    const oldSplit = split(PARAMS, bps(BOND, PARAMS.abandonSlashBps), false, false);
    await expect(market.connect(prover).abandon(before.jobId, before.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(before.jobId, prover.address, 1n, FEE + oldSplit[2], FEE + oldSplit[2], aBlockSecond, oldSplit);
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(0n);

    const betweenSplit = split(NEW_PARAMS, bps(BOND, NEW_PARAMS.abandonSlashBps), false, false);
    await expect(market.connect(prover).abandon(between.jobId, between.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(
        between.jobId,
        prover.address,
        1n,
        FEE + betweenSplit[2],
        FEE + betweenSplit[2],
        aBlockSecond,
        betweenSplit,
      );
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3] + betweenSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(0n);

    await expect(market.connect(prover).abandon(after.jobId, after.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(
        after.jobId,
        prover.address,
        1n,
        FEE + betweenSplit[2],
        FEE + betweenSplit[2],
        aBlockSecond,
        betweenSplit,
      );
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3] + betweenSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(betweenSplit[3]);

    expect((await market.account(prover.address)).staked).to.equal(staked - oldSplit[0] - 2n * betweenSplit[0]);
    expect(await market.withdrawable(requester.address)).to.equal(oldSplit[4] + 2n * betweenSplit[4]);
    await f.check([before.jobId, between.jobId, after.jobId]);
  });

  it("reassign: a stalled claim made before the change pays the old keeper, reward and treasury shares to the old treasury; the next claim takes the new ones", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover, prover2, keeper, treasury, treasury2 } = f;
    const [job] = await postJobs(f, 1);
    await market.connect(prover).claim(job.jobId, job.terms);
    await reprice(f);

    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    const oldSplit = split(PARAMS, BOND, true, false);
    const fee1 = FEE + oldSplit[2];
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, 1n, fee1, fee1, aBlockSecond, oldSplit);
    expect(await market.withdrawable(keeper.address)).to.equal(oldSplit[1]);
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(0n);
    expect(await market.withdrawable(requester.address)).to.equal(oldSplit[4]);
    expect((await market.account(prover.address)).staked).to.equal(STAKE - BOND);

    const terms1 = raised(job.terms, oldSplit[2], await reopenedRampStart(market, job.jobId));
    await market.connect(prover2).claim(job.jobId, terms1);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    const newSplit = split(NEW_PARAMS, BOND, true, false);
    await expect(market.connect(keeper).reassign(job.jobId, terms1))
      .to.emit(market, "JobReassigned")
      .withArgs(
        job.jobId,
        prover2.address,
        keeper.address,
        2n,
        fee1 + newSplit[2],
        fee1 + newSplit[2],
        aBlockSecond,
        newSplit,
      );
    expect(await market.withdrawable(keeper.address)).to.equal(oldSplit[1] + newSplit[1]);
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(newSplit[3]);
    expect(await market.withdrawable(requester.address)).to.equal(oldSplit[4] + newSplit[4]);
    expect((await market.account(prover2.address)).staked).to.equal(STAKE - BOND);
    await f.check([job.jobId]);
  });

  it("expire: a claim held at expiry made before the change is slashed by the old shares, to the old treasury; one made after by the new", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover, prover2, keeper, treasury, treasury2 } = f;
    const [early, late] = await postJobs(f, 2, WINDOW + 30n);
    await market.connect(prover).claim(early.jobId, early.terms);
    await reprice(f);
    await market.connect(prover2).claim(late.jobId, late.terms);
    await time.increaseTo(late.terms.expiresAt + 1n);

    const oldSplit = split(PARAMS, BOND, true, true);
    await expect(market.connect(keeper).expire(early.jobId, early.terms))
      .to.emit(market, "JobExpired")
      .withArgs(early.jobId, requester.address, prover.address, FEE, oldSplit);
    const newSplit = split(NEW_PARAMS, BOND, true, true);
    await expect(market.connect(keeper).expire(late.jobId, late.terms))
      .to.emit(market, "JobExpired")
      .withArgs(late.jobId, requester.address, prover2.address, FEE, newSplit);

    expect(await market.withdrawable(keeper.address)).to.equal(oldSplit[1] + newSplit[1]);
    expect(await market.withdrawable(treasury.address)).to.equal(oldSplit[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(newSplit[3]);
    expect(await market.withdrawable(requester.address)).to.equal(2n * FEE + oldSplit[4] + newSplit[4]);
    for (const p of [prover, prover2]) expect((await market.account(p.address)).staked).to.equal(STAKE - BOND);
    await f.check([early.jobId, late.jobId]);
  });

  it("setPaused changes no slash terms; the treasury paid is the claim's even after the treasury moves again", async function () {
    const f = await loadFixture(fixture);
    const { market, prover, treasury, treasury2, owner } = f;
    const [job] = await postJobs(f, 1);
    const id = await market.slashTermsId();
    await market.setPaused(true);
    await market.setPaused(false);
    expect(await market.slashTermsId()).to.equal(id);
    await market.connect(prover).claim(job.jobId, job.terms);
    await market.setTreasury(treasury2.address);
    await market.setTreasury(owner.address);
    const s = split(PARAMS, bps(BOND, PARAMS.abandonSlashBps), false, false);
    await market.connect(prover).abandon(job.jobId, job.terms);
    expect(await market.withdrawable(treasury.address)).to.equal(s[3]);
    expect(await market.withdrawable(treasury2.address)).to.equal(0n);
    expect(await market.withdrawable(owner.address)).to.equal(0n);
    await f.check([job.jobId]);
  });
});
