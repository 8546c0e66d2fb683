/**
 * Issue #12's attacks through a circuit's verifier, at the contract level. The market records each verifier's code
 * hash at registration and refuses a claim or a submission once the code changed (VerifierCodeChanged), releasing a
 * claim held on it without slash. What it cannot see (a verifier whose code never changes but whose answers do, or a
 * batch verifier that accepts anything from the start) is the worker's bytecode check to refuse: here the tests pin
 * down what such a circuit costs an honest prover, and that the market's money still adds up.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash } from "ethers";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { deployCheckedMarket } from "./helpers/accounting.ts";
import { batchArgs, BOND, FEE, PARAMS, postProvableJob, STAKE, type Terms, WINDOW } from "./helpers/fixture.ts";
import { bps } from "./helpers/splits.ts";
import { aBlockSecond, claimDeadline, raised, reopenedRampStart } from "./helpers/jobs.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const Status = JOB_STATUS;
const NO_SLASH = [0n, 0n, 0n, 0n, 0n];
/** A Groth16 proof's length: 8 words. */
const GARBAGE_PROOF = new Uint8Array(256);

async function fixture() {
  const base = await deployCheckedMarket(ethers);
  const rejecting = await ethers.deployContract("RejectingVerifier");
  return { ...base, rejectingCode: await ethers.provider.getCode(await rejecting.getAddress()) };
}

/** Registers poseidon_preimage/Groth16 (2 public inputs) with the given verifiers; returns the circuit id. */
async function registerPoseidon(market: any, verifier: string, batchVerifier = ZeroAddress): Promise<bigint> {
  await (
    await market.registerCircuit({
      name: "poseidon_preimage/groth16 (hostile)",
      verifier,
      system: 0,
      nPublicOutputs: 0,
      nPublicInputs: 2,
      batchVerifier,
      manifestHash: ZeroHash,
      artifactsURI: "",
    })
  ).wait();
  return market.circuitCount();
}

/** The abandon slash under the fixture's parameters, and how it splits (no keeper on abandon). */
function abandonSplit() {
  const slashed = bps(BOND, PARAMS.abandonSlashBps);
  const reward = bps(slashed, PARAMS.rewardShareBps);
  const treasuryShare = bps(slashed, PARAMS.treasuryShareBps);
  return { slashed, reward, treasuryShare, requesterShare: slashed - reward - treasuryShare };
}

async function expectAbandonCostsOnlyTheFraction(
  f: Awaited<ReturnType<typeof fixture>>,
  job: { jobId: bigint; terms: Terms },
) {
  const { market, prover, requester, treasury } = f;
  const s = abandonSplit();
  await expect(market.connect(prover).abandon(job.jobId, job.terms))
    .to.emit(market, "JobAbandoned")
    .withArgs(job.jobId, prover.address, 1n, FEE + s.reward, FEE + s.reward, aBlockSecond, [
      s.slashed,
      0n,
      s.reward,
      s.treasuryShare,
      s.requesterShare,
    ]);
  const acct = await market.account(prover.address);
  expect(acct.staked).to.equal(STAKE - s.slashed);
  expect(acct.locked).to.equal(0n);
  expect(await market.withdrawable(treasury.address)).to.equal(s.treasuryShare);
  expect(await market.withdrawable(requester.address)).to.equal(s.requesterShare);
}

describe("ProofMarket: hostile verifiers", function () {
  it("rug pull: the verifier forwards to the real one until its owner flips it after a claim; the market cannot see it, and the honest prover who abandons loses only the abandon fraction", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover, stranger: attacker } = f;
    const real = await ethers.deployContract("PoseidonPreimageGroth16Verifier");
    const rug = await ethers.deployContract("RugPullVerifier", [await real.getAddress()], attacker);
    const circuitId = await registerPoseidon(market, await rug.getAddress());

    // Before the pull it verifies like the real verifier: a first job is proved and paid.
    const honest = await postProvableJob(ethers, market, requester, circuitId, 1);
    await market.connect(prover).claim(honest.jobId, honest.terms);
    await expect(
      market.connect(prover).submitProof(honest.jobId, honest.terms, honest.proof.proof, honest.proof.publicSignals),
    ).to.emit(market, "JobProved");

    const job = await postProvableJob(ethers, market, requester, circuitId, 2);
    await market.connect(prover).claim(job.jobId, job.terms);
    await rug.connect(attacker).pull();
    // Its code is the code registered: nothing for the market's check to refuse.
    expect((await market.circuit(circuitId)).verifierCodeHash).to.equal(
      ethers.keccak256(await ethers.provider.getCode(await rug.getAddress())),
    );
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(job.jobId);

    await expectAbandonCostsOnlyTheFraction(f, job);
    expect(await market.withdrawable(prover.address)).to.equal(FEE);
    await f.check([honest.jobId, job.jobId]);
  });

  it("reject-all verifier: a real proof is refused with InvalidProof, and abandoning costs only the abandon fraction", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover } = f;
    const rejecting = await ethers.deployContract("RejectingVerifier");
    const circuitId = await registerPoseidon(market, await rejecting.getAddress());
    const job = await postProvableJob(ethers, market, requester, circuitId, 1);
    await market.connect(prover).claim(job.jobId, job.terms);
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(job.jobId);
    await expectAbandonCostsOnlyTheFraction(f, job);
    expect((await market.jobState(job.jobId)).status).to.equal(Status.Open);
    await f.check([job.jobId]);
  });

  it("verifier code replaced after the claim: submit and claim are refused with VerifierCodeChanged, and abandon, reassign and expire release the claims without slash", async function () {
    const f = await loadFixture(fixture);
    const { market, token, requester, prover, prover2, keeper, circuitId, rejectingCode } = f;
    const { verifier, verifierCodeHash } = await market.circuit(circuitId);
    const changedHash = ethers.keccak256(rejectingCode);
    const registeredCode = await ethers.provider.getCode(verifier);

    const abandoned = await postProvableJob(ethers, market, requester, circuitId, 1);
    const unclaimed = await postProvableJob(ethers, market, requester, circuitId, 2);
    const stalled = await postProvableJob(ethers, market, requester, circuitId, 3);
    const expiring = await postProvableJob(ethers, market, requester, circuitId, 4, undefined, undefined, {
      expiresIn: WINDOW + 5n,
    });
    await market.connect(prover).claim(abandoned.jobId, abandoned.terms);
    await market.connect(prover2).claim(stalled.jobId, stalled.terms);
    await market.connect(prover).claim(expiring.jobId, expiring.terms);
    const held = await token.balanceOf(await market.getAddress());

    await networkHelpers.setCode(verifier, rejectingCode);
    await expect(
      market
        .connect(prover)
        .submitProof(abandoned.jobId, abandoned.terms, abandoned.proof.proof, abandoned.proof.publicSignals),
    )
      .to.be.revertedWithCustomError(market, "VerifierCodeChanged")
      .withArgs(circuitId, verifier, verifierCodeHash, changedHash);
    await expect(market.connect(prover2).claim(unclaimed.jobId, unclaimed.terms))
      .to.be.revertedWithCustomError(market, "VerifierCodeChanged")
      .withArgs(circuitId, verifier, verifierCodeHash, changedHash);
    // Terms naming another circuit are wrong terms, not a changed verifier of that circuit (a worker takes a circuit
    // out of service on VerifierCodeChanged).
    await expect(market.connect(prover2).claim(unclaimed.jobId, { ...unclaimed.terms, circuitId: 99n }))
      .to.be.revertedWithCustomError(market, "TermsMismatch")
      .withArgs(unclaimed.jobId);

    // abandon: no slash, the fees not raised.
    await expect(market.connect(prover).abandon(abandoned.jobId, abandoned.terms))
      .to.emit(market, "JobAbandoned")
      .withArgs(abandoned.jobId, prover.address, 1n, FEE, FEE, aBlockSecond, NO_SLASH);
    // Reopened on the same fee, its ramp (a fixed price) restarted at the abandon's second.
    const reopened = raised(abandoned.terms, 0n, await reopenedRampStart(market, abandoned.jobId));
    // reassign by a keeper after the deadline: no slash, nothing for the keeper.
    const deadline = await claimDeadline(market, stalled.jobId, stalled.terms);
    await time.increaseTo((deadline > expiring.terms.expiresAt ? deadline : expiring.terms.expiresAt) + 1n);
    await expect(market.connect(keeper).reassign(stalled.jobId, stalled.terms))
      .to.emit(market, "JobReassigned")
      .withArgs(stalled.jobId, prover2.address, keeper.address, 1n, FEE, FEE, aBlockSecond, NO_SLASH);
    // expire: the fee refunded, no slash.
    await expect(market.connect(keeper).expire(expiring.jobId, expiring.terms))
      .to.emit(market, "JobExpired")
      .withArgs(expiring.jobId, requester.address, prover.address, FEE, NO_SLASH);
    // The Open job cannot be claimed, but its requester can take the fee back.
    await market.connect(requester).cancel(unclaimed.jobId, unclaimed.terms);

    for (const p of [prover, prover2]) {
      const acct = await market.account(p.address);
      expect(acct.staked).to.equal(STAKE);
      expect(acct.locked).to.equal(0n);
    }
    expect(await market.withdrawable(keeper.address)).to.equal(0n);
    expect(await market.withdrawable(f.treasury.address)).to.equal(0n);
    expect(await market.withdrawable(requester.address)).to.equal(2n * FEE);
    expect(await token.balanceOf(await market.getAddress())).to.equal(held);
    const jobs = [abandoned.jobId, unclaimed.jobId, stalled.jobId, expiring.jobId];
    await f.check(jobs);

    // The check is on the code, not a latch: with the registered code back, the reopened job is proved.
    await networkHelpers.setCode(verifier, registeredCode);
    await market.connect(prover2).claim(abandoned.jobId, reopened);
    await expect(
      market
        .connect(prover2)
        .submitProof(abandoned.jobId, reopened, abandoned.proof.proof, abandoned.proof.publicSignals),
    )
      .to.emit(market, "JobProved")
      .withArgs(abandoned.jobId, prover2.address, 1n, FEE, []);
    await f.check(jobs);
  });

  it("lying batch verifier beside the real one: garbage batches are paid (the market cannot tell; the worker's check refuses such a circuit), and once its code changes the batch path is refused while single proofs still verify", async function () {
    const f = await loadFixture(fixture);
    const { market, requester, prover, rejectingCode } = f;
    const real = await ethers.deployContract("PoseidonPreimageGroth16Verifier");
    const lying = await ethers.deployContract("LyingBatchVerifier", [2n]);
    const circuitId = await registerPoseidon(market, await real.getAddress(), await lying.getAddress());
    const jobs = [];
    for (const seed of [1, 2, 3, 4]) {
      const job = await postProvableJob(ethers, market, requester, circuitId, seed);
      await market.connect(prover).claim(job.jobId, job.terms);
      jobs.push(job);
    }
    const [a, b, c, d] = jobs;
    const garbage = (job: typeof a) => ({ ...job, proof: { ...job.proof, proof: GARBAGE_PROOF } });

    // Garbage proofs through the batch path are accepted and paid.
    await expect(market.connect(prover).submitProofs(...batchArgs([garbage(a), garbage(b)])))
      .to.emit(market, "JobProved")
      .withArgs(b.jobId, prover.address, 0n, FEE, []);
    expect(await market.withdrawable(prover.address)).to.equal(2n * FEE);
    // The single path uses the real verifier.
    await expect(market.connect(prover).submitProof(c.jobId, c.terms, GARBAGE_PROOF, c.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(c.jobId);

    // The batch verifier's code changes after registration: the batch path is refused, even with real proofs.
    const { batchVerifierCodeHash } = await market.circuit(circuitId);
    await networkHelpers.setCode(await lying.getAddress(), rejectingCode);
    await expect(market.connect(prover).submitProofs(...batchArgs([c, d])))
      .to.be.revertedWithCustomError(market, "VerifierCodeChanged")
      .withArgs(circuitId, await lying.getAddress(), batchVerifierCodeHash, ethers.keccak256(rejectingCode));
    // ...and single submissions still verify with the real verifier.
    for (const job of [c, d]) {
      await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
        .to.emit(market, "JobProved")
        .withArgs(job.jobId, prover.address, 0n, FEE, []);
    }
    expect(await market.withdrawable(prover.address)).to.equal(4n * FEE);
    expect((await market.account(prover.address)).locked).to.equal(0n);
    await f.check(jobs.map((j) => j.jobId));
  });

  it("registration refuses an EIP-7702 delegated account (re-pointable code) and a batch verifier without nPublic()", async function () {
    const { market, token } = await loadFixture(fixture);
    const real = await (await ethers.deployContract("PoseidonPreimageGroth16Verifier")).getAddress();
    // An account delegated with EIP-7702 has the 23-byte designator 0xef0100 ‖ delegate as its code.
    const delegated = ethers.Wallet.createRandom().address;
    await networkHelpers.setCode(delegated, ethers.concat(["0xef0100", real]));
    await expect(registerPoseidon(market, delegated))
      .to.be.revertedWithCustomError(market, "VerifierIsDelegatedAccount")
      .withArgs(delegated);
    await expect(registerPoseidon(market, real, delegated))
      .to.be.revertedWithCustomError(market, "VerifierIsDelegatedAccount")
      .withArgs(delegated);
    // A contract that does not answer nPublic() (here the token) is named, not an unexplained revert.
    await expect(registerPoseidon(market, real, await token.getAddress()))
      .to.be.revertedWithCustomError(market, "NotABatchVerifier")
      .withArgs(await token.getAddress());
  });

  it("a prover that withdrew everything keeps a non-empty account slot (hasStaked), so its next claim is not dearer", async function () {
    const { market, requester, prover, circuitId } = await loadFixture(fixture);
    const first = await postProvableJob(ethers, market, requester, circuitId, 1);
    await market.connect(prover).claim(first.jobId, first.terms);
    await market.connect(prover).submitProof(first.jobId, first.terms, first.proof.proof, first.proof.publicSignals);
    await market.connect(prover).withdraw(prover.address);
    const account = await market.account(prover.address);
    expect([account.locked, account.earned, account.hasStaked]).to.deep.equal([0n, 0n, true]);
    const second = await postProvableJob(ethers, market, requester, circuitId, 2);
    const claimGas = (await (await market.connect(prover).claim(second.jobId, second.terms)).wait())!.gasUsed;
    // Filling an empty slot would cost 17,100 more than rewriting a used one.
    expect(claimGas).to.be.lessThan(80_000n);
  });
});
