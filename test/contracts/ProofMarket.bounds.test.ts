/**
 * Issue #12's bounds: `minBond` has a floor above zero; no amount overflows (fees are bounded at posting so that every
 * escalation fits, stakes and unbonding stop at uint96 with a named error, earnings that would not fit in the
 * account slot are still paid); and a job's attempt counter stops at MAX_ATTEMPTS, its last failed claim closing the
 * job as Expired with the escrow (maxFee) refunded. Every refusal is a named error, never a panic.
 *
 * The attempt limit is reached by writing the job's state word (helpers/storage.ts says how its slot is found)
 * rather than by a thousand reopenings.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { deployCheckedMarket, termsHash } from "./helpers/accounting.ts";
import { BOND, FEE, PARAMS, postJob, postProvableJob, STAKE, UNBONDING_DELAY } from "./helpers/fixture.ts";
import { aBlockSecond, claimDeadline, raised, reopenedRampStart } from "./helpers/jobs.ts";
import { bps, slashSplit } from "./helpers/splits.ts";
import { setClaimedAttempt, setTermsHash } from "./helpers/storage.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const Status = JOB_STATUS;
const MAX96 = 2n ** 96n - 1n;
const MAX_ATTEMPTS = 1_000n;
const FEE_BOUND = "maxFee + (MAX_ATTEMPTS - 1) * bond";

const fixture = () => deployCheckedMarket(ethers);

/** The split of a full-bond slash by a keeper under PARAMS, the reward share going to the requester when `last`. */
const keeperSplit = (amount: bigint, last: boolean) => slashSplit(PARAMS, amount, { keeper: true, reopens: !last });

describe("ProofMarket: minBond floor", function () {
  it("setParams and the constructor refuse a minBond below MIN_BOND_FLOOR; at the floor a claim still costs something", async function () {
    const { market, token, owner, treasury, requester, prover, circuitId, check } = await loadFixture(fixture);
    const floor = await market.MIN_BOND_FLOOR();
    expect(floor).to.equal(10_000n);
    for (const minBond of [0n, floor - 1n]) {
      await expect(market.setParams({ ...PARAMS, minBond }))
        .to.be.revertedWithCustomError(market, "ParamBelowFloor")
        .withArgs("minBond", minBond, floor);
    }
    const factory = await ethers.getContractFactory("ProofMarket");
    await expect(factory.deploy(token, owner.address, treasury.address, UNBONDING_DELAY, { ...PARAMS, minBond: 0n }))
      .to.be.revertedWithCustomError(market, "ParamBelowFloor")
      .withArgs("minBond", 0n, floor);

    await market.setParams({ ...PARAMS, minBond: floor });
    await expect(postJob(ethers, market, requester, circuitId, [1n], { bond: floor - 1n }))
      .to.be.revertedWithCustomError(market, "BondBelowMinimum")
      .withArgs(floor - 1n, floor);
    const job = await postJob(ethers, market, requester, circuitId, [1n], { bond: floor });
    await market.connect(prover).claim(job.jobId, job.terms);
    const slashed = bps(floor, PARAMS.abandonSlashBps);
    expect(slashed).to.be.greaterThan(0n);
    await market.connect(prover).abandon(job.jobId, job.terms);
    expect((await market.account(prover.address)).staked).to.equal(STAKE - slashed);
    await check([job.jobId]);
  });
});

describe("ProofMarket: amounts never overflow", function () {
  it("postJob refuses a maxFee whose escalations could pass 2^96-1 (AmountTooLarge), by maxFee or by bond", async function () {
    const { market, token, requester, circuitId, check } = await loadFixture(fixture);
    await token.mint(requester.address, MAX96);
    const atBound = MAX96 - (MAX_ATTEMPTS - 1n) * BOND;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { fee: atBound + 1n }))
      .to.be.revertedWithCustomError(market, "AmountTooLarge")
      .withArgs(FEE_BOUND, MAX96 + 1n, MAX96);
    const bigBond = MAX96 / (MAX_ATTEMPTS - 1n) + 1n;
    await expect(postJob(ethers, market, requester, circuitId, [1n], { fee: 1n, bond: bigBond }))
      .to.be.revertedWithCustomError(market, "AmountTooLarge")
      .withArgs(FEE_BOUND, 1n + (MAX_ATTEMPTS - 1n) * bigBond, MAX96);
    const job = await postJob(ethers, market, requester, circuitId, [1n], { fee: atBound });
    expect(job.terms.maxFee).to.equal(atBound);
    await check([job.jobId]);
  });

  it("a job posted at the bound is reassigned and abandoned without panic, its fees escalating by the largest reward share each time and still fitting after 999 reopenings", async function () {
    const { market, token, requester, prover, prover2, keeper, circuitId, check } = await loadFixture(fixture);
    // The worst escalation the caps allow: 90% of each slash to the next prover's fee (MAX_RECOVERABLE_SHARE_BPS).
    const shares = { keeperShareBps: 0n, rewardShareBps: 9_000n, treasuryShareBps: 0n };
    await market.setParams({ ...PARAMS, ...shares });
    await token.mint(requester.address, MAX96);
    const fee0 = MAX96 - (MAX_ATTEMPTS - 1n) * BOND;
    const job = await postJob(ethers, market, requester, circuitId, [1n], { fee: fee0 });
    const reward = bps(BOND, 9_000n);
    const back = BOND - reward;

    // Two real reopenings: a reassign (90% of the bond to the fee) and an abandon (90% of the abandon fraction).
    await market.connect(prover).claim(job.jobId, job.terms);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, 1n, fee0 + reward, fee0 + reward, aBlockSecond, [
        BOND,
        0n,
        reward,
        0n,
        back,
      ]);
    const terms1 = raised(job.terms, reward, await reopenedRampStart(market, job.jobId));
    await market.connect(prover2).claim(job.jobId, terms1);
    const abandoned = bps(BOND, PARAMS.abandonSlashBps);
    const abandonReward = bps(abandoned, 9_000n);
    const fee2 = fee0 + reward + abandonReward;
    await expect(market.connect(prover2).abandon(job.jobId, terms1))
      .to.emit(market, "JobAbandoned")
      .withArgs(job.jobId, prover2.address, 2n, fee2, fee2, aBlockSecond, [
        abandoned,
        0n,
        abandonReward,
        0n,
        abandoned - abandonReward,
      ]);
    await check([job.jobId]);

    // Then as if every reopening but the last had added a whole bond (more than any can): claim 998 holds the fee
    // fee0 + 998 bonds (the market minted what those 998 slashes would have brought in, so the books still balance).
    const terms2 = raised(job.terms, reward + abandonReward, await reopenedRampStart(market, job.jobId));
    await market.connect(prover).claim(job.jobId, terms2);
    // (Its ramp start: any second will do, the test sets the terms' hash itself.)
    const terms998 = raised(job.terms, 998n * BOND, job.terms.rampStart);
    await setClaimedAttempt(ethers, market, job.jobId, MAX_ATTEMPTS - 2n);
    await setTermsHash(
      ethers,
      market,
      job.jobId,
      termsHash(terms998, (await market.circuit(circuitId)).verifierCodeHash),
    );
    await token.mint(await market.getAddress(), terms998.maxFee - terms2.maxFee);
    await check([{ jobId: job.jobId, terms: terms998 }]);

    // The last reopening: the fee reaches MAX96 less the requester's tenth of a bond, and fits.
    const feeMax = MAX96 - back;
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await expect(market.connect(keeper).reassign(job.jobId, terms998))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, MAX_ATTEMPTS - 1n, feeMax, feeMax, aBlockSecond, [
        BOND,
        0n,
        reward,
        0n,
        back,
      ]);
    const termsMax = raised(job.terms, feeMax - fee0, await reopenedRampStart(market, job.jobId));
    await check([{ jobId: job.jobId, terms: termsMax }]);

    // The last claim fails: the job closes with the whole (largest possible) escrow refunded, with the requester's
    // shares of every slash.
    await market.connect(prover2).claim(job.jobId, termsMax);
    await expect(market.connect(prover2).abandon(job.jobId, termsMax))
      .to.emit(market, "JobExpired")
      .withArgs(job.jobId, requester.address, prover2.address, feeMax, [abandoned, 0n, 0n, 0n, abandoned]);
    const owed = feeMax + abandoned + back + (abandoned - abandonReward) + back;
    expect(await market.withdrawable(requester.address)).to.equal(owed);
    await check([job.jobId]);
    const before = await token.balanceOf(requester.address);
    await market.connect(requester).withdraw(requester.address);
    expect(await token.balanceOf(requester.address)).to.equal(before + owed);
    await check([job.jobId]);
  });

  it("earnings past uint96 are still paid: a proof whose fee would overflow the account slot credits withdrawable instead", async function () {
    const { market, token, requester, prover, circuitId, check } = await loadFixture(fixture);
    await token.mint(requester.address, 2n * MAX96);
    const fee = MAX96 - (MAX_ATTEMPTS - 1n) * BOND;
    const jobs = [];
    for (const seed of [1, 2]) {
      const job = await postProvableJob(ethers, market, requester, circuitId, seed, undefined, undefined, { fee });
      await market.connect(prover).claim(job.jobId, job.terms);
      await market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals);
      jobs.push(job.jobId);
    }
    expect((await market.account(prover.address)).earned).to.equal(fee);
    expect(await market.withdrawable(prover.address)).to.equal(2n * fee);
    await check(jobs);
    const before = await token.balanceOf(prover.address);
    await expect(market.connect(prover).withdraw(prover.address))
      .to.emit(market, "Withdrawn")
      .withArgs(prover.address, prover.address, 2n * fee);
    expect(await token.balanceOf(prover.address)).to.equal(before + 2n * fee);
    expect(await market.withdrawable(prover.address)).to.equal(0n);
    await check(jobs);
  });

  it("staking past 2^96-1 reverts AmountTooLarge, and so does unbonding past it", async function () {
    const { market, token, prover2, check } = await loadFixture(fixture);
    await token.mint(prover2.address, 2n * MAX96);
    await market.connect(prover2).stake(MAX96 - STAKE);
    await expect(market.connect(prover2).stake(1n))
      .to.be.revertedWithCustomError(market, "AmountTooLarge")
      .withArgs("staked", MAX96 + 1n, MAX96);
    await check([]);

    await market.connect(prover2).requestUnstake(MAX96);
    await market.connect(prover2).stake(1n);
    await expect(market.connect(prover2).requestUnstake(1n))
      .to.be.revertedWithCustomError(market, "AmountTooLarge")
      .withArgs("unbonding", MAX96 + 1n, MAX96);
    const acct = await market.account(prover2.address);
    expect([acct.staked, acct.unbonding]).to.deep.equal([1n, MAX96]);
    await check([]);

    await time.increaseTo(acct.unbondingReadyAt);
    const before = await token.balanceOf(prover2.address);
    await market.connect(prover2).completeUnstake();
    expect(await token.balanceOf(prover2.address)).to.equal(before + MAX96);
    await check([]);
  });
});

describe("ProofMarket: the attempt limit", function () {
  async function claimedAt(attempt: bigint) {
    const f = await loadFixture(fixture);
    const job = await postJob(ethers, f.market, f.requester, f.circuitId, [1n]);
    await f.market.connect(f.prover).claim(job.jobId, job.terms);
    await setClaimedAttempt(ethers, f.market, job.jobId, attempt);
    return { ...f, job };
  }

  it("a reassign of the claim numbered MAX_ATTEMPTS-1 closes the job as Expired, the fee and the reward share refunded", async function () {
    const { market, requester, prover, keeper, job, check } = await claimedAt(MAX_ATTEMPTS - 1n);
    expect(await market.MAX_ATTEMPTS()).to.equal(MAX_ATTEMPTS);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    const s = keeperSplit(BOND, true);
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobExpired")
      .withArgs(job.jobId, requester.address, prover.address, FEE, s)
      .and.not.to.emit(market, "JobReassigned");
    const state = await market.jobState(job.jobId);
    expect([state.status, state.attempt]).to.deep.equal([Status.Expired, MAX_ATTEMPTS - 1n]);
    expect(await market.withdrawable(requester.address)).to.equal(FEE + s[4]);
    expect(await market.withdrawable(keeper.address)).to.equal(s[1]);
    expect((await market.account(prover.address)).staked).to.equal(STAKE - BOND);
    await expect(market.connect(keeper).claim(job.jobId, job.terms))
      .to.be.revertedWithCustomError(market, "WrongStatus")
      .withArgs(job.jobId, Status.Expired);
    await check([job.jobId]);
  });

  it("an abandon of the claim numbered MAX_ATTEMPTS-1 closes the job as Expired", async function () {
    const { market, requester, prover, job, check } = await claimedAt(MAX_ATTEMPTS - 1n);
    const slashed = bps(BOND, PARAMS.abandonSlashBps);
    const treasuryShare = bps(slashed, PARAMS.treasuryShareBps);
    await expect(market.connect(prover).abandon(job.jobId, job.terms))
      .to.emit(market, "JobExpired")
      .withArgs(job.jobId, requester.address, prover.address, FEE, [
        slashed,
        0n,
        0n,
        treasuryShare,
        slashed - treasuryShare,
      ])
      .and.not.to.emit(market, "JobAbandoned");
    expect((await market.jobState(job.jobId)).status).to.equal(Status.Expired);
    expect(await market.withdrawable(requester.address)).to.equal(FEE + slashed - treasuryShare);
    await check([job.jobId]);
  });

  it("the claim numbered MAX_ATTEMPTS-2 still reopens the job once, for one last claim", async function () {
    const { market, requester, prover, prover2, keeper, job, check } = await claimedAt(MAX_ATTEMPTS - 2n);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    const s = keeperSplit(BOND, false);
    const fee = FEE + s[2];
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, MAX_ATTEMPTS - 1n, fee, fee, aBlockSecond, s);
    const last = raised(job.terms, s[2], await reopenedRampStart(market, job.jobId));
    await expect(market.connect(prover2).claim(job.jobId, last))
      .to.emit(market, "JobClaimed")
      .withArgs(job.jobId, prover2.address, MAX_ATTEMPTS - 1n, (n: bigint) => n > 0n, BOND, fee);
    await check([job.jobId]);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    const s2 = keeperSplit(BOND, true);
    await expect(market.connect(keeper).reassign(job.jobId, last))
      .to.emit(market, "JobExpired")
      .withArgs(job.jobId, requester.address, prover2.address, fee, s2);
    expect(await market.withdrawable(requester.address)).to.equal(s[4] + fee + s2[4]);
    await check([job.jobId]);
  });
});
