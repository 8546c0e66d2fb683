/**
 * Reservation pricing with a real worker process on a real local chain that mines a block every 2 s, as a live
 * chain does (automine off): a job whose price ramps up is left alone while its price is below the worker's
 * reservation price R, and claimed in the block its price reaches R: at a price p with R ≤ p ≤ R + one block's ramp
 * step. The worker polls every 5 s, so only the crossing's own wake-up (pipeline/crossing.ts) gets it there. A job
 * whose price never reaches R is never claimed. `status` shows the reservation and how it is made up, the price
 * the claim locked and the earnings per proving second; `status --job N` the job's price now against the
 * reservation and when the claim goes out (the chain's seconds seen to strictly increase); /metrics the claim's
 * price and the reservation.
 */
import { expect } from "chai";
import { formatEther, parseEther } from "ethers";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { firstSecondAtPrice, priceAt, rampStep } from "../../common/market/price.ts";
import { type Devnet, postJob, startIntervalDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { metricSamples, stakedWorkerConfig, workerCommand } from "../helpers/workerProcess.ts";

/** The chain's block time once interval mining is on. */
const BLOCK_SECONDS = 2n;

describe("prover-worker reservation prices, against a real local chain", function () {
  this.timeout(180_000);
  let devnet: Devnet;
  const run = trackedWorkers();

  before(async function () {
    devnet = await startIntervalDevnet(Number(BLOCK_SECONDS));
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  const latest = async () => (await devnet.chain.provider.getBlock("latest"))!.timestamp;

  it("claims a ramped job in the block its price reaches the reservation, not before; never one that stays below", async function () {
    const prover = devnet.chain.accounts[1];
    const requester = devnet.chain.accounts[2];
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const R = parseEther("16");
    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }], {
        circuits: [
          {
            circuitId: Number(circuitId),
            manifest: "poseidon_preimage",
            system: "groth16",
            price: { floor: R.toString() },
          },
        ],
        pricing: { tokensPerEth: "0" },
        // Far slower than the blocks: claiming at the right block is the crossing's doing, not a poll's.
        pollIntervalMs: 5_000,
      }),
    );
    const worker = run(file, prover.privateKey);
    const url = (await worker.waitForLog((l) => l.msg === "metrics and health listening", 60_000)).url as string;
    await worker.waitForLog((l) => l.msg === "job book caught up with the chain", 60_000);

    // From 1 token, 15 s from now, up 1 token a second for 60 s: 16 tokens (R) 15 s into the ramp.
    const rampStart = BigInt((await latest()) + 15);
    const ramp = { minFee: parseEther("1"), maxFee: parseEther("61"), rampStart, rampDuration: 60n };
    const T = firstSecondAtPrice(ramp, R)!;
    expect(T).to.equal(rampStart + 15n);
    const inputs = await exampleInputs("poseidon_preimage", "ramp");
    const jobId = await postJob(devnet, requester, circuitId, inputs, ramp);
    // Tops out at 15 tokens: never R (a reassignment would raise it; none comes).
    const below = await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", "below"), {
      minFee: parseEther("1"),
      maxFee: parseEther("15"),
      rampDuration: 20n,
    });

    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    await worker.waitForLog((l) => l.jobId === jobId.toString() && l.code === "PRICE_BELOW_RESERVATION", 60_000);
    // A block before T: the job is still Open.
    while (BigInt(await latest()) < T - BLOCK_SECONDS) await new Promise((r) => setTimeout(r, 200));
    expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Open);

    await waitForStatus(devnet, jobId, JOB_STATUS.Proved, 90_000);
    // Blocks every 2 s, each a second of its own: once it has seen that, the worker claims a block earlier.
    await worker.waitForLog((l) => String(l.msg).startsWith("the chain's block timestamps strictly increase"), 1_000);
    const [claim] = await market.queryFilter(market.filters.JobClaimed(jobId), 0);
    const claimedAt = BigInt((await claim.getBlock()).timestamp);
    const p = claim.args.price;
    expect(p).to.equal(priceAt(ramp, claimedAt));
    expect(claimedAt, "claimed before its price reached the reservation").to.be.at.least(T);
    expect(p).to.be.at.least(R);
    expect(p, `claimed at second ${claimedAt}, T = ${T}`).to.be.at.most(R + rampStep(ramp, BLOCK_SECONDS));
    expect(await market.withdrawable(prover.address)).to.equal(p);

    // The job that stays below R: seen, never claimed, with the reason.
    await worker.waitForLog(
      (l) => l.jobId === below.toString() && l.code === "PRICE_NEVER_REACHES_RESERVATION",
      10_000,
    );
    expect((await market.jobState(below)).status).to.equal(JOB_STATUS.Open);
    expect(await market.queryFilter(market.filters.JobClaimed(below), 0)).to.deep.equal([]);

    // The worker's own account of the proof (the chain may show it proved before the worker reads the receipt).
    await worker.waitForLog((l) => l.msg === "proof accepted" && l.jobId === jobId.toString(), 30_000);
    const exposition = await (await fetch(`${url}/metrics`)).text();
    const label = `{circuit="${circuitId}"}`;
    expect(metricSamples(exposition, "pm_worker_claim_price").get(label)).to.equal(Number(p));
    expect(metricSamples(exposition, "pm_worker_reservation_price").get(label)).to.equal(Number(R));
    expect(metricSamples(exposition, "pm_worker_earned_total").get(label)).to.equal(Number(p));
    expect(metricSamples(exposition, "pm_worker_earned_per_proving_second").get(label)).to.be.above(0);

    worker.proc.kill("SIGTERM");
    expect(await worker.exited).to.equal(0);

    // status: the reservation and its parts, the price the claim locked, what a proving second earned.
    const status = await workerCommand(["status", "--config", file], prover.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.earned).to.equal(formatEther(p));
    const [served] = parsed.circuits;
    expect(served).to.deep.include({ circuitId: Number(circuitId), claimed: 1, proved: 1 });
    expect(served.reservation).to.deep.include({ price: "16.0", floor: "16.0" });
    expect(served.reservation.gas).to.deep.include({ cost: "0.0", tokensPerEth: "0.0" });
    expect(served.reservation.proving).to.deep.include({ cost: "0.0", perProvingSecond: "0.0" });
    expect(served.reservation.by).to.match(/^the worker/);
    expect(Number(served.earnedPerProvingSecond)).to.be.above(0);
    const [recent] = parsed.recentClaims;
    expect(recent).to.deep.include({
      jobId: jobId.toString(),
      circuitId: Number(circuitId),
      attempt: "0",
      status: "proved",
      price: formatEther(p),
    });
    expect(recent.provingSeconds).to.be.above(0);

    // status --job: the job below R, its price now (the top of its ramp), the reservation, never crossing.
    const job = await workerCommand(["status", "--config", file, "--job", below.toString()], prover.privateKey);
    expect(job.code, job.stderr).to.equal(0);
    const seen = JSON.parse(job.stdout);
    expect(seen.decision.code).to.equal("PRICE_NEVER_REACHES_RESERVATION");
    expect(seen.pricing).to.deep.include({
      priceNow: parseEther("15").toString(),
      reservation: R.toString(),
      reached: false,
      crossesAt: null,
      never: true,
    });
    expect(seen.pricing.clock).to.match(/^the chain's/);
    // When the claim goes out for the crossing: a block stamped T − 1 (seconds seen to strictly increase), or the
    // devnet's clock at T.
    expect(seen.pricing.sendsClaim).to.match(
      /^for a crossing at second T \(crossesAt\): once the latest block is stamped T − 1 or later .*, or as soon as this development chain's clock/,
    );
    const proved = await workerCommand(["status", "--config", file, "--job", jobId.toString()], prover.privateKey);
    expect(JSON.parse(proved.stdout).claim).to.deep.include({ status: "proved", price: p.toString() });
  });
});
