/**
 * Lost claim races, with a real worker process on a real local chain: the job's inputs come from a server on
 * 127.0.0.1 that holds its answer, so the worker's preflight is still running when another prover claims the job.
 *  - With the log subscription (wsUrl), the worker sees the other prover's JobClaimed and does not send its own
 *    claim: nothing is refused, nothing is sent.
 *  - Polling only, the worker learns of the other claim from the refusal: its claim is refused at gas estimation
 *    and counted in pm_worker_claims_refused_total{where="estimate"}.
 *  - With both claims in one block (automine off), the other prover's first, the worker's claim is mined and
 *    reverted: counted with where="mined".
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { parseEther, parseUnits, type Wallet } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../../common/inputs/document.ts";
import { type JobTerms, termsOf } from "../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { type Devnet, startDevnet, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { metricSamples, stakedWorkerConfig, type WorkerProcess } from "../helpers/workerProcess.ts";

const NOT_SENT = "claim not sent: another prover's claim of the job was seen";

/** An inputs server that answers each request only when the test releases it. */
function heldInputsServer(bytes: Uint8Array) {
  const waiting: ServerResponse[] = [];
  const arrivals: (() => void)[] = [];
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    waiting.push(res);
    for (const arrived of arrivals.splice(0)) arrived();
  });
  return {
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/inputs.json`;
    },
    /** Resolves once a request is waiting for its answer. */
    requested(): Promise<void> {
      return waiting.length > 0 ? Promise.resolve() : new Promise((r) => arrivals.push(r));
    },
    /** Answers every request waiting. */
    release(): void {
      for (const res of waiting.splice(0))
        res.writeHead(200, { "content-type": "application/json" }).end(Buffer.from(bytes));
    },
    requests: () => requests,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe("prover-worker and another prover's claim of a job it is preflighting", function () {
  this.timeout(120_000);
  let devnet: Devnet;
  let rival: Wallet;
  const run = trackedWorkers();
  const servers: { close(): Promise<void> }[] = [];

  before(async function () {
    devnet = await startDevnet();
    rival = devnet.chain.accounts[3];
    await (
      await connectToken(devnet.deployment.token, rival).approve(devnet.deployment.market, parseEther("50"))
    ).wait();
    await (await connectMarket(devnet.deployment.market, rival).stake(parseEther("50"))).wait();
  });

  afterEach(async function () {
    for (const s of servers.splice(0)) await s.close();
    // A test that failed with automine off must not leave it off for the next.
    await devnet.chain.provider.send("evm_setAutomine", [true]);
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  /** Posts a job whose inputs are on a held server; returns its id and terms, and the server. */
  async function postJobWithHeldInputs(label: string) {
    const requester = devnet.chain.accounts[2];
    const document = await exampleInputs("poseidon_preimage", label);
    const { bytes } = inputsDataURI(document);
    const inputs = heldInputsServer(bytes);
    servers.push(inputs);
    const inputsURI = await inputs.listen();
    const market = connectMarket(devnet.deployment.market, requester);
    const token = connectToken(devnet.deployment.token, requester);
    await (await token.approve(devnet.deployment.market, parseEther("100"))).wait();
    const now = (await devnet.chain.provider.getBlock("latest"))!.timestamp;
    const request = {
      circuitId: devnet.circuitId("poseidon_preimage", "groth16"),
      minFee: parseEther("3"),
      maxFee: parseEther("3"),
      rampStart: 0n,
      rampDuration: 0n,
      expiresAt: BigInt(now + 3600),
      provingWindow: 300n,
      bond: parseEther("2"),
      inputsCommitment: parseInputsDocument(loadManifest("poseidon_preimage"), document).inputsCommitment,
    };
    const receipt = (await (await market.postJob({ ...request, inputsHash: sha256Hex(bytes), inputsURI })).wait())!;
    const posted = receipt.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted")!;
    // The terms as posted: the market fills in the requester, and the ramp's start (0: the posting's second).
    const terms: JobTerms = termsOf(posted.args as unknown as JobTerms);
    return { jobId: posted.args.jobId as bigint, terms, inputs };
  }

  /**
   * Starts a staked worker for the example circuit and waits until it serves its metrics. `sent()`: transactions
   * its account has sent since; `refused()`: its pm_worker_claims_refused_total samples by label.
   */
  async function startStakedWorker(prover: Wallet, extra: Record<string, unknown>) {
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }], extra),
    );
    const { provider } = devnet.chain;
    const nonce = await provider.getTransactionCount(prover.address);
    const worker = run(file, prover.privateKey);
    const url = (await worker.waitForLog((l) => l.msg === "metrics and health listening", 60_000)).url as string;
    const metrics = async () => (await fetch(`${url}/metrics`)).text();
    return {
      worker,
      metrics,
      sent: async () => (await provider.getTransactionCount(prover.address)) - nonce,
      refused: async () => Object.fromEntries(metricSamples(await metrics(), "pm_worker_claims_refused_total")),
    };
  }

  /** Resolves once the worker's discovery has read the chain up to `block` (its head-block gauge). */
  async function discoveryRead(metrics: () => Promise<string>, block: number): Promise<void> {
    for (let started = Date.now(); Date.now() - started < 30_000;) {
      if ((metricSamples(await metrics(), "pm_worker_head_block").get("") ?? -1) >= block) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the worker's discovery did not read block ${block} within 30 s`);
  }

  /**
   * Posts a job; once the worker's preflight is fetching its inputs, the other prover claims it; once the worker's
   * discovery has read that claim, the inputs are answered. Resolves with the job and the worker's log line about
   * its claim (not sent, or not taken).
   */
  async function claimedWhilePreflighting(label: string, w: Awaited<ReturnType<typeof startStakedWorker>>) {
    const { jobId, terms, inputs } = await postJobWithHeldInputs(label);
    await inputs.requested();
    const claimed = (await (await connectMarket(devnet.deployment.market, rival).claim(jobId, terms)).wait())!;
    await discoveryRead(w.metrics, claimed.blockNumber);
    inputs.release();
    const line = await w.worker.waitForLog(lineFor(jobId), 30_000);
    return { jobId, line, inputs };
  }

  /** Who claimed the job, from its JobClaimed events. */
  async function claimants(jobId: bigint): Promise<string[]> {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    return (await market.queryFilter(market.filters.JobClaimed(jobId), 0)).map((e) => e.args.prover as string);
  }

  const lineFor = (jobId: bigint) => (l: Record<string, unknown>) =>
    l.jobId === jobId.toString() && (l.msg === NOT_SENT || l.msg === "claim not taken");

  async function stopCleanly(worker: WorkerProcess): Promise<void> {
    worker.proc.kill("SIGTERM");
    expect(await worker.exited, "the worker stops cleanly on SIGTERM").to.equal(0);
  }

  it("with the log subscription, sees the other prover's claim and does not send its own", async function () {
    const w = await startStakedWorker(devnet.chain.accounts[1], {
      wsUrl: devnet.chain.url.replace(/^http/, "ws"),
      // Polling would not read the chain for ten minutes: discovery reads only when the subscription wakes it, so
      // once it has read the other claim, the subscription has delivered it.
      pollIntervalMs: 600_000,
    });
    await w.worker.waitForLog((l) => l.msg === "subscribed to market logs", 30_000);

    const { jobId, line, inputs } = await claimedWhilePreflighting("seen-ws", w);
    expect(line.msg, JSON.stringify(line)).to.equal(NOT_SENT);
    const refused = Object.values(await w.refused());
    expect(
      refused.filter((v) => v > 0),
      "claims refused",
    ).to.deep.equal([]);
    expect(await w.sent(), "transactions sent").to.equal(0);
    expect(await claimants(jobId)).to.deep.equal([rival.address]);
    expect(inputs.requests(), "one preflight").to.equal(1);
    await stopCleanly(w.worker);
  });

  it("polling only, sends its claim, which is refused at gas estimation and counted", async function () {
    const w = await startStakedWorker(devnet.chain.accounts[4], { pollIntervalMs: 200 });
    const { jobId, line } = await claimedWhilePreflighting("seen-poll", w);
    expect(line.msg, JSON.stringify(line)).to.equal("claim not taken");
    expect(line.mined).to.equal(false);
    expect(line.reason).to.match(/^WrongStatus\(/);
    expect(await w.refused()).to.deep.equal({ '{where="estimate"}': 1 });
    // Refused before it was sent: no gas spent.
    expect(await w.sent(), "transactions sent").to.equal(0);
    expect(await claimants(jobId)).to.deep.equal([rival.address]);
    await stopCleanly(w.worker);
  });

  it("a claim mined after the other prover's, in the same block, is reverted and counted as mined", async function () {
    const prover = devnet.chain.accounts[5];
    const w = await startStakedWorker(prover, { pollIntervalMs: 200 });
    const { provider } = devnet.chain;
    const nonce = await provider.getTransactionCount(prover.address);

    const { jobId, terms, inputs } = await postJobWithHeldInputs("seen-mined");
    await inputs.requested();
    await provider.send("evm_setAutomine", [false]);
    inputs.release();
    // The worker's claim waits in the mempool: it passed its gas estimation against a chain where the job is Open.
    for (let started = Date.now(); (await provider.getTransactionCount(prover.address, "pending")) === nonce;) {
      if (Date.now() - started > 30_000) throw new Error("the worker sent no claim within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    // The other prover's claim, with a higher tip, goes first in the same block (a gas limit given: no estimation
    // against a pending state where the worker's claim might already have the job).
    const tip = parseUnits("50", "gwei");
    const rivalTx = await connectMarket(devnet.deployment.market, rival).claim(jobId, terms, {
      gasLimit: 500_000n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: tip * 4n,
    });
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    const rivalReceipt = (await rivalTx.wait())!;
    expect(rivalReceipt.status).to.equal(1);

    const line = await w.worker.waitForLog(lineFor(jobId), 30_000);
    expect(line.msg, JSON.stringify(line)).to.equal("claim not taken");
    expect(line.mined, JSON.stringify(line)).to.equal(true);
    // Replayed on the state before the block, the claim would pass: the refusal is the other claim's doing.
    expect(line.reason).to.match(/^WrongStatus\(/);
    const workerReceipt = (await provider.getTransactionReceipt(line.tx as string))!;
    expect(workerReceipt.status, "the worker's claim reverted").to.equal(0);
    expect(workerReceipt.blockNumber, "both claims in one block").to.equal(rivalReceipt.blockNumber);
    expect(workerReceipt.index).to.be.greaterThan(rivalReceipt.index);
    expect(await w.refused()).to.deep.equal({ '{where="mined"}': 1 });
    expect(await w.sent(), "transactions sent: the reverted claim").to.equal(1);
    expect(await claimants(jobId)).to.deep.equal([rival.address]);
    const state = await connectMarket(devnet.deployment.market, provider).jobState(jobId);
    expect(state.status).to.equal(JOB_STATUS.Claimed);
    await stopCleanly(w.worker);
  });
});
