import { expect } from "chai";
import { termsHash } from "./helpers/accounting.ts";
import { network } from "hardhat";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { ZeroAddress } from "ethers";
import { BOND, deployStakedMarket, FEE, PARAMS, postJob, postProvableJob, STAKE, WINDOW } from "./helpers/fixture.ts";
import { claimDeadline } from "./helpers/jobs.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const Status = JOB_STATUS;

async function fixture() {
  const base = await deployStakedMarket(ethers);
  const circuitId = base.circuitId;
  return { ...base, circuitId };
}

describe("ProofMarket: job lifecycle", function () {
  describe("postJob", function () {
    it("escrows the fee (maxFee) and opens the job", async function () {
      const { market, token, requester, circuitId } = await loadFixture(fixture);
      const before = await token.balanceOf(await market.getAddress());
      const { jobId, terms, receipt } = await postJob(ethers, market, requester, circuitId, [1n, 2n]);
      expect(await token.balanceOf(await market.getAddress())).to.equal(before + FEE);
      expect((await market.jobState(jobId)).status).to.equal(Status.Open);
      // The commitment binds the terms and the verifier's code hash recorded at registration.
      const { verifierCodeHash } = await market.circuit(circuitId);
      expect(verifierCodeHash).to.equal(
        ethers.keccak256(await ethers.provider.getCode((await market.circuit(circuitId)).verifier)),
      );
      expect(await market.jobTermsHash(jobId)).to.equal(termsHash(terms, verifierCodeHash));
      expect(receipt.logs.length).to.be.greaterThan(0);
    });

    it("reverts for an unknown circuit, a zero fee, a bond below the minimum, a bad window or a too-near expiry", async function () {
      const { market, requester, circuitId } = await loadFixture(fixture);
      await expect(postJob(ethers, market, requester, 99n, [1n]))
        .to.be.revertedWithCustomError(market, "UnknownCircuit")
        .withArgs(99n);
      await expect(postJob(ethers, market, requester, circuitId, [1n], { fee: 0n })).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await expect(postJob(ethers, market, requester, circuitId, [1n], { bond: 1n }))
        .to.be.revertedWithCustomError(market, "BondBelowMinimum")
        .withArgs(1n, PARAMS.minBond);
      await expect(postJob(ethers, market, requester, circuitId, [1n], { provingWindow: 10n }))
        .to.be.revertedWithCustomError(market, "ProvingWindowOutOfBounds")
        .withArgs(10n, PARAMS.minProvingWindow, PARAMS.maxProvingWindow);
      await expect(
        postJob(ethers, market, requester, circuitId, [1n], { expiresIn: WINDOW - 5n }),
      ).to.be.revertedWithCustomError(market, "ExpiryTooSoon");
    });
  });

  describe("claim", function () {
    it("locks the bond out of free stake, records the claim's second and sets the deadline to now + provingWindow", async function () {
      const { market, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      const tx = await market.connect(prover).claim(jobId, terms);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await expect(tx)
        .to.emit(market, "JobClaimed")
        .withArgs(jobId, prover.address, 0n, now + WINDOW, BOND, FEE);
      const state = await market.jobState(jobId);
      expect(state.status).to.equal(Status.Claimed);
      expect(state.assignee).to.equal(prover.address);
      expect(state.claimedAt).to.equal(now);
      expect(await claimDeadline(market, jobId, terms)).to.equal(now + WINDOW);
      expect(await market.freeStake(prover.address)).to.equal(STAKE - BOND);
      expect((await market.account(prover.address)).locked).to.equal(BOND);
    });

    it("never sets a deadline past the job's expiry", async function () {
      const { market, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n], { expiresIn: WINDOW + 100n });
      await time.increase(200);
      await expect(market.connect(prover).claim(jobId, terms))
        .to.emit(market, "JobClaimed")
        .withArgs(jobId, prover.address, 0n, terms.expiresAt, BOND, FEE);
      expect(await claimDeadline(market, jobId, terms)).to.equal(terms.expiresAt);
    });

    it("reverts when the stake is locked (free stake below the bond)", async function () {
      const { market, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n], { bond: STAKE - 1n });
      await market.connect(prover).claim(jobId, terms);
      const second = await postJob(ethers, market, requester, circuitId, [2n], { bond: 2n * BOND });
      await expect(market.connect(prover).claim(second.jobId, second.terms))
        .to.be.revertedWithCustomError(market, "InsufficientStake")
        .withArgs(prover.address, 1n, 2n * BOND);
    });

    it("allows one assignee at a time", async function () {
      const { market, requester, prover, prover2, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await market.connect(prover).claim(jobId, terms);
      await expect(market.connect(prover2).claim(jobId, terms))
        .to.be.revertedWithCustomError(market, "WrongStatus")
        .withArgs(jobId, Status.Claimed);
    });

    it("reverts on terms that do not match the job (a prover cannot claim on better terms)", async function () {
      const { market, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await expect(market.connect(prover).claim(jobId, { ...terms, bond: 1n }))
        .to.be.revertedWithCustomError(market, "TermsMismatch")
        .withArgs(jobId);
      await expect(market.connect(prover).claim(77n, terms))
        .to.be.revertedWithCustomError(market, "UnknownJob")
        .withArgs(77n);
    });

    it("reverts once the job has expired", async function () {
      const { market, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n], { expiresIn: WINDOW + 5n });
      await time.increaseTo(terms.expiresAt);
      await expect(market.connect(prover).claim(jobId, terms))
        .to.be.revertedWithCustomError(market, "JobPastExpiry")
        .withArgs(jobId, terms.expiresAt);
    });
  });

  describe("cancel", function () {
    it("refunds the fee of an Open job to its requester", async function () {
      const { market, requester, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await expect(market.connect(requester).cancel(jobId, terms))
        .to.emit(market, "JobCancelled")
        .withArgs(jobId, requester.address, FEE);
      expect((await market.jobState(jobId)).status).to.equal(Status.Cancelled);
      expect(await market.withdrawable(requester.address)).to.equal(FEE);
      expect(await market.jobTermsHash(jobId)).to.equal(ethers.ZeroHash);
    });

    it("reverts after a claim, and for anyone but the requester", async function () {
      const { market, requester, prover, stranger, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await expect(market.connect(stranger).cancel(jobId, terms))
        .to.be.revertedWithCustomError(market, "NotRequester")
        .withArgs(jobId, stranger.address);
      await market.connect(prover).claim(jobId, terms);
      await expect(market.connect(requester).cancel(jobId, terms))
        .to.be.revertedWithCustomError(market, "WrongStatus")
        .withArgs(jobId, Status.Claimed);
    });
  });

  describe("expire", function () {
    it("refunds an Open job after expiry, and not before", async function () {
      const { market, requester, stranger, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await expect(market.connect(stranger).expire(jobId, terms))
        .to.be.revertedWithCustomError(market, "JobNotExpired")
        .withArgs(jobId, terms.expiresAt);
      await time.increaseTo(terms.expiresAt + 1n);
      await expect(market.connect(stranger).expire(jobId, terms))
        .to.emit(market, "JobExpired")
        .withArgs(jobId, requester.address, ZeroAddress, FEE, [0n, 0n, 0n, 0n, 0n]);
      expect((await market.jobState(jobId)).status).to.equal(Status.Expired);
      expect(await market.withdrawable(requester.address)).to.equal(FEE);
    });

    it("while claimed: slashes the assignee, pays the keeper share, refunds fee and the rest to the requester", async function () {
      const { market, requester, prover, keeper, treasury, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n], { expiresIn: WINDOW + 5n });
      await market.connect(prover).claim(jobId, terms);
      await time.increaseTo(terms.expiresAt + 1n);
      await expect(market.connect(prover).expire(jobId, terms)).to.be.revertedWithCustomError(
        market,
        "AssigneeCannotReassign",
      );
      const keeperShare = (BOND * PARAMS.keeperShareBps) / 10_000n;
      const treasuryShare = (BOND * PARAMS.treasuryShareBps) / 10_000n;
      const requesterShare = BOND - keeperShare - treasuryShare;
      await expect(market.connect(keeper).expire(jobId, terms))
        .to.emit(market, "JobExpired")
        .withArgs(jobId, requester.address, prover.address, FEE, [
          BOND,
          keeperShare,
          0n,
          treasuryShare,
          requesterShare,
        ]);
      expect(await market.withdrawable(requester.address)).to.equal(FEE + requesterShare);
      expect(await market.withdrawable(keeper.address)).to.equal(keeperShare);
      expect(await market.withdrawable(treasury.address)).to.equal(treasuryShare);
      const acct = await market.account(prover.address);
      expect(acct.staked).to.equal(STAKE - BOND);
      expect(acct.locked).to.equal(0n);
    });

    it("a final job cannot be acted on again", async function () {
      const { market, requester, circuitId } = await loadFixture(fixture);
      const { jobId, terms } = await postJob(ethers, market, requester, circuitId, [1n]);
      await market.connect(requester).cancel(jobId, terms);
      await time.increaseTo(terms.expiresAt + 1n);
      await expect(market.expire(jobId, terms))
        .to.be.revertedWithCustomError(market, "WrongStatus")
        .withArgs(jobId, Status.Cancelled);
    });
  });

  describe("happy path", function () {
    it("post, claim, submit a real proof: the prover is paid and its bond released", async function () {
      const { market, token, requester, prover, circuitId } = await loadFixture(fixture);
      const { jobId, terms, proof } = await postProvableJob(ethers, market, requester, circuitId, 1);
      await market.connect(prover).claim(jobId, terms);
      await expect(market.connect(prover).submitProof(jobId, terms, proof.proof, proof.publicSignals))
        .to.emit(market, "JobProved")
        .withArgs(jobId, prover.address, 0n, FEE, []);
      expect((await market.jobState(jobId)).status).to.equal(Status.Proved);
      expect(await market.withdrawable(prover.address)).to.equal(FEE);
      expect((await market.account(prover.address)).locked).to.equal(0n);
      const before = await token.balanceOf(prover.address);
      await expect(market.connect(prover).withdraw(prover.address))
        .to.emit(market, "Withdrawn")
        .withArgs(prover.address, prover.address, FEE);
      expect(await token.balanceOf(prover.address)).to.equal(before + FEE);
      await expect(market.connect(prover).withdraw(prover.address)).to.be.revertedWithCustomError(
        market,
        "NothingToWithdraw",
      );
    });
  });
});
