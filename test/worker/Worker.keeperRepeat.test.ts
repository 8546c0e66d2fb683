/**
 * A long-running keeper reassigns every stalled attempt of a job, not just the first: with a real worker process
 * (a keeper whose claim policy never takes the job) on a real local chain, a staller claims a job and sits on it,
 * the keeper reassigns it, the staller claims the reopened job and stalls again, and the same keeper process
 * reassigns it a second time. A keeper that remembered reassigned jobs by job id alone never did the second.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { termsOf } from "../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { advanceTime, type Devnet, postJob, startDevnet, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { writeWorkerConfig } from "../helpers/workerProcess.ts";

const BOND = parseEther("2");
const WINDOW = 60;

describe("prover-worker keeper: repeated stalls of the same job", function () {
  let devnet: Devnet;
  // Registered first: its hook kills the worker before the next one stops its chain.
  const run = trackedWorkers();

  beforeEach(async function () {
    devnet = await startDevnet();
  });

  afterEach(async function () {
    await devnet.chain.stop();
  });

  /** Waits until the job is Open again as `attempt` (i.e. has been reassigned `attempt` times). */
  async function waitForReopened(jobId: bigint, attempt: bigint, timeoutMs = 20_000): Promise<void> {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const started = Date.now();
    let last;
    while (Date.now() - started < timeoutMs) {
      last = await market.jobState(jobId);
      if (last.status === JOB_STATUS.Open && last.attempt === attempt) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`job ${jobId} not reopened as attempt ${attempt} within ${timeoutMs} ms (last: ${last})`);
  }

  it("reassigns a job a second time when its next attempt stalls too", async function () {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const [, stallerWallet, requester, keeperWallet] = devnet.chain.accounts;

    // The keeper serves the circuit but its bond cap (1 token, the market's minimum) is below the job's bond, so it
    // never claims the job: it only keeps.
    const config = workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }], {
      keeper: { enabled: true },
      policy: { provingSecondsEstimate: 5, maxBond: parseEther("1").toString() },
    });
    const keeper = run(writeWorkerConfig(config).file, keeperWallet.privateKey);

    const staller = connectMarket(devnet.deployment.market, stallerWallet);
    await (
      await connectToken(devnet.deployment.token, stallerWallet).approve(devnet.deployment.market, parseEther("50"))
    ).wait();
    await (await staller.stake(parseEther("50"))).wait();

    const jobId = await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", "keep-twice"), {
      bond: BOND,
      provingWindow: BigInt(WINDOW),
      expiresIn: 3600,
    });
    const posted = termsOf((await staller.queryFilter(staller.filters.JobPosted(jobId), 0))[0].args);
    await keeper.waitForLog((l) => l.msg === "worker starting");

    // First stall: claim (attempt 0), never submit, let the deadline pass.
    await (await staller.claim(jobId, posted)).wait();
    expect((await staller.jobState(jobId)).status).to.equal(JOB_STATUS.Claimed);
    await advanceTime(devnet, WINDOW + 1);
    await waitForReopened(jobId, 1n);
    const [first] = await staller.queryFilter(staller.filters.JobReassigned(jobId), 0);
    expect(first.args.keeper).to.equal(keeperWallet.address);
    expect(first.args.prover).to.equal(stallerWallet.address);
    expect(first.args.attempt).to.equal(1n);

    // Second stall: claim the reopened job (attempt 1) on its current terms, its price ramp restarted by the
    // reassignment.
    const reopened = {
      ...posted,
      minFee: first.args.newMinFee,
      maxFee: first.args.newMaxFee,
      rampStart: first.args.newRampStart,
    };
    await (await staller.claim(jobId, reopened)).wait();
    const claimed = await staller.jobState(jobId);
    expect(claimed.status).to.equal(JOB_STATUS.Claimed);
    expect(claimed.attempt).to.equal(1n);
    await advanceTime(devnet, WINDOW + 1);

    // The same keeper process reassigns the second attempt too.
    await waitForReopened(jobId, 2n);
    const state = await staller.jobState(jobId);
    expect(state.status).to.equal(JOB_STATUS.Open);
    expect(state.attempt).to.equal(2n);
    const reassigns = await staller.queryFilter(staller.filters.JobReassigned(jobId), 0);
    expect(reassigns.map((e) => [e.args.keeper, e.args.prover, e.args.attempt])).to.deep.equal([
      [keeperWallet.address, stallerWallet.address, 1n],
      [keeperWallet.address, stallerWallet.address, 2n],
    ]);
    // The keeper never claimed the job itself: both claims were the staller's.
    const claims = await staller.queryFilter(staller.filters.JobClaimed(jobId), 0);
    expect(claims.map((e) => e.args.prover)).to.deep.equal([stallerWallet.address, stallerWallet.address]);
    await keeper.waitForLog(
      (l) =>
        l.msg === "reassigned a stalled job as keeper" &&
        l.jobId === jobId.toString() &&
        keeper.logs.filter((k) => k.msg === "reassigned a stalled job as keeper").length === 2,
      10_000,
    );
    expect(keeper.logs.some((l) => l.msg === "claimed")).to.equal(false);
  });
});
