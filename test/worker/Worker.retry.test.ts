/**
 * The prover worker against a real local chain, with a job whose inputs server is down (HTTP 503): the worker backs
 * off between preflights (1 s, doubling, with jitter) instead of asking again at every tick, and proves the job once
 * the server answers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { parseEther } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../../common/inputs/document.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { type Devnet, startDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { stakedWorkerConfig, startWorker } from "../helpers/workerProcess.ts";

describe("prover-worker retries a job whose inputs cannot be fetched, with backoff", function () {
  let devnet: Devnet;
  let server: Server;

  before(async function () {
    devnet = await startDevnet();
  });

  after(async function () {
    server?.close();
    await devnet?.chain.stop();
  });

  it("asks a 503 inputs server only a handful of times in 5 s, then proves the job once it answers", async function () {
    this.timeout(60_000);
    const { chain } = devnet;
    const prover = chain.accounts[1];
    const requester = chain.accounts[2];
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const document = await exampleInputs("poseidon_preimage", "retry");
    const { bytes } = inputsDataURI(document);

    const requests: number[] = [];
    let up = false;
    let firstRequest: () => void;
    const first = new Promise<void>((r) => (firstRequest = r));
    server = createServer((_req, res) => {
      requests.push(Date.now());
      firstRequest();
      if (up) res.writeHead(200, { "content-type": "application/json" }).end(Buffer.from(bytes));
      else res.writeHead(503).end("down");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inputs.json`;

    const market = connectMarket(devnet.deployment.market, requester);
    await (
      await connectToken(devnet.deployment.token, requester).approve(devnet.deployment.market, parseEther("100"))
    ).wait();
    const now = (await chain.provider.getBlock("latest"))!.timestamp;
    const receipt = (await (
      await market.postJob({
        circuitId,
        minFee: parseEther("3"),
        maxFee: parseEther("3"),
        rampStart: 0n,
        rampDuration: 0n,
        bond: parseEther("2"),
        provingWindow: 300n,
        expiresAt: BigInt(now + 3600),
        inputsCommitment: parseInputsDocument(loadManifest("poseidon_preimage"), document).inputsCommitment,
        inputsHash: sha256Hex(bytes),
        inputsURI: uri,
      })
    ).wait())!;
    const jobId = receipt.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted")!.args
      .jobId as bigint;

    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }], {
        pollIntervalMs: 100,
      }),
    );
    const worker = startWorker(file, prover.privateKey);
    try {
      await first;
      await new Promise((r) => setTimeout(r, 5_000));
      const whileDown = requests.length;
      up = true;
      // Without a backoff a worker asks at every tick: dozens of times in 5 s.
      expect(whileDown, `requests while the inputs server was down: ${whileDown}`).to.be.within(2, 6);
      const retryLogs = worker.logs.filter((l) => l.msg === "preflight could not run; will retry");
      expect(retryLogs.length).to.be.within(2, 7);
      await waitForStatus(devnet, jobId, JOB_STATUS.Proved, 40_000);
    } catch (e) {
      for (const line of worker.logs.slice(-30)) console.error(JSON.stringify(line));
      throw e;
    } finally {
      worker.proc.kill("SIGTERM");
    }
    expect(await worker.exited, "the worker stops cleanly on SIGTERM").to.equal(0);
  });
});
