/**
 * External prover backends behind the worker's one interface: `rapidsnark` (a binary by path) and `command` (a
 * template, as for GPU provers), run against a stand-in program; a backend whose proof does not verify is taken
 * out of service and its proof never submitted. With PM_RAPIDSNARK_BINARY set, a real rapidsnark is tested too.
 */
import { expect } from "chai";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { type Devnet, postJob, provedBy, startDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { stakedWorkerConfig } from "../helpers/workerProcess.ts";

const STAND_IN = path.join(REPO_ROOT, "test", "helpers", "standInProver.ts");

/** An executable with rapidsnark's command line that runs the stand-in. */
function standInBinary(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pm-standin-"));
  const file = path.join(dir, "prover");
  writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${STAND_IN}" "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("prover-worker backends", function () {
  let devnet: Devnet;
  const run = trackedWorkers();

  before(async function () {
    devnet = await startDevnet();
  });

  after(async function () {
    await devnet.chain.stop();
  });

  async function runWorker(accountIndex: number, config: Record<string, unknown>, env: Record<string, string> = {}) {
    const account = devnet.chain.accounts[accountIndex];
    const { file } = await stakedWorkerConfig(account, config);
    const worker = run(file, account.privateKey, env);
    return { account, worker };
  }

  it("rapidsnark: proves through the binary given by path", async function () {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const calls = path.join(mkdtempSync(path.join(os.tmpdir(), "pm-calls-")), "calls.txt");
    const config = workerConfigFor(
      devnet,
      [{ circuitId, manifest: "poseidon_preimage", system: "groth16", backend: "rapidsnark" }],
      {
        backends: { rapidsnark: { binary: standInBinary() } },
      },
    );
    const { account, worker } = await runWorker(1, config, { STANDIN_CALLS: calls });
    const jobId = await postJob(
      devnet,
      devnet.chain.accounts[2],
      circuitId,
      await exampleInputs("poseidon_preimage", "rs1"),
    );
    await waitForStatus(devnet, jobId, JOB_STATUS.Proved);
    expect(readFileSync(calls, "utf8").trim().split("\n")).to.have.length(1);
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    expect((await provedBy(market, jobId)).prover).to.equal(account.address);
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).to.equal(0);
  });

  it("command: a backend whose proof does not verify is taken out of service; nothing invalid is submitted", async function () {
    const circuitId = devnet.circuitId("eddsa_signature", "groth16");
    const template = `"${process.execPath}" "${STAND_IN}" {zkey} {witness} {proof} {public}`;
    const config = workerConfigFor(
      devnet,
      [{ circuitId, manifest: "eddsa_signature", system: "groth16", backend: "command" }],
      {
        backends: { command: { template } },
      },
    );
    const { account, worker } = await runWorker(3, config, { STANDIN_MODE: "bad" });
    const requester = devnet.chain.accounts[2];
    const first = await postJob(devnet, requester, circuitId, await exampleInputs("eddsa_signature", "bad1"));
    await worker.waitForLog((l) => /taken out of service/.test(String(l.msg)));
    await worker.waitForLog((l) => l.msg === "abandoned claim for the smaller slash" && l.jobId === first.toString());
    const second = await postJob(devnet, requester, circuitId, await exampleInputs("eddsa_signature", "bad2"));

    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    expect(
      await market
        .queryFilter(market.filters.JobProved(), 0)
        .then((l) => l.filter((e) => e.args.prover === account.address)),
    ).to.have.length(0);
    const state = await market.jobState(first);
    expect(state.status).to.equal(JOB_STATUS.Open);
    expect(state.attempt).to.equal(1n);
    // A few polls later the second job is still unclaimed: no circuit served by the broken backend is taken.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await market.jobState(second)).status).to.equal(JOB_STATUS.Open);
    const healthUrl = String((await worker.waitForLog((l) => l.msg === "metrics and health listening")).url);
    const health = await (await fetch(`${healthUrl}/health`)).json();
    expect(health.backendsOutOfService).to.have.property("command");
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    expect(metrics).to.match(/pm_worker_backend_up\{backend="command"\} 0/);
  });

  if (process.env.PM_RAPIDSNARK_BINARY && existsSync(process.env.PM_RAPIDSNARK_BINARY)) {
    it("rapidsnark: a real binary (PM_RAPIDSNARK_BINARY) proves a job", async function () {
      const circuitId = devnet.circuitId("merkle_membership", "groth16");
      const config = workerConfigFor(
        devnet,
        [{ circuitId, manifest: "merkle_membership", system: "groth16", backend: "rapidsnark" }],
        {
          backends: { rapidsnark: { binary: process.env.PM_RAPIDSNARK_BINARY } },
        },
      );
      await runWorker(4, config);
      const jobId = await postJob(
        devnet,
        devnet.chain.accounts[2],
        circuitId,
        await exampleInputs("merkle_membership", "real-rs"),
      );
      await waitForStatus(devnet, jobId, JOB_STATUS.Proved);
    });
  }
});
