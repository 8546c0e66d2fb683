/**
 * The job book folds real market events (from the in-process chain) into each job's current terms and status.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { JobBook, parseMarketLogs } from "../../common/market/jobBook.ts";
import { BOND, deployMarket, FEE, PARAMS, postProvableJob, registerExample, STAKE } from "./helpers/fixture.ts";

const { ethers, networkHelpers } = await network.create();

describe("JobBook", function () {
  it("follows post, claim, reassign (new fee), claim again and proof", async function () {
    const { market, requester, prover, prover2, keeper } = await deployMarket(ethers);
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16");
    await market.connect(prover).stake(STAKE);
    await market.connect(prover2).stake(STAKE);
    const job = await postProvableJob(ethers, market, requester, circuitId, 1);
    const other = await postProvableJob(ethers, market, requester, circuitId, 2);
    await market.connect(prover).claim(job.jobId, job.terms);
    await networkHelpers.time.increaseTo((await market.jobState(job.jobId)).deadline + 1n);
    await market.connect(keeper).reassign(job.jobId, job.terms);

    const book = new JobBook();
    const read = async () =>
      book.apply(
        parseMarketLogs(
          market.interface,
          await ethers.provider.getLogs({ address: await market.getAddress(), fromBlock: 0 }),
        ),
      );
    await read();
    const view = book.jobs.get(job.jobId)!;
    const newFee = FEE + (BOND * PARAMS.rewardShareBps) / 10_000n;
    expect(view).to.include({ status: "Open", attempt: 1n, assignee: null });
    expect(view.terms.fee).to.equal(newFee);
    expect(book.open().map((j) => j.jobId)).to.deep.equal([job.jobId, other.jobId]);

    // The terms the book holds are the ones the market accepts.
    await market.connect(prover2).claim(job.jobId, view.terms);
    await market.connect(prover2).submitProof(job.jobId, view.terms, job.proof.proof, job.proof.publicSignals);
    const fresh = new JobBook();
    fresh.apply(
      parseMarketLogs(
        market.interface,
        await ethers.provider.getLogs({ address: await market.getAddress(), fromBlock: 0 }),
      ),
    );
    expect(fresh.jobs.get(job.jobId)).to.include({ status: "Proved", assignee: prover2.address, attempt: 1n });
    expect(fresh.open().map((j) => j.jobId)).to.deep.equal([other.jobId]);
  });
});
