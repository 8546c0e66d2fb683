/**
 * The worker's behaviour under competition and failure, with real processes on a real local chain: two workers
 * racing for the same jobs; `kill -9` mid-proof and a restart that completes the job without claiming it twice;
 * a worker that stalls is reassigned by a keeper and another worker finishes the job.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { DEV_MARKET_PARAMS } from "../../common/deploy/marketParams.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import {
  advanceTime,
  type Devnet,
  postJob,
  provedBy,
  startDevnet,
  waitForStatus,
  workerConfigFor,
} from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { stakedWorkerConfig } from "../helpers/workerProcess.ts";

const FEE = parseEther("3");
const BOND = parseEther("2");

describe("prover-worker under competition and failure", function () {
  let devnet: Devnet;
  // Registered first: its hook kills the workers before the next one stops their chain.
  const run = trackedWorkers();

  beforeEach(async function () {
    devnet = await startDevnet();
  });

  afterEach(async function () {
    await devnet.chain.stop();
  });

  async function stakedWorker(accountIndex: number, config: Record<string, unknown>) {
    const account = devnet.chain.accounts[accountIndex];
    return { account, ...(await stakedWorkerConfig(account, config)) };
  }

  it("two workers racing for the same jobs: every job is claimed once and proved once", async function () {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const config = workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }]);
    const a = await stakedWorker(1, config);
    const b = await stakedWorker(3, config);
    const requester = devnet.chain.accounts[2];
    const jobs = [];
    for (let i = 0; i < 4; i++)
      jobs.push(await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", `race${i}`)));
    run(a.file, a.account.privateKey);
    run(b.file, b.account.privateKey);
    for (const jobId of jobs) await waitForStatus(devnet, jobId, JOB_STATUS.Proved);

    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const claims = await market.queryFilter(market.filters.JobClaimed(), 0);
    expect(claims.map((c) => c.args.jobId).sort()).to.deep.equal([...jobs].sort());
    const paid = (await market.withdrawable(a.account.address)) + (await market.withdrawable(b.account.address));
    expect(paid).to.equal(4n * FEE);
  });

  it("kill -9 mid-proof, then a restart resumes the claim and submits before the deadline, claiming nothing twice; SIGTERM settles before exiting", async function () {
    // PLONK on the Merkle circuit takes seconds, long enough to kill the worker while it proves.
    const circuitId = devnet.circuitId("merkle_membership", "plonk");
    const config = workerConfigFor(devnet, [{ circuitId, manifest: "merkle_membership", system: "plonk" }]);
    const a = await stakedWorker(1, config);
    const jobId = await postJob(
      devnet,
      devnet.chain.accounts[2],
      circuitId,
      await exampleInputs("merkle_membership", "crash"),
    );

    const first = run(a.file, a.account.privateKey);
    await first.waitForLog((l) => l.msg === "claimed" && l.jobId === jobId.toString());
    first.proc.kill("SIGKILL");
    await first.exited;
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const held = await market.jobState(jobId);
    expect(held.status).to.equal(JOB_STATUS.Claimed);
    expect(held.assignee).to.equal(a.account.address);

    const second = run(a.file, a.account.privateKey);
    await second.waitForLog((l) => l.msg === "resuming claim after restart" && l.jobId === jobId.toString());
    // SIGTERM while it proves again: it claims nothing new, settles the claim it holds, then exits.
    second.proc.kill("SIGTERM");
    expect(await second.exited).to.equal(0);
    expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Proved);
    const claims = await market.queryFilter(market.filters.JobClaimed(jobId), 0);
    expect(claims).to.have.length(1);
    expect(await market.withdrawable(a.account.address)).to.equal(FEE);
  });

  it("a stalled worker is reassigned by a keeper after its deadline, and another worker proves the job", async function () {
    const circuitId = devnet.circuitId("merkle_membership", "plonk");
    const serve = [{ circuitId, manifest: "merkle_membership", system: "plonk" as const }];
    const stalled = await stakedWorker(1, workerConfigFor(devnet, serve));
    const keeper = await stakedWorker(3, workerConfigFor(devnet, serve, { keeper: { enabled: true } }));
    const jobId = await postJob(
      devnet,
      devnet.chain.accounts[2],
      circuitId,
      await exampleInputs("merkle_membership", "stall"),
      { provingWindow: 120n },
    );

    const victim = run(stalled.file, stalled.account.privateKey);
    await victim.waitForLog((l) => l.msg === "claimed" && l.jobId === jobId.toString());
    victim.proc.kill("SIGKILL");
    await victim.exited;

    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    await advanceTime(devnet, 121);
    const rescuer = run(keeper.file, keeper.account.privateKey);
    await rescuer.waitForLog((l) => l.msg === "reassigned a stalled job as keeper" && l.jobId === jobId.toString());
    await waitForStatus(devnet, jobId, JOB_STATUS.Proved);

    const keeperShare = (BOND * DEV_MARKET_PARAMS.keeperShareBps) / 10_000n;
    const newFee = FEE + (BOND * DEV_MARKET_PARAMS.rewardShareBps) / 10_000n;
    expect(await market.withdrawable(keeper.account.address)).to.equal(keeperShare + newFee);
    const victimAccount = await market.account(stalled.account.address);
    expect(victimAccount.staked).to.equal(parseEther("50") - BOND);
    expect(victimAccount.locked).to.equal(0n);
    const proof = await provedBy(market, jobId);
    expect(proof.attempt).to.equal(1n);
    expect(proof.prover).to.equal(keeper.account.address);
  });
});
