/**
 * The job book folds real market events (from the in-process chain) into each job's current terms and status.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { JobBook } from "../../common/market/jobBook.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
import { BOND, deployMarket, FEE, PARAMS, postProvableJob, registerExample, STAKE } from "./helpers/fixture.ts";
import { claimDeadline, raised, reopenedRampStart } from "./helpers/jobs.ts";

const { ethers, networkHelpers } = await network.create();

describe("JobBook", function () {
  it("follows post, claim, reassign (new fees), claim again and proof", async function () {
    const { market, requester, prover, prover2, keeper } = await deployMarket(ethers);
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16");
    await market.connect(prover).stake(STAKE);
    await market.connect(prover2).stake(STAKE);
    const job = await postProvableJob(ethers, market, requester, circuitId, 1);
    const other = await postProvableJob(ethers, market, requester, circuitId, 2);
    await market.connect(prover).claim(job.jobId, job.terms);
    await networkHelpers.time.increaseTo((await claimDeadline(market, job.jobId, job.terms)) + 1n);
    await market.connect(keeper).reassign(job.jobId, job.terms);

    const reader = createMarketReader({ provider: ethers.provider, address: await market.getAddress() });
    const book = new JobBook();
    book.apply(await reader.scan(0, []));
    const view = book.jobs.get(job.jobId)!;
    const newFee = FEE + (BOND * PARAMS.rewardShareBps) / 10_000n;
    expect(view).to.include({ status: "Open", attempt: 1n, assignee: null, price: null });
    expect([view.terms.minFee, view.terms.maxFee]).to.deep.equal([newFee, newFee]);
    expect(book.open().map((j) => j.jobId)).to.deep.equal([job.jobId, other.jobId]);

    // The terms the book holds are the ones the market accepts.
    await market.connect(prover2).claim(job.jobId, view.terms);
    await market.connect(prover2).submitProof(job.jobId, view.terms, job.proof.proof, job.proof.publicSignals);
    const fresh = new JobBook();
    fresh.apply(await reader.scan(0, []));
    expect(fresh.jobs.get(job.jobId)).to.include({
      status: "Proved",
      assignee: prover2.address,
      attempt: 1n,
      price: newFee,
    });
    expect(fresh.open().map((j) => j.jobId)).to.deep.equal([other.jobId]);
  });
});

describe("foldProver", function () {
  it("reproduces the contract's prover accounts from events alone (stake, claim, prove, reassign, abandon, expire, unstake)", async function () {
    const { emptyProver, foldJob, foldProver, proverOf } = await import("../../common/market/fold.ts");
    const { market, requester, prover, prover2, keeper } = await deployMarket(ethers);
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16");
    const { time } = networkHelpers;
    await market.connect(prover).stake(STAKE);
    await market.connect(prover2).stake(STAKE);
    // proved by prover
    const a = await postProvableJob(ethers, market, requester, circuitId, 11);
    await market.connect(prover).claim(a.jobId, a.terms);
    await market.connect(prover).submitProof(a.jobId, a.terms, a.proof.proof, a.proof.publicSignals);
    // reassigned away from prover, abandoned by prover2
    const b = await postProvableJob(ethers, market, requester, circuitId, 12);
    await market.connect(prover).claim(b.jobId, b.terms);
    await time.increaseTo((await claimDeadline(market, b.jobId, b.terms)) + 1n);
    await market.connect(keeper).reassign(b.jobId, b.terms);
    const bTerms = raised(b.terms, (BOND * PARAMS.rewardShareBps) / 10_000n, await reopenedRampStart(market, b.jobId));
    await market.connect(prover2).claim(b.jobId, bTerms);
    await market.connect(prover2).abandon(b.jobId, bTerms);
    // expired while prover2 held it
    const c = await postProvableJob(ethers, market, requester, circuitId, 13, "poseidon_preimage", "groth16", {
      expiresIn: 700n,
    });
    await market.connect(prover2).claim(c.jobId, c.terms);
    await time.increaseTo(c.terms.expiresAt + 1n);
    await market.connect(keeper).expire(c.jobId, c.terms);
    await market.connect(prover).requestUnstake(STAKE / 4n);

    const logs = await ethers.provider.getLogs({ address: await market.getAddress(), fromBlock: 0 });
    const jobs = new Map<bigint, ReturnType<typeof foldJob>>();
    const provers = new Map<string, ReturnType<typeof emptyProver>>();
    for (const log of logs) {
      const parsed = market.interface.parseLog(log);
      if (parsed === null) continue;
      const event = { name: parsed.name, args: parsed.args.toObject(true), blockNumber: log.blockNumber, timestamp: 0 };
      const jobId = (event.args as { jobId?: bigint }).jobId;
      const before = jobId === undefined ? null : (jobs.get(jobId) ?? null);
      const who = proverOf(event);
      if (who !== null) provers.set(who, foldProver(provers.get(who) ?? emptyProver(who), event, before));
      if (jobId !== undefined) jobs.set(jobId, foldJob(before, event));
    }
    for (const signer of [prover, prover2]) {
      const folded = provers.get(signer.address)!;
      const onChain = await market.account(signer.address);
      expect({ staked: folded.staked, locked: folded.locked, unbonding: folded.unbonding }).to.deep.equal({
        staked: onChain.staked,
        locked: onChain.locked,
        unbonding: onChain.unbonding,
      });
    }
    expect(provers.get(prover.address)).to.include({ jobsProved: 1, jobsMissed: 1, jobsAbandoned: 0 });
    expect(provers.get(prover2.address)).to.include({ jobsProved: 0, jobsMissed: 1, jobsAbandoned: 1 });
    expect(jobs.get(c.jobId)?.status).to.equal("Expired");
  });
});
