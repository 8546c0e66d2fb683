/**
 * The prover worker against a real local chain (hardhat node) with the real contracts: it stakes through its CLI,
 * discovers jobs, preflights them, claims, proves with snarkjs in its slots and is paid; jobs whose inputs are
 * wrong or unprovable are skipped without a claim; SIGTERM stops it cleanly.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import type { LocalChain } from "../../dev/localNode.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import type { DevnetDeployment } from "../../dev/devnet.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { type Devnet, postJob, startDevnet, waitForStatus } from "../helpers/market.ts";
import { startWorker, workerCommand, writeWorkerConfig } from "../helpers/workerProcess.ts";

/** postJob's default fee. */
const FEE = parseEther("3");

describe("prover-worker run, against a real local chain", function () {
  let devnet: Devnet;
  let chain: LocalChain;
  let deployment: DevnetDeployment;

  before(async function () {
    devnet = await startDevnet();
    ({ chain, deployment } = devnet);
  });

  after(async function () {
    await chain?.stop();
  });

  it("stakes, proves valid jobs and is paid; skips bad and unprovable jobs without claiming; stops on SIGTERM", async function () {
    const prover = chain.accounts[1];
    const requester = chain.accounts[2];
    const groth16 = deployment.circuits.find(
      (c) => c.name === "poseidon_preimage" && c.system === "groth16",
    )!.circuitId;
    const eddsa = deployment.circuits.find((c) => c.name === "eddsa_signature")!.circuitId;
    const { file } = writeWorkerConfig({
      rpcUrl: chain.url,
      marketAddress: deployment.market,
      circuits: [{ circuitId: Number(groth16), manifest: "poseidon_preimage", system: "groth16" }],
      slots: 2,
      pollIntervalMs: 300,
      metrics: { port: 0 },
      policy: { provingSecondsEstimate: 5 },
    });

    const staked = await workerCommand(["stake", "50", "--config", file], prover.privateKey);
    expect(staked.code, staked.stderr).to.equal(0);
    expect(staked.stdout).to.contain("staked 50.0");
    expect(staked.stdout + staked.stderr).to.not.contain(prover.privateKey.slice(2));

    const good1 = await postJob(devnet, requester, groth16, await exampleInputs("poseidon_preimage", "w1"));
    const good2 = await postJob(devnet, requester, groth16, await exampleInputs("poseidon_preimage", "w2"));
    const wrongHash = await postJob(devnet, requester, groth16, await exampleInputs("poseidon_preimage", "w3"), {
      wrongHash: true,
    });
    const unprovableDoc = { ...(await exampleInputs("poseidon_preimage", "w4")), preimage: ["1", "2"] };
    const unprovable = await postJob(devnet, requester, groth16, unprovableDoc);
    const unserved = await postJob(devnet, requester, eddsa, await exampleInputs("eddsa_signature", "w5"));

    const worker = startWorker(file, prover.privateKey);
    try {
      await waitForStatus(devnet, good1, JOB_STATUS.Proved);
      await waitForStatus(devnet, good2, JOB_STATUS.Proved);
      const skipReason = async (jobId: bigint) =>
        (await worker.waitForLog((l) => l.msg === "job skipped without a claim" && l.jobId === jobId.toString()))
          .reason as string;
      expect(await skipReason(wrongHash)).to.match(/inputs hash .* does not match/);
      expect(await skipReason(unprovable)).to.match(/do not satisfy the circuit/);

      const market = connectMarket(deployment.market, chain.provider);
      for (const jobId of [wrongHash, unprovable, unserved])
        expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Open);
      const claimedLogs = await market.queryFilter(market.filters.JobClaimed(), 0);
      expect(claimedLogs.map((l) => l.args.jobId).sort()).to.deep.equal([good1, good2].sort());
      expect(await market.withdrawable(prover.address)).to.equal(2n * FEE);
      expect((await market.account(prover.address)).locked).to.equal(0n);
      expect(worker.logs.map((l) => JSON.stringify(l)).join("\n")).to.not.contain(prover.privateKey.slice(2));
    } catch (e) {
      console.error(
        worker.logs
          .slice(-30)
          .map((l) => JSON.stringify(l))
          .join("\n"),
      );
      throw e;
    } finally {
      worker.proc.kill("SIGTERM");
    }
    expect(await worker.exited).to.equal(0);

    const status = await workerCommand(["status", "--config", file], prover.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.claims.proved).to.equal(2);
    expect(parsed.withdrawable).to.equal("6.0");
    expect(parsed.locked).to.equal("0.0");
  });

  it("wakes on a WebSocket log notification instead of waiting out its poll interval", async function () {
    const prover = chain.accounts[3];
    const requester = chain.accounts[2];
    const groth16 = deployment.circuits.find(
      (c) => c.name === "poseidon_preimage" && c.system === "groth16",
    )!.circuitId;
    const { file } = writeWorkerConfig({
      rpcUrl: chain.url,
      wsUrl: chain.url.replace(/^http/, "ws"),
      marketAddress: deployment.market,
      circuits: [{ circuitId: Number(groth16), manifest: "poseidon_preimage", system: "groth16" }],
      // Polling alone would not see the job for ten minutes.
      pollIntervalMs: 600_000,
      metrics: { port: 0 },
      policy: { provingSecondsEstimate: 5 },
    });
    const staked = await workerCommand(["stake", "10", "--config", file], prover.privateKey);
    expect(staked.code, staked.stderr).to.equal(0);
    const worker = startWorker(file, prover.privateKey);
    try {
      await worker.waitForLog((l) => l.msg === "subscribed to market logs", 30_000);
      const posted = Date.now();
      const jobId = await postJob(devnet, requester, groth16, await exampleInputs("poseidon_preimage", "ws"));
      await waitForStatus(devnet, jobId, JOB_STATUS.Proved, 60_000);
      expect(Date.now() - posted).to.be.below(60_000);
    } catch (e) {
      console.error(worker.logs.map((l) => JSON.stringify(l)).join("\n"));
      throw e;
    } finally {
      worker.proc.kill("SIGTERM");
    }
    expect(await worker.exited).to.equal(0);
  });

  it("refuses a bad configuration with a message naming the field", async function () {
    const { file: badWs } = writeWorkerConfig({
      rpcUrl: "http://127.0.0.1:8545",
      wsUrl: "http://127.0.0.1:8545",
      marketAddress: "0x" + "11".repeat(20),
      circuits: [{ circuitId: 1, manifest: "poseidon_preimage", system: "groth16" }],
    });
    const wsResult = await workerCommand(["status", "--config", badWs], chain.accounts[1].privateKey);
    expect(wsResult.code).to.equal(2);
    expect(wsResult.stderr).to.contain("wsUrl: expected a ws:// or wss:// URL");

    const { file } = writeWorkerConfig({
      rpcUrl: "not a url",
      marketAddress: "0x1234",
      circuits: [{ circuitId: 1, manifest: "poseidon_preimage", system: "groth17" }],
    });
    const result = await workerCommand(["status", "--config", file], chain.accounts[1].privateKey);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("rpcUrl");
    expect(result.stderr).to.contain("marketAddress");
    expect(result.stderr).to.contain("circuits.0.system");
  });
});
