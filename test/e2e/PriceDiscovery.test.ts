/**
 * Price discovery on a real chain (a hardhat node mining a block every 2 s, as a live chain does) with three real
 * worker processes serving one circuit at different reservation prices (issue #14): every job goes to the cheapest
 * worker that has a free slot when the job's price crosses its reservation, at a price within one block's ramp
 * step of that reservation; while the cheapest is busy, the next cheapest takes the job, at its own, higher price.
 *
 * Three jobs on one ramp cross each reservation at the same second. The two cheaper workers prove through the
 * stand-in prover (a real snarkjs proof, held back STANDIN_DELAY_MS), so they stay busy while the other jobs' prices
 * climb to the dearer reservations; the dearest proves with snarkjs.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { firstSecondAtPrice, type PriceRamp, priceAt, rampStep } from "../../common/market/price.ts";
import { type Devnet, postJob, startIntervalDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { stakedWorkerConfig } from "../helpers/workerProcess.ts";

const BLOCK_SECONDS = 2n;
const STAND_IN = path.join(REPO_ROOT, "test", "helpers", "standInProver.ts");

describe("price discovery: three workers of different reservation prices on one circuit", function () {
  this.timeout(300_000);
  let devnet: Devnet;
  const run = trackedWorkers();

  before(async function () {
    devnet = await startIntervalDevnet(Number(BLOCK_SECONDS));
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  it("the cheapest free worker wins each job near its own reservation; a busy one leaves it to the next cheapest", async function () {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const requester = devnet.chain.accounts[2];
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const latest = async () => BigInt((await devnet.chain.provider.getBlock("latest"))!.timestamp);

    // Reservations 11, 13 and 15 tokens, reached 4 s apart. Each cheaper worker's one slot stays busy with its proof
    // until the later reservations have been reached: the cheapest 20 s, the next 12 s.
    const workers = [
      { account: devnet.chain.accounts[3], reservation: parseEther("11"), busyMs: 20_000 },
      { account: devnet.chain.accounts[4], reservation: parseEther("13"), busyMs: 12_000 },
      { account: devnet.chain.accounts[5], reservation: parseEther("15"), busyMs: 0 },
    ];
    const started = [];
    for (const w of workers) {
      const circuit = {
        circuitId,
        manifest: "poseidon_preimage",
        system: "groth16" as const,
        backend: w.busyMs > 0 ? ("command" as const) : ("snarkjs" as const),
        price: { floor: w.reservation.toString() },
      };
      const { file } = await stakedWorkerConfig(
        w.account,
        workerConfigFor(devnet, [circuit], {
          circuits: [{ ...circuit, circuitId: Number(circuitId) }],
          slots: 1,
          pricing: { tokensPerEth: "0" },
          backends: { command: { template: `"${process.execPath}" "${STAND_IN}" {zkey} {witness} {proof} {public}` } },
        }),
      );
      started.push(run(file, w.account.privateKey, { STANDIN_DELAY_MS: String(w.busyMs) }));
    }
    for (const worker of started) await worker.waitForLog((l) => l.msg === "job book caught up with the chain", 90_000);

    // Three jobs on one ramp, 1 token rising to 61 over 120 s: half a token a second, one token (1.6% of the maximum)
    // a block. It starts once all three are posted, so their prices cross each reservation at the same second.
    const ramp: PriceRamp = {
      minFee: parseEther("1"),
      maxFee: parseEther("61"),
      rampStart: (await latest()) + 14n,
      rampDuration: 120n,
    };
    const step = rampStep(ramp, BLOCK_SECONDS);
    expect(step * 50n, "one block's step is at most 2% of the maximum").to.be.at.most(ramp.maxFee);
    const jobs: bigint[] = [];
    for (const seed of ["pd-a", "pd-b", "pd-c"])
      jobs.push(await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", seed), ramp));
    expect(await latest(), "posted after the ramp started").to.be.below(ramp.rampStart);

    const claimOf = async (jobId: bigint) => {
      const until = Date.now() + 120_000;
      while ((await market.jobState(jobId)).status === JOB_STATUS.Open) {
        if (Date.now() > until) throw new Error(`job ${jobId} was never claimed`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const [claim] = await market.queryFilter(market.filters.JobClaimed(jobId), 0);
      const at = BigInt((await devnet.chain.provider.getBlock(claim.blockNumber))!.timestamp);
      return {
        jobId,
        prover: claim.args.prover as string,
        price: claim.args.price as bigint,
        at,
        block: claim.blockNumber,
      };
    };
    const claims: Awaited<ReturnType<typeof claimOf>>[] = [];
    for (const jobId of jobs) claims.push(await claimOf(jobId));

    // One job each: the cheapest first, at its reservation; while it is busy, the next cheapest at its own; while
    // both are, the dearest at its own. Each within one block's step of the reservation, never below it.
    const won = workers.map((w) => claims.find((c) => c.prover === w.account.address));
    for (const [i, w] of workers.entries()) {
      const claim = won[i];
      expect(claim, `worker ${i} (reservation ${w.reservation}) won no job`).to.not.equal(undefined);
      expect(claim!.price).to.equal(priceAt(ramp, claim!.at));
      expect(claim!.at, `claimed before the price reached ${w.reservation}`).to.be.at.least(
        firstSecondAtPrice(ramp, w.reservation)!,
      );
      expect(claim!.price).to.be.at.least(w.reservation);
      expect(claim!.price, `more than one block's step above ${w.reservation}`).to.be.at.most(w.reservation + step);
    }
    // The cheaper ones were still busy (their jobs still Claimed, unproved) when the dearer ones claimed.
    for (const [i, later] of [
      [0, won[1]!],
      [0, won[2]!],
      [1, won[2]!],
    ] as const)
      expect((await market.jobState(won[i]!.jobId, { blockTag: later.block })).status).to.equal(JOB_STATUS.Claimed);

    // Every job proved; each prover paid its locked price; the requester (new on this chain) credited each escrow's
    // rest, maxFee - price.
    for (const job of jobs) await waitForStatus(devnet, job, JOB_STATUS.Proved, 150_000);
    expect((await market.queryFilter(market.filters.JobClaimed(), 0)).length, "one claim per job").to.equal(3);
    for (const [i, w] of workers.entries())
      expect(await market.withdrawable(w.account.address)).to.equal(won[i]!.price);
    const paid = won.reduce((sum, c) => sum + c!.price, 0n);
    expect(await market.withdrawable(requester.address)).to.equal(3n * ramp.maxFee - paid);
  });
});
