/**
 * ProofMarket end to end, as real processes: a local chain node, the market deployed with Ignition through the
 * RPC-URL network (as on a testnet), the coordinator, and three workers reading the deployment's folder. The
 * coordinator, the workers and the requester reach the chain through a proxy that behaves like a public RPC provider
 * (dev/rpcProxy.ts: eth_getLogs capped at 500 blocks, 429s, latency, dropped connections, stale heads), over a chain
 * with a long history of empty blocks, so that every reader must page its logs. Twenty
 * jobs across the example circuits (Groth16, PLONK, FFLONK). One worker is killed with SIGKILL while it holds a
 * claim; after the deadline a keeper reassigns the job and another worker proves it. At the end every job is
 * Proved, GraphQL shows each job's full history, the killed worker's stake shows the slash, and the token
 * balances add up to the last unit. A bad-input round (inputs that do not match their hash, inputs that do not
 * satisfy the circuit, an unknown circuit) gets clear refusals or skips without a claim, disturbing nothing.
 */
import { expect } from "chai";
import { rmSync } from "node:fs";
import path from "node:path";
import { Contract, parseEther, type Wallet } from "ethers";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { type ExampleCircuit, exampleInputs } from "../../common/circuits/exampleInputs.ts";
import type { ProofSystem } from "../../common/circuits/manifest.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { exampleCircuitId, exampleCircuitIds } from "../../common/deploy/circuitRegistration.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import { DEV_MARKET_PARAMS } from "../../common/deploy/marketParams.ts";
import type { IgnitionDeployment } from "../../common/deploy/ignitionDeployment.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { createMarketReader, jobTopics } from "../../common/market/marketReader.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { COORDINATOR_NODE_FLAGS } from "../../coordinator/runtime.ts";
import { createRequester, type Requester } from "../../requester/client.ts";
import { createProvider } from "../../common/chain/provider.ts";
import { type LocalChain, startLocalChain } from "../../dev/localNode.ts";
import { type RpcProxy, startRpcProxy } from "../../dev/rpcProxy.ts";
import { type Devnet, postJob, provedBy } from "../helpers/market.ts";
import {
  type LoggedProcess,
  spawnLogged,
  startWorker,
  workerCommand,
  writeWorkerConfig,
} from "../helpers/workerProcess.ts";

const FEE = parseEther("3");
const BOND = parseEther("2");
/** The twenty jobs: [circuit, proof system, how many]. The first is the one the killed worker holds. */
const PLAN: [ExampleCircuit, ProofSystem, number][] = [
  ["poseidon_chain", "groth16", 1],
  ["poseidon_preimage", "groth16", 9],
  ["merkle_membership", "groth16", 3],
  ["eddsa_signature", "groth16", 2],
  ["poseidon_preimage", "plonk", 2],
  ["merkle_membership", "plonk", 2],
  ["poseidon_preimage", "fflonk", 1],
];

describe("end to end: chain, Ignition deployment, coordinator, three workers, twenty jobs", function () {
  let chain: LocalChain;
  let deployment: IgnitionDeployment;
  let scratch: ScratchDatabase;
  let coordinator: LoggedProcess;
  let coordinatorUrl: string;
  let requester: Requester;
  let proxy: RpcProxy;
  const deploymentId = `test-e2e-${process.pid}`;
  const workers: LoggedProcess[] = [];

  before(async function () {
    chain = await startLocalChain();
    deployment = await deployWithIgnition({
      rpcUrl: chain.url,
      deployerKey: chain.accounts[0].privateKey,
      module: "Devnet",
      deploymentId,
    });
    const mintable = new Contract(deployment.token!, ["function mint(address,uint256)"], chain.accounts[0]);
    for (const who of chain.accounts.slice(1, 6)) await (await mintable.mint(who.address, parseEther("1000"))).wait();
    // History: 1,500 empty blocks after the deployment, more than a public provider serves in one eth_getLogs. Mined
    // one by one (in one batch request), since hardhat_mine's reserved blocks do not name their parent.
    await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(Array.from({ length: 1500 }, (_, id) => ({ jsonrpc: "2.0", id, method: "evm_mine" }))),
    });
    proxy = await startRpcProxy(chain.url, {
      maxBlockRange: 500,
      maxResults: 10_000,
      rateLimitRate: 0.03,
      latencyMs: [0, 15],
      dropRate: 0.02,
      staleHeadRate: 0.05,
      staleBlocks: 2,
      seed: 13,
    });

    scratch = await scratchDatabase("sqlite");
    coordinator = spawnLogged([...COORDINATOR_NODE_FLAGS, path.join(REPO_ROOT, "coordinator", "main.ts")], {
      DATABASE_URL: scratch.url,
      RPC_URL: proxy.url,
      DEPLOYMENT: deployment.dir,
      CONFIRMATIONS: "0",
      POLL_MS: "200",
      PORT: "0",
    });
    coordinatorUrl = String((await coordinator.waitForLog((l) => l.msg === "REST listening")).url);
    // Uploads are checked against circuits the coordinator has indexed.
    await coordinator.waitForLog((l) => l.msg === "indexed range");
    requester = createRequester({
      provider: createProvider(proxy.url),
      wallet: chain.accounts[4] as Wallet,
      marketAddress: deployment.market,
      startBlock: deployment.startBlock,
      coordinatorUrl,
    });
  });

  after(async function () {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
    coordinator?.proc.kill("SIGTERM");
    await coordinator?.exited;
    await scratch?.drop();
    await proxy?.close();
    rmSync(ignitionDeploymentDir(deploymentId), { recursive: true, force: true });
    await chain?.stop();
  });

  async function worker(account: Wallet, keeper: boolean): Promise<LoggedProcess> {
    const circuits = exampleCircuitIds();
    const { file } = writeWorkerConfig({
      rpcUrl: proxy.url,
      // The proxy serves HTTP only: the log subscription goes to the node itself.
      wsUrl: chain.url.replace(/^http/, "ws"),
      deployment: deployment.dir,
      circuits,
      slots: 1,
      pollIntervalMs: 250,
      metrics: { port: 0 },
      keeper: { enabled: keeper },
      policy: { provingSecondsEstimate: 8 },
    });
    const staked = await workerCommand(["stake", "50", "--config", file], account.privateKey);
    expect(staked.code, staked.stderr).to.equal(0);
    const started = startWorker(file, account.privateKey);
    workers.push(started);
    return started;
  }

  /** A worker's refused claims by where they were refused (estimate, mined), from its /metrics. */
  async function claimsRefused(w: LoggedProcess): Promise<Record<string, number>> {
    const url = String(w.logs.find((l) => l.msg === "metrics and health listening")!.url);
    const text = await (await fetch(`${url}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const m of text.matchAll(/^pm_worker_claims_refused_total\{where="(\w+)"\} (\d+)/gm))
      counts[m[1]] = Number(m[2]);
    return counts;
  }

  async function post(name: ExampleCircuit, system: ProofSystem, seed: string, provingWindow = 300n): Promise<bigint> {
    const { jobId } = await requester.postJob({
      circuitId: exampleCircuitId(name, system),
      inputs: await exampleInputs(name, seed),
      fee: FEE,
      bond: BOND,
      provingWindow,
      expiresIn: 3600,
    });
    return jobId;
  }

  async function waitUntilAll(jobIds: bigint[], status: bigint, timeoutMs: number): Promise<void> {
    const market = connectMarket(deployment.market, chain.provider);
    const started = Date.now();
    for (;;) {
      const states = await Promise.all(jobIds.map((id) => market.jobState(id)));
      if (states.every((s) => s.status === status)) return;
      if (Date.now() - started > timeoutMs) {
        const late = jobIds.filter((_, i) => states[i].status !== status);
        throw new Error(`jobs ${late.join(", ")} did not reach status ${status}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it("every job is proved, the killed worker's claim is reassigned and slashed, and the books balance", async function () {
    const [deployer, alice, bob, carol, requesterAccount, keeperless] = chain.accounts;
    const market = connectMarket(deployment.market, chain.provider);
    const token = connectToken(deployment.token!, chain.provider);
    const everyone = [deployer, alice, bob, carol, requesterAccount, keeperless].map((a) => a.address);
    const supply = async () =>
      (await Promise.all([...everyone, deployment.market].map((a) => token.balanceOf(a)))).reduce((x, y) => x + y, 0n);
    const supplyBefore = await supply();

    // Alice claims the first job alone, and is killed while she holds it.
    const held = await post("poseidon_chain", "groth16", "e2e-held", 30n);
    const alices = await worker(alice, false);
    await alices.waitForLog((l) => l.msg === "claimed" && l.jobId === held.toString(), 60_000);
    alices.proc.kill("SIGKILL");
    await alices.exited;
    expect((await market.jobState(held)).assignee).to.equal(alice.address);

    // Bob and Carol (keepers) take the other nineteen; the bad-input round runs among them.
    await worker(bob, true);
    await worker(carol, true);
    const jobs: bigint[] = [held];
    for (const [name, system, count] of PLAN.slice(1))
      for (let i = 0; i < count; i++) jobs.push(await post(name, system, `e2e-${name}-${system}-${i}`));
    expect(jobs).to.have.length(20);

    // Bad inputs: a hash that does not match the document, and a document the circuit rejects, are posted (the
    // chain cannot tell) but never claimed; an unknown circuit is refused before anything is sent.
    // (The devnet helpers post straight to the contract, so the inputs can disagree with their hash.)
    const devnet: Devnet = {
      chain,
      deployment: {
        token: deployment.token!,
        market: deployment.market,
        circuits: exampleCircuitIds().map((c) => ({
          circuitId: BigInt(c.circuitId),
          name: c.manifest,
          system: c.system,
        })),
      },
      circuitId: exampleCircuitId,
    };
    const preimageCircuit = exampleCircuitId("poseidon_preimage", "groth16");
    const badJobs = [
      await postJob(
        devnet,
        requesterAccount,
        preimageCircuit,
        await exampleInputs("poseidon_preimage", "e2e-bad-hash"),
        {
          wrongHash: true,
        },
      ),
      await postJob(devnet, requesterAccount, preimageCircuit, {
        ...(await exampleInputs("poseidon_preimage", "e2e-unprovable")),
        preimage: ["1", "2"],
      }),
    ];
    let refusal = "";
    await requester
      .postJob({ circuitId: 99n, inputs: {}, fee: FEE, bond: BOND, provingWindow: 300n, expiresIn: 3600 })
      .catch((e: Error) => (refusal = e.message));
    expect(refusal).to.equal(`no circuit 99 is registered on market ${deployment.market}`);

    await waitUntilAll(jobs.slice(1), JOB_STATUS.Proved, 240_000);
    for (const jobId of badJobs) expect((await market.jobState(jobId)).status).to.equal(JOB_STATUS.Open);
    // Each bad job is skipped, for its reason, by a live worker: waited for, since a worker's preflight of a bad job
    // may still be running when the good jobs are proved.
    const skippedFor = (jobId: bigint, reason: RegExp) =>
      workers
        .slice(1)
        .flatMap((w) => w.logs)
        .some(
          (l) =>
            l.msg === "job skipped without a claim" &&
            String(l.jobId) === jobId.toString() &&
            reason.test(String(l.reason)),
        );
    const reasons = [/inputs hash .* does not match/, /do not satisfy the circuit/];
    for (let waited = 0; waited < 60_000 && !badJobs.every((j, i) => skippedFor(j, reasons[i])); waited += 500)
      await new Promise((r) => setTimeout(r, 500));
    expect(skippedFor(badJobs[0], reasons[0]), "the job whose inputs do not match their hash").to.equal(true);
    expect(skippedFor(badJobs[1], reasons[1]), "the job whose inputs do not satisfy the circuit").to.equal(true);

    // Past the held job's deadline: a keeper reassigns it, and Bob or Carol proves it.
    await chain.provider.send("evm_increaseTime", [31]);
    await chain.provider.send("evm_mine", []);
    await waitUntilAll([held], JOB_STATUS.Proved, 120_000);
    const heldProof = await provedBy(market, held);
    expect(heldProof.attempt).to.equal(1n);
    expect([bob.address, carol.address]).to.include(heldProof.prover);

    // Cancel the bad jobs: the requester's escrow comes back, so all the market holds is stakes and payouts.
    for (const jobId of badJobs) await requester.cancel(jobId);

    // The coordinator has every job with its history.
    const head = await chain.provider.getBlockNumber();
    await coordinator.waitForLog((l) => l.msg === "indexed range" && Number(l.to) >= head, 30_000);
    const response = await fetch(`${coordinatorUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: `{ jobs(first: 100, orderBy: postedAt) { id status attempt lockedPrice assignee events { kind prover keeper slashed } }
                  alice: prover(id: "${alice.address}") { staked locked jobsMissed slashed }
                  marketStats(id: "market") { proved cancelled slashes } }`,
      }),
    });
    const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
    expect(errors, JSON.stringify(errors)).to.equal(undefined);
    const byId = new Map<string, any>(data.jobs.map((j: { id: string }) => [j.id, j]));
    for (const jobId of jobs) {
      const job = byId.get(jobId.toString());
      expect(job.status, `job ${jobId}`).to.equal("Proved");
      const kinds = job.events.map((e: { kind: string }) => e.kind);
      expect(kinds, `job ${jobId}`).to.deep.equal(
        jobId === held ? ["Posted", "Claimed", "Reassigned", "Claimed", "Proved"] : ["Posted", "Claimed", "Proved"],
      );
    }
    const reassigned = byId.get(held.toString()).events[2];
    expect(reassigned.prover).to.equal(alice.address.toLowerCase());
    expect([bob.address.toLowerCase(), carol.address.toLowerCase()]).to.include(reassigned.keeper);
    const slashed = BigInt(reassigned.slashed);
    expect(slashed).to.equal(BOND);
    expect(data.alice).to.deep.equal({
      staked: (parseEther("50") - slashed).toString(),
      locked: "0",
      jobsMissed: 1,
      slashed: slashed.toString(),
    });
    expect(data.marketStats).to.deep.equal({ proved: 20, cancelled: 2, slashes: 1 });

    // The books, to the last unit: nothing was created or lost, and what the market holds is exactly its debts.
    expect(await supply()).to.equal(supplyBefore);
    const accounts = await Promise.all([alice, bob, carol].map((p) => market.account(p.address)));
    const withdrawable = await Promise.all(everyone.map((a) => market.withdrawable(a)));
    const owed =
      accounts.reduce((sum, a) => sum + a.staked + a.unbonding, 0n) + withdrawable.reduce((x, y) => x + y, 0n);
    expect(await token.balanceOf(deployment.market)).to.equal(owed);
    // Every fee and the slash are accounted for: the provers were paid the twenty fixed prices, one raised by the
    // reward share of the slash (GraphQL shows each as the job's locked price); the keeper, the treasury and the requester got the other shares; the requester also
    // got back the escrow of the two cancelled jobs.
    const reader = createMarketReader({ provider: chain.provider, address: deployment.market });
    const proofs = await Promise.all(
      jobs.map((id) => reader.scan(deployment.startBlock, jobTopics(id, ["JobProved"]))),
    );
    const fees = proofs.reduce((sum, [e]) => sum + (e.args.price as bigint), 0n);
    expect(jobs.map((id) => BigInt(byId.get(id.toString()).lockedPrice)).reduce((x, y) => x + y, 0n)).to.equal(fees);
    expect(fees).to.equal(20n * FEE + (slashed * DEV_MARKET_PARAMS.rewardShareBps) / 10_000n);
    expect(withdrawable.reduce((x, y) => x + y, 0n)).to.equal(22n * FEE + slashed);

    // What the provider imitation did to them, and how many claims were lost to another prover's.
    const faults = proxy.stats();
    const refused = await Promise.all(workers.slice(1).map(claimsRefused));
    console.log(
      `      through the provider imitation: ${faults.requests} requests, ${faults.rangeRefusals} getLogs ranges ` +
        `refused, ${faults.rateLimited} rate-limited, ${faults.dropped} dropped, ${faults.staleHeads} stale heads; ` +
        `claims refused: ${JSON.stringify(refused)}`,
    );
    expect(faults.rangeRefusals).to.be.greaterThan(0);
    expect(faults.rateLimited).to.be.greaterThan(0);
    expect(faults.dropped).to.be.greaterThan(0);
    expect(faults.staleHeads).to.be.greaterThan(0);
  });
});
