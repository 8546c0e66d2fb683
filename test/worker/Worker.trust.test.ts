/**
 * Issue #12's worker defences, with the real worker process on a real local chain: circuits registered with a
 * verifier that rejects everything, with a rug-pull verifier (a proxy to the real one that its owner can switch to
 * rejecting) and with the real verifier beside a batch verifier that accepts anything are refused at start-up and
 * their jobs never claimed, while an honestly registered circuit's job is proved. With the bytecode check turned off,
 * a rug pulled after the claim gets the submission refused: the worker abandons at once (the smaller slash, not the
 * whole bond), logs the evidence and stops serving the circuit, after a restart too (the verdict is stored). A claim
 * held at a restart on a circuit the start-up check now refuses is abandoned rather than proved.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Contract, ContractFactory, parseEther, type Wallet } from "ethers";
import { loadManifest, manifestPath, REPO_ROOT } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, contractArtifact } from "../../common/contracts/artifacts.ts";
import { circuitRegistration, NO_BATCH_VERIFIER } from "../../common/deploy/circuitRegistration.ts";
import { DEV_MARKET_PARAMS } from "../../common/deploy/marketParams.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { type Devnet, postJob, startDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { trackedWorkers } from "../helpers/trackedWorkers.ts";
import { stakedWorkerConfig, writeWorkerConfig } from "../helpers/workerProcess.ts";

/** postJob's default bond; the worker stakes 50. */
const BOND = parseEther("2");
const STAKED = parseEther("50");
const STAND_IN = path.join(REPO_ROOT, "test", "helpers", "standInProver.ts");
const OUT_OF_SERVICE = "job not claimed: its circuit is out of service";

describe("prover-worker trusts only the verifiers it can check (real chain, real worker)", function () {
  let devnet: Devnet;
  const run = trackedWorkers();

  before(async function () {
    devnet = await startDevnet();
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  const deployer = () => devnet.chain.accounts[0];
  const market = () => connectMarket(devnet.deployment.market, deployer());

  async function deploy(name: string, args: unknown[] = []): Promise<Contract> {
    const artifact = contractArtifact(name);
    const contract = await new ContractFactory(artifact.abi, artifact.bytecode, deployer()).deploy(...args);
    await contract.waitForDeployment();
    return contract as Contract;
  }

  /** Registers poseidon_preimage/groth16 again, with the given verifiers (anyone may register a circuit). */
  async function register(verifier: string, batchVerifier: string): Promise<bigint> {
    const registration = circuitRegistration(manifestPath("poseidon_preimage"), "groth16");
    await (await market().registerCircuit(registration.entry(verifier, batchVerifier))).wait();
    const circuitId = BigInt(await market().circuitCount());
    // postJob finds a circuit's manifest through the deployment's list.
    devnet.deployment.circuits.push({ circuitId, name: "poseidon_preimage", system: "groth16" });
    return circuitId;
  }

  const serving = (circuitIds: bigint[], backend?: "command") =>
    circuitIds.map((circuitId) => ({ circuitId, manifest: "poseidon_preimage", system: "groth16" as const, backend }));

  const postFor = async (circuitId: bigint, seed: string) =>
    postJob(devnet, devnet.chain.accounts[2], circuitId, await exampleInputs("poseidon_preimage", seed));

  const realVerifier = async () => (await market().circuit(devnet.circuitId("poseidon_preimage", "groth16"))).verifier;

  /**
   * A circuit registered with a rug-pull verifier (not yet pulled), and a staked worker config serving it with the
   * bytecode check off and one slot, whose prover waits for the test's go-ahead (`open()`), so that a test can act
   * after the claim and before the submission whatever the machine's speed.
   */
  async function gatedRugPullWorker(prover: Wallet) {
    const rug = await deploy("RugPullVerifier", [await realVerifier()]);
    const rugAddress = await rug.getAddress();
    const circuitId = await register(rugAddress, NO_BATCH_VERIFIER);
    const gate = path.join(mkdtempSync(path.join(os.tmpdir(), "pm-gate-")), "go");
    const template = `sh -c "while [ ! -e ${gate} ]; do sleep 0.05; done; exec ${process.execPath} ${STAND_IN} {zkey} {witness} {proof} {public}"`;
    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, serving([circuitId], "command"), {
        slots: 1,
        trust: { checkVerifierBytecode: false },
        backends: { command: { template } },
      }),
    );
    return { rug, rugAddress, circuitId, file, open: () => writeFileSync(gate, "") };
  }

  it("refuses circuits with a rejecting, a rug-pull or a lying batch verifier and never claims their jobs; proves the honest circuit's job", async function () {
    const honest = devnet.circuitId("poseidon_preimage", "groth16");
    const real = await realVerifier();
    const manifest = loadManifest("poseidon_preimage");
    const nPublic = manifest.nPublicOutputs + manifest.nPublicInputs;
    const rejecting = await register(await (await deploy("RejectingVerifier")).getAddress(), NO_BATCH_VERIFIER);
    const rugPull = await register(await (await deploy("RugPullVerifier", [real])).getAddress(), NO_BATCH_VERIFIER);
    const lyingBatch = await register(real, await (await deploy("LyingBatchVerifier", [nPublic])).getAddress());
    const hostile = [rejecting, rugPull, lyingBatch];

    const prover = devnet.chain.accounts[1];
    const { file } = await stakedWorkerConfig(prover, workerConfigFor(devnet, serving([honest, ...hostile])));
    const hostileJobs = [];
    for (const circuitId of hostile) hostileJobs.push(await postFor(circuitId, `hostile-${circuitId}`));
    const honestJob = await postFor(honest, "honest");

    const worker = run(file, prover.privateKey);
    const refusal = async (circuitId: bigint) =>
      (await worker.waitForLog((l) => l.msg === "circuit refused" && l.circuitId === Number(circuitId), 60_000))
        .reason as string;
    const single = "is not the verifier snarkjs exports from";
    expect(await refusal(rejecting))
      .to.contain(single)
      .and.contain("this worker will not claim its jobs");
    expect(await refusal(rugPull)).to.contain(single);
    expect(await refusal(lyingBatch)).to.contain("is not the batch verifier the project's template");
    await waitForStatus(devnet, honestJob, JOB_STATUS.Proved, 60_000);
    for (const jobId of hostileJobs)
      await worker.waitForLog((l) => l.msg === OUT_OF_SERVICE && l.jobId === jobId.toString(), 30_000);

    const claims = await market().queryFilter(market().filters.JobClaimed(), 0);
    expect(claims.map((c) => c.args.jobId)).to.deep.equal([honestJob]);
    for (const jobId of hostileJobs) expect((await market().jobState(jobId)).status).to.equal(JOB_STATUS.Open);

    // The operator sees it: /health lists each circuit's check, /metrics has a gauge per circuit.
    const { url } = await worker.waitForLog((l) => l.msg === "metrics and health listening");
    const health = (await (await fetch(`${url}/health`)).json()) as {
      circuits: { circuitId: number; status: string; inService: boolean }[];
    };
    expect(health.circuits.map((c) => [c.circuitId, c.status, c.inService])).to.deep.equal([
      [Number(honest), "trusted", true],
      ...hostile.map((id) => [Number(id), "refused", false]),
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).to.contain(`pm_worker_circuit_up{circuit="${honest}"} 1`);
    for (const id of hostile) expect(metrics).to.contain(`pm_worker_circuit_up{circuit="${id}"} 0`);

    worker.proc.kill("SIGTERM");
    expect(await worker.exited).to.equal(0);
  });

  it("exits with a clear error when every circuit it would serve is refused", async function () {
    const rejecting = await register(await (await deploy("RejectingVerifier")).getAddress(), NO_BATCH_VERIFIER);
    const { file } = writeWorkerConfig(workerConfigFor(devnet, serving([rejecting])));
    const worker = run(file, devnet.chain.accounts[4].privateKey);
    expect(await worker.exited).to.equal(1);
    const text = worker.logs.map((l) => String(l.msg)).join("\n");
    expect(text).to.contain("no circuit left to serve");
    expect(text).to.contain(`circuit ${rejecting} (poseidon_preimage/groth16): the code at`);
  });

  it("with the bytecode check off, a rug pulled after the claim: the worker abandons for the smaller slash, logs the evidence and stops serving the circuit", async function () {
    // The rug is pulled after the claim and before the submission.
    const prover = devnet.chain.accounts[3];
    const { rug, rugAddress, circuitId, file, open } = await gatedRugPullWorker(prover);
    const first = await postFor(circuitId, "rug-1");

    const worker = run(file, prover.privateKey);
    const disabled = await worker.waitForLog((l) => String(l.msg).startsWith("VERIFIER BYTECODE CHECK DISABLED"));
    expect(disabled).to.deep.include({ level: "warn", circuitId: Number(circuitId), verifier: rugAddress });
    await worker.waitForLog((l) => l.msg === "claimed" && l.jobId === first.toString());
    await (await (rug.connect(deployer()) as Contract).pull()).wait();
    open();

    const evidence = await worker.waitForLog(
      (l) => String(l.msg).startsWith("verifier refused a valid proof") && l.jobId === first.toString(),
      30_000,
    );
    expect(evidence).to.deep.include({
      level: "error",
      circuitId: Number(circuitId),
      verifier: rugAddress,
      revert: `InvalidProof(${first})`,
      tx: null,
    });
    await worker.waitForLog((l) => l.msg === "abandoned claim for the smaller slash" && l.jobId === first.toString());
    const account = await market().account(prover.address);
    expect(account.staked).to.equal(STAKED - (BOND * DEV_MARKET_PARAMS.abandonSlashBps) / 10_000n);
    expect(account.locked).to.equal(0n);

    // Out of service: neither the reopened job nor a new one on the circuit is claimed.
    const second = await postFor(circuitId, "rug-2");
    for (const jobId of [first, second])
      await worker.waitForLog((l) => l.msg === OUT_OF_SERVICE && l.jobId === jobId.toString(), 30_000);
    const claims = await market().queryFilter(market().filters.JobClaimed(), 0);
    expect(claims.filter((c) => c.args.prover === prover.address).map((c) => c.args.jobId)).to.deep.equal([first]);
    expect((await market().jobState(first)).status).to.equal(JOB_STATUS.Open);

    worker.proc.kill("SIGTERM");
    expect(await worker.exited).to.equal(0);

    // A restart remembers: the verdict is stored with the verifier's code, so the circuit is refused at once, with
    // the evidence and how to clear it, and nothing is claimed (it was the only circuit: the worker ends).
    const restarted = run(file, prover.privateKey);
    expect(await restarted.exited).to.equal(1);
    const text = restarted.logs.map((l) => `${String(l.msg)} ${String(l.reason ?? "")}`).join("\n");
    expect(text).to.contain("no circuit left to serve");
    expect(text).to.contain(`circuit ${circuitId} (poseidon_preimage/groth16): out of service since`);
    expect(text).to.contain(`InvalidProof(${first}) (job ${first}); the verdict holds while the code at its verifier`);
    expect(text).to.contain(`proofmarket-worker trust --clear ${circuitId}`);
    const after = await market().queryFilter(market().filters.JobClaimed(), 0);
    expect(after.filter((c) => c.args.prover === prover.address)).to.have.length(1);
  });

  it("a claim held at a restart on a circuit the start-up check now refuses is abandoned at once, not proved", async function () {
    // The prover never gets the go-ahead: the claim is still held when the worker is killed.
    const prover = devnet.chain.accounts[5];
    const { circuitId, file, open } = await gatedRugPullWorker(prover);
    const job = await postFor(circuitId, "held");
    try {
      const worker = run(file, prover.privateKey);
      await worker.waitForLog((l) => l.msg === "claimed" && l.jobId === job.toString());
      worker.proc.kill("SIGKILL");
      await worker.exited;

      // The operator turns the check on: the rug-pull verifier is not the project's build, so the circuit is refused.
      const config = JSON.parse(readFileSync(file, "utf8"));
      writeFileSync(file, JSON.stringify({ ...config, trust: { checkVerifierBytecode: true } }));
      const restarted = run(file, prover.privateKey);
      const abandoning = await restarted.waitForLog(
        (l) => String(l.msg).startsWith("abandoning a claim held at restart") && l.jobId === job.toString(),
      );
      expect(abandoning).to.deep.include({ level: "warn", circuitId: Number(circuitId) });
      const abandoned = await restarted.waitForLog(
        (l) => l.msg === "abandoned claim for the smaller slash" && l.jobId === job.toString(),
      );
      expect(String(abandoned.reason)).to.match(/^its circuit is out of service: circuit \d+ \(poseidon_preimage/);
      // The claims settled, the worker ends: it has no circuit left to serve.
      expect(await restarted.exited).to.equal(1);
      expect(restarted.logs.some((l) => l.msg === "resuming claim after restart")).to.equal(false);
      const account = await market().account(prover.address);
      expect(account.staked).to.equal(STAKED - (BOND * DEV_MARKET_PARAMS.abandonSlashBps) / 10_000n);
      expect(account.locked).to.equal(0n);
      expect((await market().jobState(job)).status).to.equal(JOB_STATUS.Open);
    } finally {
      open(); // lets the orphaned stand-in prover of the killed worker end
    }
  });
});
