/**
 * `npm start`: ProofMarket on one machine. Starts a local chain (hardhat node, 127.0.0.1:8545), deploys the
 * market with the Devnet Ignition module (test token, market, example circuits), starts the coordinator on SQLite
 * (127.0.0.1:8080) and one staked worker (with the keeper role), posts a few demo jobs through the requester
 * client, and prints where GraphiQL is with a ready-made query. Ctrl-C stops everything (the worker settles what
 * it holds first). State and logs go to .devnet/ and start fresh each time.
 *
 *   PM_DEVNET_CHAIN_PORT (8545), PM_DEVNET_COORDINATOR_PORT (8080), PM_DEVNET_METRICS_PORT (9464), PM_DEVNET_JOBS (3),
 *   PM_DEVNET_DIR (.devnet), PM_DEVNET_DEPLOYMENT (the Ignition deployment id, devnet)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Contract, parseEther, type Wallet } from "ethers";
import { startLocalChain } from "../common/chain/localNode.ts";
import { REPO_ROOT } from "../common/circuits/catalog.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { exampleCircuitId, exampleCircuitIds } from "../common/deploy/circuitRegistration.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../common/deploy/ignitionDeploy.ts";
import { COORDINATOR_NODE_FLAGS } from "../coordinator/runtime.ts";
import { createRequester } from "../requester/client.ts";

const DIR = path.resolve(process.env.PM_DEVNET_DIR ?? path.join(REPO_ROOT, ".devnet"));
const CHAIN_PORT = Number(process.env.PM_DEVNET_CHAIN_PORT ?? 8545);
const COORDINATOR_PORT = Number(process.env.PM_DEVNET_COORDINATOR_PORT ?? 8080);
const METRICS_PORT = Number(process.env.PM_DEVNET_METRICS_PORT ?? 9464);
const DEMO_JOBS = Number(process.env.PM_DEVNET_JOBS ?? 3);
const DEPLOYMENT_ID = process.env.PM_DEVNET_DEPLOYMENT ?? "devnet";

const say = (line: string) => console.log(`[devnet] ${line}`);
const children: ChildProcess[] = [];

/** A component in its own process, its output in .devnet/<name>.log. */
function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const log = openSync(path.join(DIR, `${name}.log`), "w");
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", log, log],
  });
  children.push(child);
  child.once("exit", (code, signal) => {
    if (!stopping) say(`${name} stopped (${signal ?? code}); see .devnet/${name}.log`);
  });
  return child;
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await ready().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let stopping = false;
rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
rmSync(ignitionDeploymentDir(DEPLOYMENT_ID), { recursive: true, force: true });

say(`starting a local chain on 127.0.0.1:${CHAIN_PORT}`);
const chain = await startLocalChain(CHAIN_PORT);
const stopAll = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  say("stopping: the worker settles its claims, then everything exits");
  // The worker first (it may still submit), then the coordinator, then the chain.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null) continue;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  await chain.stop();
  process.exit(code);
};
process.once("SIGINT", () => stopAll());
process.once("SIGTERM", () => stopAll());

try {
  const [deployer, operator, requesterAccount] = chain.accounts;
  say("deploying with Ignition (ignition/modules/Devnet.ts): test token, market, example circuits");
  const deployment = await deployWithIgnition({
    rpcUrl: chain.url,
    deployerKey: deployer.privateKey,
    module: "Devnet",
    deploymentId: DEPLOYMENT_ID,
  });
  const mintable = new Contract(deployment.token!, ["function mint(address,uint256)"], deployer);
  for (const who of [operator, requesterAccount]) await (await mintable.mint(who.address, parseEther("1000"))).wait();

  const coordinatorUrl = `http://127.0.0.1:${COORDINATOR_PORT}`;
  start("coordinator", [...COORDINATOR_NODE_FLAGS, path.join(REPO_ROOT, "coordinator", "main.ts")], {
    DATABASE_URL: `file:${path.join(DIR, "coordinator.db")}`,
    RPC_URL: chain.url,
    DEPLOYMENT: deployment.dir,
    CONFIRMATIONS: "0",
    POLL_MS: "250",
    PORT: String(COORDINATOR_PORT),
  });
  await waitFor("the coordinator", async () => {
    const health = (await (await fetch(`${coordinatorUrl}/health`)).json()) as { indexedBlock: number | null };
    return (health.indexedBlock ?? -1) >= deployment.startBlock;
  });
  say(`coordinator on ${coordinatorUrl} (SQLite .devnet/coordinator.db)`);

  const workerConfig = path.join(DIR, "worker.json");
  writeFileSync(
    workerConfig,
    JSON.stringify(
      {
        rpcUrl: chain.url,
        wsUrl: chain.url.replace(/^http/, "ws"),
        deployment: deployment.dir,
        circuits: exampleCircuitIds().filter((c) => c.system === "groth16"),
        slots: 2,
        keeper: { enabled: true },
        metrics: { port: METRICS_PORT },
        dataDir: path.join(DIR, "worker"),
      },
      null,
      2,
    ),
  );
  const cli = path.join(REPO_ROOT, "prover-worker", "src", "cli.ts");
  const workerEnv = { PM_PRIVATE_KEY: operator.privateKey };
  const staked = start("worker-stake", [cli, "stake", "100", "--config", workerConfig], workerEnv);
  const stakeCode = await new Promise((r) => staked.once("exit", r));
  if (stakeCode !== 0) throw new Error("staking the worker failed; see .devnet/worker-stake.log");
  start("worker", [cli, "run", "--config", workerConfig], workerEnv);
  say(`worker ${operator.address} staked 100 PMT; metrics on http://127.0.0.1:${METRICS_PORT}/metrics`);

  const requester = createRequester({
    provider: chain.provider,
    wallet: requesterAccount as Wallet,
    marketAddress: deployment.market,
    coordinatorUrl,
  });
  const demo = ["poseidon_preimage", "merkle_membership", "eddsa_signature"] as const;
  for (let i = 0; i < DEMO_JOBS; i++) {
    const name = demo[i % demo.length];
    const { jobId } = await requester.postJob({
      circuitId: exampleCircuitId(name, "groth16"),
      inputs: await exampleInputs(name, `demo-${i}`),
      fee: parseEther("3"),
      bond: parseEther("2"),
      provingWindow: 300n,
      expiresIn: 3600,
    });
    say(`posted job ${jobId} (${name}/groth16)`);
  }

  say("ready.");
  console.log(`
  GraphiQL:   ${coordinatorUrl}/graphql
  Try:        { jobs(first: 10) { nodes { id status fee assignee circuit { name } events { kind prover blockNumber } } }
                marketStats(id: "market") { open claimed proved feesPaid } }
  Chain:      ${chain.url}   market ${deployment.market}   token ${deployment.token}
  Requester:  PM_RPC_URL=${chain.url} PM_DEPLOYMENT=${deployment.dir} PM_COORDINATOR_URL=${coordinatorUrl} \\
              PM_PRIVATE_KEY=<a dev account key> node requester/cli.ts status 1
  Logs:       .devnet/*.log          Ctrl-C stops everything.
`);
} catch (e) {
  console.error(`[devnet] ${(e as Error).message}`);
  await stopAll(1);
}
