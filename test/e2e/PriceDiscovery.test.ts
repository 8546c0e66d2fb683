/**
 * Price discovery on a real chain (a hardhat node mining a block every 2 s, as a live chain does) with three real
 * worker processes serving one circuit at different reservation prices (issue #14): every job goes to the cheapest
 * worker that has a free slot when the job's price crosses its reservation, at a price within one block's ramp
 * step of that reservation; while the cheapest is busy, the next cheapest takes the job, at its own, higher price.
 *
 * The two cheaper workers prove through the stand-in prover (a real snarkjs proof, held back STANDIN_DELAY_MS), so
 * they stay busy long enough for the later jobs' prices to pass the dearer reservations; the dearest proves with
 * snarkjs.
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

    // Reservations 11, 13 and 15 tokens, reached 4 s apart. The cheapest holds its one slot 50 s a proof: busy until
    // both later jobs are claimed; the next 15 s: busy while the last job's price climbs to the dearest's.
    const workers = [
      { account: devnet.chain.accounts[3], reservation: parseEther("11"), busyMs: 50_000 },
      { account: devnet.chain.accounts[4], reservation: parseEther("13"), busyMs: 15_000 },
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

    // 1 token rising to 61 over 120 s: half a token a second, one token (1.6% of the maximum) a block.
    const rampFrom = async (): Promise<PriceRamp> => ({
      minFee: parseEther("1"),
      maxFee: parseEther("61"),
      rampStart: (await latest()) + 10n,
      rampDuration: 120n,
    });
    const step = rampStep(await rampFrom(), BLOCK_SECONDS);
    expect(step * 50n, "one block's step is at most 2% of the maximum").to.be.at.most(parseEther("61"));

    const claimOf = async (jobId: bigint) => {
      const [claim] = await market.queryFilter(market.filters.JobClaimed(jobId), 0);
      return { prover: claim.args.prover as string, price: claim.args.price as bigint, block: claim.blockNumber };
    };
    const waitClaimed = async (jobId: bigint) => {
      const until = Date.now() + 120_000;
      while ((await market.jobState(jobId)).status === JOB_STATUS.Open) {
        if (Date.now() > until) throw new Error(`job ${jobId} was never claimed`);
        await new Promise((r) => setTimeout(r, 250));
      }
      return claimOf(jobId);
    };
    /** The claim went to `w`, at or after the second its price reached w's reservation, within one block's step. */
    const expectWonBy = async (jobId: bigint, ramp: PriceRamp, w: (typeof workers)[number]) => {
      const claim = await claimOf(jobId);
      const at = BigInt((await devnet.chain.provider.getBlock(claim.block))!.timestamp);
      expect(claim.prover, `job ${jobId}`).to.equal(w.account.address);
      expect(claim.price).to.equal(priceAt(ramp, at));
      expect(at, `job ${jobId} claimed before its price reached the reservation`).to.be.at.least(
        firstSecondAtPrice(ramp, w.reservation)!,
      );
      expect(claim.price).to.be.at.least(w.reservation);
      expect(claim.price, `job ${jobId}: more than one block's step above the reservation`).to.be.at.most(
        w.reservation + step,
      );
      return claim.price;
    };

    // All three free: the cheapest wins.
    const rampA = await rampFrom();
    const a = await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", "pd-a"), rampA);
    await waitClaimed(a);
    const priceA = await expectWonBy(a, rampA, workers[0]);

    // The cheapest is busy proving A: of two jobs posted together, the next cheapest takes one at its own price and
    // the dearest the other at its own.
    const rampBC = await rampFrom();
    const b = await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", "pd-b"), rampBC);
    const c = await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", "pd-c"), rampBC);
    const [claimB, claimC] = [await waitClaimed(b), await waitClaimed(c)];
    expect(
      (await market.jobState(a)).status,
      "the cheapest finished A early: the test no longer shows it busy",
    ).to.equal(JOB_STATUS.Claimed);
    const [second, third] = claimB.prover === workers[1].account.address ? [b, c] : [c, b];
    expect([claimB.prover, claimC.prover]).to.have.members([workers[1].account.address, workers[2].account.address]);
    const priceSecond = await expectWonBy(second, rampBC, workers[1]);
    const priceThird = await expectWonBy(third, rampBC, workers[2]);
    expect(priceSecond).to.be.above(priceA);
    expect(priceThird).to.be.above(priceSecond);

    // Every job proved; each prover paid its locked price; the requester (new on this chain) credited each escrow's
    // rest, maxFee - price.
    for (const job of [a, b, c]) await waitForStatus(devnet, job, JOB_STATUS.Proved, 150_000);
    expect((await market.queryFilter(market.filters.JobClaimed(), 0)).length, "one claim per job").to.equal(3);
    expect(await market.withdrawable(workers[0].account.address)).to.equal(priceA);
    expect(await market.withdrawable(workers[1].account.address)).to.equal(priceSecond);
    expect(await market.withdrawable(workers[2].account.address)).to.equal(priceThird);
    expect(await market.withdrawable(requester.address)).to.equal(
      3n * parseEther("61") - priceA - priceSecond - priceThird,
    );
  });
});
