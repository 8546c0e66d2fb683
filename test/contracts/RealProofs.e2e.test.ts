/**
 * Real proofs of every example circuit, made by snarkjs from the committed artifacts, through the market end to
 * end: single submissions for each proof system, and batches (one pairing product for Groth16, proof by proof
 * for the others).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { loadManifest } from "../../common/circuits/catalog.ts";
import type { ExampleCircuit } from "../../common/circuits/exampleInputs.ts";
import { PROOF_SYSTEMS, type ProofSystem } from "../../common/circuits/manifest.ts";
import { publicOutputsOf } from "../../common/inputs/commitment.ts";
import { batchArgs, deployMarket, FEE, postProvableJob, registerExample, STAKE } from "./helpers/fixture.ts";

const { ethers } = await network.create();

const CASES: [ExampleCircuit, ProofSystem][] = (
  ["poseidon_preimage", "merkle_membership", "eddsa_signature"] as const
).flatMap((circuit) =>
  PROOF_SYSTEMS.filter((s) => loadManifest(circuit).systems[s] !== undefined).map(
    (s) => [circuit, s] as [ExampleCircuit, ProofSystem],
  ),
);

describe("Real proofs through the market", function () {
  for (const [circuit, system] of CASES) {
    it(`${circuit} / ${system}: a single proof, then a batch of three`, async function () {
      const { market, requester, prover } = await deployMarket(ethers);
      const circuitId = await registerExample(ethers, market, circuit, system);
      await market.connect(prover).stake(STAKE);

      const single = await postProvableJob(ethers, market, requester, circuitId, 100, circuit, system);
      await market.connect(prover).claim(single.jobId, single.terms);
      const outputs = publicOutputsOf(loadManifest(circuit), single.proof.publicSignals);
      await expect(
        market.connect(prover).submitProof(single.jobId, single.terms, single.proof.proof, single.proof.publicSignals),
      )
        .to.emit(market, "JobProved")
        .withArgs(single.jobId, prover.address, 0n, FEE, outputs);

      const jobs = [];
      for (const seed of [101, 102, 103]) {
        const job = await postProvableJob(ethers, market, requester, circuitId, seed, circuit, system);
        await market.connect(prover).claim(job.jobId, job.terms);
        jobs.push(job);
      }
      await market.connect(prover).submitProofs(...batchArgs(jobs));
      for (const j of jobs) expect((await market.jobState(j.jobId)).status).to.equal(3n);
      expect(await market.withdrawable(prover.address)).to.equal(4n * FEE);
      expect((await market.account(prover.address)).locked).to.equal(0n);
    });
  }

  it("the Groth16 batch verifier accepts what snarkjs' verifier accepts, and nothing it rejects", async function () {
    const { realProof } = await import("./helpers/fixture.ts");
    const batch = await ethers.deployContract("PoseidonPreimageGroth16BatchVerifier");
    const single = await ethers.deployContract("PoseidonPreimageGroth16Verifier");
    const proofs = await Promise.all([1, 2, 3, 4].map((s) => realProof("poseidon_preimage", "groth16", s)));
    expect(await batch.nPublic()).to.equal(2n);
    expect(
      await batch.verifyBatch(
        ethers.concat(proofs.map((p) => p.proof)),
        proofs.flatMap((p) => p.publicSignals),
      ),
    ).to.equal(true);
    for (const p of proofs) {
      expect(await batch.verify(p.proof, p.publicSignals as [bigint, bigint])).to.equal(true);
      const words = ethers.AbiCoder.defaultAbiCoder().decode(Array(8).fill("uint256"), p.proof);
      expect(
        await single.verifyProof(
          [words[0], words[1]],
          [
            [words[2], words[3]],
            [words[4], words[5]],
          ],
          [words[6], words[7]],
          p.publicSignals as [bigint, bigint],
        ),
      ).to.equal(true);
    }
    const wrongSignals = proofs.map((p) => p.publicSignals);
    wrongSignals[2] = [wrongSignals[2][0], wrongSignals[2][1] + 1n];
    expect(await batch.verifyBatch(ethers.concat(proofs.map((p) => p.proof)), wrongSignals.flat())).to.equal(false);
    expect(await batch.verifyBatch("0x", [])).to.equal(false);
    // A length that is not whole proofs, or signals that do not match the proof count, are refused.
    expect(await batch.verifyBatch(ethers.concat([proofs[0].proof, "0x00"]), proofs[0].publicSignals)).to.equal(false);
    expect(await batch.verifyBatch(proofs[0].proof, [...proofs[0].publicSignals, 1n])).to.equal(false);
    // A signal outside the field is refused even where it would be equivalent modulo r.
    const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
    expect(await batch.verify(proofs[0].proof, [proofs[0].publicSignals[0] + r, proofs[0].publicSignals[1]])).to.equal(
      false,
    );
  });
});
