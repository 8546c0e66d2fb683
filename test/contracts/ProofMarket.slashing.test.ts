import { expect } from "chai";
import { network } from "hardhat";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import {
  BOND,
  deployStakedMarket,
  FEE,
  PARAMS,
  postJob,
  postProvableJob,
  STAKE,
  UNBONDING_DELAY,
} from "./helpers/fixture.ts";
import { bps } from "./helpers/splits.ts";
import { aBlockSecond, claimDeadline, raised, reopenedRampStart } from "./helpers/jobs.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const Status = JOB_STATUS;

async function fixture() {
  const base = await deployStakedMarket(ethers);
  const circuitId = base.circuitId;
  const job = await postProvableJob(ethers, base.market, base.requester, circuitId, 1);
  await base.market.connect(base.prover).claim(job.jobId, job.terms);
  return { ...base, circuitId, job };
}

describe("ProofMarket: stalled claims, reassignment and abandonment", function () {
  it("reassign after the deadline slashes the bond, splits it, raises both fees and reopens the job", async function () {
    const { market, treasury, requester, prover, prover2, keeper, job } = await loadFixture(fixture);
    const deadline = await claimDeadline(market, job.jobId, job.terms);
    await time.increaseTo(deadline + 1n);
    const split = {
      keeper: bps(BOND, PARAMS.keeperShareBps),
      reward: bps(BOND, PARAMS.rewardShareBps),
      treasury: bps(BOND, PARAMS.treasuryShareBps),
    };
    const requesterShare = BOND - split.keeper - split.reward - split.treasury;
    const newFee = FEE + split.reward;
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(job.jobId, prover.address, keeper.address, 1n, newFee, newFee, aBlockSecond, [
        BOND,
        split.keeper,
        split.reward,
        split.treasury,
        requesterShare,
      ]);
    const state = await market.jobState(job.jobId);
    expect(state.status).to.equal(Status.Open);
    expect(state.attempt).to.equal(1n);
    expect(await market.withdrawable(keeper.address)).to.equal(split.keeper);
    expect(await market.withdrawable(treasury.address)).to.equal(split.treasury);
    expect(await market.withdrawable(requester.address)).to.equal(requesterShare);
    const acct = await market.account(prover.address);
    expect(acct.staked).to.equal(STAKE - BOND);
    expect(acct.locked).to.equal(0n);

    // The next prover claims on the new terms and is paid the raised fee.
    const newTerms = raised(job.terms, split.reward, await reopenedRampStart(market, job.jobId));
    await expect(market.connect(prover2).claim(job.jobId, job.terms)).to.be.revertedWithCustomError(
      market,
      "TermsMismatch",
    );
    await market.connect(prover2).claim(job.jobId, newTerms);
    await expect(market.connect(prover2).submitProof(job.jobId, newTerms, job.proof.proof, job.proof.publicSignals))
      .to.emit(market, "JobProved")
      .withArgs(job.jobId, prover2.address, 1n, newFee, []);
    expect(await market.withdrawable(prover2.address)).to.equal(newFee);
  });

  it("reassign before the deadline reverts", async function () {
    const { market, keeper, job } = await loadFixture(fixture);
    const deadline = await claimDeadline(market, job.jobId, job.terms);
    await expect(market.connect(keeper).reassign(job.jobId, job.terms))
      .to.be.revertedWithCustomError(market, "ClaimStillLive")
      .withArgs(job.jobId, deadline);
  });

  it("double reassign reverts (the job is Open after the first)", async function () {
    const { market, keeper, stranger, job } = await loadFixture(fixture);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await market.connect(keeper).reassign(job.jobId, job.terms);
    const newTerms = raised(job.terms, bps(BOND, PARAMS.rewardShareBps), await reopenedRampStart(market, job.jobId));
    await expect(market.connect(stranger).reassign(job.jobId, newTerms))
      .to.be.revertedWithCustomError(market, "WrongStatus")
      .withArgs(job.jobId, Status.Open);
  });

  it("the assignee cannot reassign its own stalled job to collect the keeper share", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await expect(market.connect(prover).reassign(job.jobId, job.terms)).to.be.revertedWithCustomError(
      market,
      "AssigneeCannotReassign",
    );
  });

  it("reassign past the job's expiry reverts: expire closes it instead", async function () {
    const { market, requester, prover, keeper, circuitId } = await loadFixture(fixture);
    const job = await postJob(ethers, market, requester, circuitId, [5n], { expiresIn: 700n });
    await market.connect(prover).claim(job.jobId, job.terms);
    await time.increaseTo(job.terms.expiresAt + 1n);
    await expect(market.connect(keeper).reassign(job.jobId, job.terms)).to.be.revertedWithCustomError(
      market,
      "JobPastExpiry",
    );
  });

  it("abandon before the deadline takes the smaller slash and reopens the job", async function () {
    const { market, requester, prover, treasury, job } = await loadFixture(fixture);
    const slashed = bps(BOND, PARAMS.abandonSlashBps);
    const reward = bps(slashed, PARAMS.rewardShareBps);
    const treasuryShare = bps(slashed, PARAMS.treasuryShareBps);
    await expect(market.connect(prover).abandon(job.jobId, job.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(job.jobId, prover.address, 1n, FEE + reward, FEE + reward, aBlockSecond, [
        slashed,
        0n,
        reward,
        treasuryShare,
        slashed - reward - treasuryShare,
      ]);
    const acct = await market.account(prover.address);
    expect(acct.staked).to.equal(STAKE - slashed);
    expect(acct.locked).to.equal(0n);
    expect(slashed).to.be.lessThan(BOND);
    expect(await market.withdrawable(treasury.address)).to.equal(treasuryShare);
    expect(await market.withdrawable(requester.address)).to.equal(slashed - reward - treasuryShare);
    expect((await market.jobState(job.jobId)).status).to.equal(Status.Open);
  });

  it("abandon is for the assignee only, and only while its claim is live", async function () {
    const { market, prover, stranger, job } = await loadFixture(fixture);
    await expect(market.connect(stranger).abandon(job.jobId, job.terms)).to.be.revertedWithCustomError(
      market,
      "NotAssignee",
    );
    const deadline = await claimDeadline(market, job.jobId, job.terms);
    await time.increaseTo(deadline + 1n);
    await expect(market.connect(prover).abandon(job.jobId, job.terms))
      .to.be.revertedWithCustomError(market, "ClaimExpired")
      .withArgs(job.jobId, deadline);
  });
});

describe("ProofMarket: staking", function () {
  it("stake, request unstake, complete after the unbonding delay", async function () {
    const { market, token, prover2 } = await loadFixture(fixture);
    const amount = STAKE / 2n;
    const tx = await market.connect(prover2).requestUnstake(amount);
    const readyAt = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + UNBONDING_DELAY;
    await expect(tx).to.emit(market, "UnstakeRequested").withArgs(prover2.address, amount, amount, readyAt);
    expect(await market.freeStake(prover2.address)).to.equal(STAKE - amount);
    await expect(market.connect(prover2).completeUnstake())
      .to.be.revertedWithCustomError(market, "UnbondingNotReady")
      .withArgs(prover2.address, readyAt);
    await time.increaseTo(readyAt);
    const before = await token.balanceOf(prover2.address);
    await expect(market.connect(prover2).completeUnstake())
      .to.emit(market, "Unstaked")
      .withArgs(prover2.address, amount);
    expect(await token.balanceOf(prover2.address)).to.equal(before + amount);
    await expect(market.connect(prover2).completeUnstake()).to.be.revertedWithCustomError(market, "NothingUnbonding");
  });

  it("unstake racing a slash: locked stake cannot be unbonded, so the slash still lands", async function () {
    const { market, prover, keeper, job } = await loadFixture(fixture);
    await expect(market.connect(prover).requestUnstake(STAKE))
      .to.be.revertedWithCustomError(market, "InsufficientStake")
      .withArgs(prover.address, STAKE - BOND, STAKE);
    await market.connect(prover).requestUnstake(STAKE - BOND);
    await time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await market.connect(keeper).reassign(job.jobId, job.terms);
    const acct = await market.account(prover.address);
    expect(acct.staked).to.equal(0n);
    expect(acct.unbonding).to.equal(STAKE - BOND);
    expect(acct.locked).to.equal(0n);
  });

  it("the unbonding delay is longer than any proving window, at deployment and on every change", async function () {
    const { market } = await loadFixture(fixture);
    await expect(market.setParams({ ...PARAMS, maxProvingWindow: UNBONDING_DELAY }))
      .to.be.revertedWithCustomError(market, "ProvingWindowNotBelowUnbondingDelay")
      .withArgs(UNBONDING_DELAY, UNBONDING_DELAY);
    const token = await market.token();
    const [owner] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("ProofMarket");
    await expect(
      factory.deploy(token, owner.address, owner.address, 3600n, { ...PARAMS, maxProvingWindow: 3600n }),
    ).to.be.revertedWithCustomError(market, "ProvingWindowNotBelowUnbondingDelay");
  });

  it("zero amounts are refused", async function () {
    const { market, prover } = await loadFixture(fixture);
    await expect(market.connect(prover).stake(0n)).to.be.revertedWithCustomError(market, "ZeroAmount");
    await expect(market.connect(prover).requestUnstake(0n)).to.be.revertedWithCustomError(market, "ZeroAmount");
  });
});
