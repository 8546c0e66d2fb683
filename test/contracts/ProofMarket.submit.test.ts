import { expect } from "chai";
import { network } from "hardhat";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import {
  batchArgs,
  deployStakedMarket,
  FEE,
  postJob,
  postProvableJob,
  realProof,
  registerExample,
} from "./helpers/fixture.ts";
import { claimDeadline } from "./helpers/jobs.ts";
import { findJobSlot, packJobState } from "./helpers/storage.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const Status = JOB_STATUS;

async function fixture() {
  const base = await deployStakedMarket(ethers);
  const circuitId = base.circuitId;
  const otherCircuitId = await registerExample(ethers, base.market, "merkle_membership", "groth16");
  const job = await postProvableJob(ethers, base.market, base.requester, circuitId, 1);
  await base.market.connect(base.prover).claim(job.jobId, job.terms);
  return { ...base, circuitId, otherCircuitId, job };
}

describe("ProofMarket: submitting proofs", function () {
  it("rejects a stranger submitting a copied proof (proofs are bound to the assignee)", async function () {
    const { market, stranger, job } = await loadFixture(fixture);
    await expect(market.connect(stranger).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "NotAssignee")
      .withArgs(job.jobId, (await ethers.getSigners())[6].address, (await market.jobState(job.jobId)).assignee);
  });

  it("rejects double submission", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    await market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals);
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "WrongStatus")
      .withArgs(job.jobId, Status.Proved);
  });

  it("rejects a proof of another job's inputs (replay across jobs)", async function () {
    const { market, requester, prover, circuitId, job } = await loadFixture(fixture);
    const other = await postProvableJob(ethers, market, requester, circuitId, 2);
    await market.connect(prover).claim(other.jobId, other.terms);
    // The first job's proof and signals against the second job: the committed inputs differ.
    await expect(
      market.connect(prover).submitProof(other.jobId, other.terms, job.proof.proof, job.proof.publicSignals),
    ).to.be.revertedWithCustomError(market, "PublicInputsMismatch");
    // The first job's proof with the second job's signals: the proof does not verify.
    await expect(
      market.connect(prover).submitProof(other.jobId, other.terms, job.proof.proof, other.proof.publicSignals),
    )
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(other.jobId);
  });

  it("rejects a proof for a different circuit", async function () {
    const { market, requester, prover, otherCircuitId } = await loadFixture(fixture);
    const merkle = await realProof("merkle_membership", "groth16", 1);
    const poseidon = await realProof("poseidon_preimage", "groth16", 1);
    // A merkle_membership job whose public inputs happen to be posted as the poseidon proof's.
    const job = await postJob(ethers, market, requester, otherCircuitId, poseidon.publicSignals);
    await market.connect(prover).claim(job.jobId, job.terms);
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, poseidon.proof, [0n, ...poseidon.publicSignals]),
    )
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(job.jobId);
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, merkle.proof, merkle.publicSignals),
    ).to.be.revertedWithCustomError(market, "PublicInputsMismatch");
  });

  it("rejects a wrong public input, a wrong signal count and a signal outside the field", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    const [hash, context] = job.proof.publicSignals;
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, [hash, context + 1n]),
    ).to.be.revertedWithCustomError(market, "PublicInputsMismatch");
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, [hash]))
      .to.be.revertedWithCustomError(market, "PublicSignalCount")
      .withArgs(job.jobId, 1n, 2n);
    const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, [hash + r, context]))
      .to.be.revertedWithCustomError(market, "SignalNotInField")
      .withArgs(job.jobId, 0n);
  });

  it("rejects a tampered proof and a proof of the wrong length", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    const bytes = ethers.getBytes(job.proof.proof);
    bytes[40] ^= 1;
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, bytes, job.proof.publicSignals),
    ).to.be.revertedWithCustomError(market, "InvalidProof");
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof + "00", job.proof.publicSignals),
    )
      .to.be.revertedWithCustomError(market, "ProofLength")
      .withArgs(257n, 256n);
  });

  it("rejects submission after the deadline", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    const deadline = await claimDeadline(market, job.jobId, job.terms);
    await time.increaseTo(deadline + 1n);
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.be.revertedWithCustomError(market, "ClaimExpired")
      .withArgs(job.jobId, deadline);
  });

  it("accepts submission at the deadline's last second", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    const deadline = await claimDeadline(market, job.jobId, job.terms);
    await time.setNextBlockTimestamp(deadline);
    await expect(
      market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals),
    ).to.emit(market, "JobProved");
  });

  it("batch: rejects mixed circuits, repeated jobs, length mismatches and a bad proof among good ones", async function () {
    const { market, requester, prover, circuitId, job } = await loadFixture(fixture);
    const second = await postProvableJob(ethers, market, requester, circuitId, 2);
    await market.connect(prover).claim(second.jobId, second.terms);
    const submit = (args: ReturnType<typeof batchArgs>) => market.connect(prover).submitProofs(...args);

    const [ids, terms, proofs, signals] = batchArgs([job, second]);
    await expect(submit([ids.slice(1), terms, proofs, signals])).to.be.revertedWithCustomError(
      market,
      "BatchLengthMismatch",
    );
    await expect(submit([ids, terms, proofs, signals.slice(1)])).to.be.revertedWithCustomError(
      market,
      "BatchLengthMismatch",
    );
    await expect(submit([ids, terms, proofs + "00", signals])).to.be.revertedWithCustomError(
      market,
      "BatchLengthMismatch",
    );
    await expect(submit([[], [], "0x", []])).to.be.revertedWithCustomError(market, "EmptyBatch");
    // Job ids without terms: a named error, not an out-of-bounds panic on terms[0].
    await expect(submit([ids, [], proofs, signals])).to.be.revertedWithCustomError(market, "BatchLengthMismatch");
    await expect(submit(batchArgs([job, job])))
      .to.be.revertedWithCustomError(market, "WrongStatus")
      .withArgs(job.jobId, Status.Proved);

    const tampered = ethers.getBytes(second.proof.proof);
    tampered[200] ^= 1;
    await expect(
      submit(batchArgs([job, { ...second, proof: { ...second.proof, proof: tampered } }])),
    ).to.be.revertedWithCustomError(market, "InvalidBatchProof");
    // Swapping two valid proofs between their jobs fails too.
    const swapped = batchArgs([
      { ...job, proof: { ...job.proof, proof: second.proof.proof } },
      { ...second, proof: { ...second.proof, proof: job.proof.proof } },
    ]);
    await expect(submit(swapped)).to.be.revertedWithCustomError(market, "InvalidBatchProof");

    // Another circuit with the same signal count (the same verifier registered again).
    const twin = await registerExample(ethers, market, "poseidon_preimage", "groth16");
    const twinJob = await postProvableJob(ethers, market, requester, twin, 3);
    await market.connect(prover).claim(twinJob.jobId, twinJob.terms);
    await expect(submit(batchArgs([job, twinJob])))
      .to.be.revertedWithCustomError(market, "BatchMixesCircuits")
      .withArgs(twinJob.jobId, circuitId, twin);
    expect((await market.jobState(job.jobId)).status).to.equal(Status.Claimed);

    await expect(submit(batchArgs([job, second])))
      .to.emit(market, "JobProved")
      .withArgs(second.jobId, prover.address, 0n, FEE, []);
    expect((await market.jobState(job.jobId)).status).to.equal(Status.Proved);
  });

  it("a proof clears both of the job's slots (the refunds pay for it); jobState then reads Proved with the rest zero, and JobProved names the prover", async function () {
    const { market, prover, job } = await loadFixture(fixture);
    const address = await market.getAddress();
    const claimed = await market.jobState(job.jobId);
    // The slots are found by the words the views say they hold (helpers/storage.ts), so the packing is checked too.
    const stateSlot = await findJobSlot(ethers, market, job.jobId, packJobState(claimed));
    const termsSlot = await findJobSlot(ethers, market, job.jobId, BigInt(await market.jobTermsHash(job.jobId)));

    await expect(market.connect(prover).submitProof(job.jobId, job.terms, job.proof.proof, job.proof.publicSignals))
      .to.emit(market, "JobProved")
      .withArgs(job.jobId, prover.address, claimed.attempt, FEE, []);
    expect(BigInt(await ethers.provider.getStorage(address, stateSlot))).to.equal(0n);
    expect(BigInt(await ethers.provider.getStorage(address, termsSlot))).to.equal(0n);
    const proved = await market.jobState(job.jobId);
    expect([proved.status, proved.attempt, proved.claimedAt, proved.assignee, proved.slashTermsId]).to.deep.equal([
      Status.Proved,
      0n,
      0n,
      ethers.ZeroAddress,
      0n,
    ]);
    // Ids past the last job and 0 are no job, though their slots are as empty as a proved job's.
    expect((await market.jobState(0n)).status).to.equal(Status.None);
    expect((await market.jobState((await market.jobCount()) + 1n)).status).to.equal(Status.None);
  });

  it("a verifier that tries to change state (or reenter) cannot: the proof counts as invalid", async function () {
    const { market, requester, prover } = await loadFixture(fixture);
    const hostile = await ethers.deployContract("StateChangingVerifier");
    const job = await (async () => {
      const tx = await market.registerCircuit({
        name: "hostile",
        verifier: await hostile.getAddress(),
        system: 0,
        nPublicOutputs: 0,
        nPublicInputs: 1,
        batchVerifier: ethers.ZeroAddress,
        manifestHash: ethers.ZeroHash,
        artifactsURI: "",
      });
      await tx.wait();
      const circuitId = await market.circuitCount();
      return postJob(ethers, market, requester, circuitId, [7n]);
    })();
    await market.connect(prover).claim(job.jobId, job.terms);
    await hostile.arm(await market.getAddress(), market.interface.encodeFunctionData("withdraw", [prover.address]));
    await expect(market.connect(prover).submitProof(job.jobId, job.terms, new Uint8Array(256), [7n]))
      .to.be.revertedWithCustomError(market, "InvalidProof")
      .withArgs(job.jobId);
    expect(await hostile.calls()).to.equal(0n);
  });
});
