/**
 * The worker across reorgs, with a real worker process on a real local node whose chain is rewound with
 * evm_snapshot/evm_revert (what a reorg looks like to a reader: the blocks it read are replaced). A claim of its
 * own that a reorg removes is dropped and, the job being still wanted, claimed again: one claim on the final chain,
 * one proof. A job whose posting a reorg removes leaves the book, its claim is dropped, and nothing more is sent
 * for it. After each reorg the worker's claim store agrees with the chain.
 */
import { expect } from "chai";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { createMarketReader, jobTopics } from "../../common/market/marketReader.ts";
import { openStore } from "../../prover-worker/src/store.ts";
import { type Devnet, postJob, provedBy, startDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { stakedWorkerConfig, workerCommand } from "../helpers/workerProcess.ts";
import path from "node:path";

describe("prover-worker across reorgs", function () {
  let devnet: Devnet;
  const run = trackedWorkers();

  beforeEach(async function () {
    devnet = await startDevnet();
  });

  afterEach(async function () {
    await devnet.chain.stop();
  });

  const send = (method: string, params: unknown[] = []) => devnet.chain.provider.send(method, params);

  /** Replaces the blocks after `snapshot` with `blocks` empty ones: a reorg onto a longer chain without them. */
  async function reorgTo(snapshot: string, blocks = 4): Promise<void> {
    expect(await send("evm_revert", [snapshot])).to.equal(true);
    // One by one: hardhat_mine's reserved blocks do not name their parent, which the worker's reader checks.
    for (let i = 0; i < blocks; i++) await send("evm_mine");
  }

  const stakedWorkerServing = (
    prover: { privateKey: string },
    circuitId: bigint,
    manifest: string,
    system: "groth16" | "plonk",
  ) => stakedWorkerConfig(prover, workerConfigFor(devnet, [{ circuitId, manifest, system }]));

  /** Waits until `status --job` shows the job with `status` in the worker's book. */
  async function bookShows(configFile: string, key: string, jobId: bigint, status: string): Promise<void> {
    for (let tries = 0; tries < 40; tries++) {
      const shown = await workerCommand(["status", "--job", jobId.toString(), "--config", configFile], key);
      if (shown.code === 0 && JSON.parse(shown.stdout).job?.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect.fail(`the worker's book never showed job ${jobId} as ${status}`);
  }

  /** Every claim the worker's store records against what the chain says about its job. */
  async function storeAgreesWithChain(dataDir: string, prover: string): Promise<void> {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const store = openStore(dataDir);
    try {
      for (const record of store.claims()) {
        const state = await market.jobState(record.jobId);
        // A proved job's state is cleared: its JobProved event names the prover.
        const mine =
          state.status === JOB_STATUS.Proved
            ? (await provedBy(market, record.jobId)).prover === prover
            : state.assignee === prover;
        const where = `job ${record.jobId}: store says ${record.status}, chain says status ${state.status}`;
        if (record.status === "proved") expect(mine && state.status === JOB_STATUS.Proved, where).to.equal(true);
        else if (record.status === "lost") expect(mine && state.status !== JOB_STATUS.Open, where).to.equal(false);
        else expect.fail(`${where}: no claim should be in flight now`);
      }
    } finally {
      store.close();
    }
  }

  it("a reorg removes its claim while it proves: the claim is dropped, made again, and the job proved once", async function () {
    // PLONK on the Merkle circuit takes seconds: long enough for the reorg to land while the worker proves.
    const circuitId = devnet.circuitId("merkle_membership", "plonk");
    const prover = devnet.chain.accounts[1];
    const { file, dir } = await stakedWorkerServing(prover, circuitId, "merkle_membership", "plonk");
    const jobId = await postJob(
      devnet,
      devnet.chain.accounts[2],
      circuitId,
      await exampleInputs("merkle_membership", "reorg-own-claim"),
    );
    // The chain as it was before the worker's claim: the reorg goes back here.
    const snapshot = await send("evm_snapshot");
    const worker = run(file, prover.privateKey);
    await worker.waitForLog((l) => l.msg === "claimed" && l.jobId === jobId.toString());
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Claimed);
    // Once its job book has read the claim (else the reorg replaces blocks it never saw, and only the check before
    // submitting finds the claim gone).
    await bookShows(file, prover.privateKey, jobId, "Claimed");

    await reorgTo(snapshot);
    expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Open);
    const rewound = await worker.waitForLog((l) => l.msg === "reorg: rewound the job book to the fork point");
    expect(rewound.jobsChanged).to.include(jobId.toString());
    // Dropped by reconciliation on the reorg notice (or, had the proof been ready first, by the check before submitting).
    const dropped = await worker.waitForLog(
      (l) =>
        (l.msg === "claim dropped: not the worker's on chain" ||
          l.msg === "proof not submitted: the claim is no longer ours") &&
        l.jobId === jobId.toString(),
    );
    expect(String(dropped.reason)).to.match(
      /^reorg at block \d+: the chain shows the job as Open, attempt 0$|a reorg\?/,
    );

    await waitForStatus(devnet, jobId, JOB_STATUS.Proved, 120_000);
    // One claim and one proof on the final chain, both the worker's.
    const reader = createMarketReader({ provider: devnet.chain.provider, address: devnet.deployment.market });
    const events = await reader.scan(0, jobTopics(jobId));
    expect(events.map((e) => e.name)).to.deep.equal(["JobPosted", "JobClaimed", "JobProved"]);
    expect(events[1].args.prover).to.equal(prover.address);
    expect(events[2].args.prover).to.equal(prover.address);
    // Its first proof was never sent: no submission of it failed.
    expect(worker.logs.filter((l) => l.msg === "submission refused")).to.deep.equal([]);

    // `status --job` tells the story from the worker's store.
    await worker.waitForLog((l) => l.msg === "proof accepted" && l.jobId === jobId.toString());
    const status = await workerCommand(["status", "--job", jobId.toString(), "--config", file], prover.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    const shown = JSON.parse(status.stdout);
    expect(shown.job).to.include({ status: "Proved", attempt: "0" });
    expect(shown.claim).to.include({ status: "proved", attempt: "0" });
    expect(shown.claim.txHash).to.equal(events[2].txHash);
    await storeAgreesWithChain(path.join(dir, "data"), prover.address);
  });

  it("a reorg removes a job's posting: it leaves the book, its claim is dropped, nothing more is sent for it", async function () {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const prover = devnet.chain.accounts[1];
    const { file, dir } = await stakedWorkerServing(prover, circuitId, "poseidon_preimage", "groth16");
    const worker = run(file, prover.privateKey);
    await worker.waitForLog((l) => l.msg === "worker starting");
    const post = async (seed: string) =>
      postJob(devnet, devnet.chain.accounts[2], circuitId, await exampleInputs("poseidon_preimage", seed));
    const kept = await post("k");
    await waitForStatus(devnet, kept, JOB_STATUS.Proved);

    const snapshot = await send("evm_snapshot");
    const gone = await post("g");
    await waitForStatus(devnet, gone, JOB_STATUS.Proved);
    await worker.waitForLog((l) => l.msg === "proof accepted" && l.jobId === gone.toString());

    await reorgTo(snapshot);
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    expect(await market.jobCount()).to.equal(kept);
    const rewound = await worker.waitForLog((l) => l.msg === "reorg: rewound the job book to the fork point");
    expect(rewound.jobsRemoved).to.deep.equal([gone.toString()]);
    const dropped = await worker.waitForLog(
      (l) => l.msg === "claim dropped: not the worker's on chain" && l.jobId === gone.toString(),
    );
    expect(String(dropped.reason)).to.match(/the chain shows the job gone$/);
    const nonce = await devnet.chain.provider.getTransactionCount(prover.address);
    // A few of its poll intervals: it sends nothing for a job that is not there.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await devnet.chain.provider.getTransactionCount(prover.address)).to.equal(nonce);

    const status = await workerCommand(["status", "--job", gone.toString(), "--config", file], prover.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    const shown = JSON.parse(status.stdout);
    expect(shown.job).to.equal(null);
    expect(shown.claim.status).to.equal("lost");
    await storeAgreesWithChain(path.join(dir, "data"), prover.address);

    // The worker goes on: the next job (with the same id the removed one had) is proved as usual.
    const next = await post("n");
    expect(next).to.equal(gone);
    await waitForStatus(devnet, next, JOB_STATUS.Proved);
  });
});
