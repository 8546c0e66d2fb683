/**
 * `npm start`: ProofMarket on one machine. Starts a local chain (hardhat node, 127.0.0.1:8545), deploys the
 * market with the Devnet Ignition module (test token, market, example circuits), starts the coordinator on SQLite
 * (127.0.0.1:8080) and one staked worker (with the keeper role), posts a few demo jobs through the requester
 * client (each priced by a ramp from 1 to 3 PMT over 120 s), and prints where GraphiQL is with a ready-made query.
 * Ctrl-C stops everything (the worker settles what it holds first). State and logs go to .devnet/ and start fresh
 * each time; .devnet/pids.json names each component's process. When a component dies, it says which, how, and
 * where its log is.
 *
 *   PM_DEVNET_CHAIN_PORT (8545), PM_DEVNET_COORDINATOR_PORT (8080), PM_DEVNET_METRICS_PORT (9464), PM_DEVNET_JOBS (3),
 *   PM_DEVNET_DIR (.devnet), PM_DEVNET_DEPLOYMENT (the Ignition deployment id, devnet)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther, type Wallet } from "ethers";
import { DEV_MNEMONIC, isPortFree, type LocalChain, startLocalChain } from "../dev/localNode.ts";
import { REPO_ROOT } from "../common/circuits/catalog.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { exampleCircuitId, exampleCircuitIds } from "../common/deploy/circuitRegistration.ts";
import { mintTestTokens } from "../common/deploy/faucet.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../common/deploy/ignitionDeploy.ts";
import { EXAMPLE_QUERY } from "../coordinator/graphql/exampleQuery.ts";
import { COORDINATOR_NODE_FLAGS } from "../coordinator/runtime.ts";
import { createRequester } from "../requester/client.ts";
import { LABELS, PIDS_FILE, POSTED_PREFIX, READY_LINE } from "./devnetBanner.ts";

const DIR = path.resolve(process.env.PM_DEVNET_DIR ?? path.join(REPO_ROOT, ".devnet"));
const CHAIN_PORT = Number(process.env.PM_DEVNET_CHAIN_PORT ?? 8545);
const COORDINATOR_PORT = Number(process.env.PM_DEVNET_COORDINATOR_PORT ?? 8080);
const METRICS_PORT = Number(process.env.PM_DEVNET_METRICS_PORT ?? 9464);
const DEMO_JOBS = Number(process.env.PM_DEVNET_JOBS ?? 3);
const DEPLOYMENT_ID = process.env.PM_DEVNET_DEPLOYMENT ?? "devnet";

const say = (line: string) => console.log(`[devnet] ${line}`);
/** A path as the user can use it from where they ran `npm start`. */
const shown = (file: string) =>
  path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file);

/** The long-running processes, in start order (stopped in reverse). */
const components: { name: string; process: ChildProcess; log: string }[] = [];
let stopping = false;

/** Keeps .devnet/pids.json current and says when a component dies, naming it, how, and where its log is. */
function track(name: string, child: ChildProcess, log: string): void {
  components.push({ name, process: child, log });
  const pids = Object.fromEntries([["start", process.pid], ...components.map((c) => [c.name, c.process.pid])]);
  writeFileSync(path.join(DIR, PIDS_FILE), JSON.stringify(pids, null, 2));
  child.once("exit", (code, signal) => {
    if (stopping) return;
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    say(`${name} (pid ${child.pid}) died, ${how}; its log: ${shown(log)}. Ctrl-C stops the rest.`);
  });
}

/** Runs a component's program in its own process, its output in .devnet/<name>.log. */
function spawnLogged(name: string, args: string[], env: Record<string, string>): { child: ChildProcess; log: string } {
  const log = path.join(DIR, `${name}.log`);
  const fd = openSync(log, "w");
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
  });
  return { child, log };
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Waits for a component to be ready; gives up at once if its process exits. */
async function waitFor(what: string, child: ChildProcess, log: string, ready: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await ready().catch(() => false))) {
    if (hasExited(child))
      throw new Error(`${what} exited (${child.signalCode ?? `exit code ${child.exitCode}`}); see ${shown(log)}`);
    if (Date.now() - started > 60_000) throw new Error(`${what} did not come up within 60 s; see ${shown(log)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
/** How long a component may take to stop after SIGTERM before it is killed: the worker may be finishing a proof. */
const STOP_GRACE_MS: Record<string, number> = { worker: 120_000 };
const DEFAULT_STOP_GRACE_MS = 15_000;

let chain: LocalChain | undefined;
async function stopAll(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  say("stopping: the worker settles its claims, then everything exits (Ctrl-C again to kill them now)");
  // The worker first (it may still submit), then the coordinator, then the chain.
  for (const { name, process: child } of [...components].reverse()) {
    if (hasExited(child)) continue;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const grace = STOP_GRACE_MS[name] ?? DEFAULT_STOP_GRACE_MS;
    const killer = setTimeout(() => {
      say(`${name} did not stop within ${grace / 1000} s; killing it`);
      child.kill("SIGKILL");
    }, grace);
    await exited;
    clearTimeout(killer);
  }
  await chain?.stop();
  process.exit(code);
}

/** A second Ctrl-C kills what is left at once; the components would outlive `npm start` if it just exited. */
function killAllNow(): never {
  say("killing every component now");
  for (const { process: child } of components) if (!hasExited(child)) child.kill("SIGKILL");
  process.exit(130);
}

// npm forwards the terminal's Ctrl-C, so one press arrives twice at once: only a signal a second or more after the
// first one means "now".
let firstSignalAt: number | undefined;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      void stopAll();
    } else if (Date.now() - firstSignalAt >= 1_000) killAllNow();
  });
}

// Every port is checked before anything starts: a devnet already running would otherwise half-answer for this one.
for (const [port, variable] of [
  [CHAIN_PORT, "PM_DEVNET_CHAIN_PORT"],
  [COORDINATOR_PORT, "PM_DEVNET_COORDINATOR_PORT"],
  [METRICS_PORT, "PM_DEVNET_METRICS_PORT"],
] as const) {
  if (port !== 0 && !(await isPortFree(port))) {
    console.error(`[devnet] port ${port} is in use (is another npm start running?): stop it, or set ${variable}`);
    process.exit(1);
  }
}

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
rmSync(ignitionDeploymentDir(DEPLOYMENT_ID), { recursive: true, force: true });

try {
  say(`starting a local chain on 127.0.0.1:${CHAIN_PORT}`);
  chain = await startLocalChain(CHAIN_PORT, { ownProcessGroup: true });
  const chainLog = path.join(DIR, "chain.log");
  const chainLogStream = createWriteStream(chainLog);
  chain.process.stdout!.pipe(chainLogStream);
  chain.process.stderr!.pipe(chainLogStream);
  track("chain", chain.process, chainLog);

  const [deployer, operator, requesterAccount, spare] = chain.accounts;
  say("deploying with Ignition (ignition/modules/Devnet.ts): test token, market, example circuits");
  const deployment = await deployWithIgnition({
    rpcUrl: chain.url,
    deployerKey: deployer.privateKey,
    module: "Devnet",
    deploymentId: DEPLOYMENT_ID,
  });
  // The same faucet the CLIs offer (it checks that the token is the test token).
  for (const who of [operator, requesterAccount])
    await mintTestTokens(deployer, deployment.market, who.address, parseEther("1000"));

  const coordinatorUrl = `http://127.0.0.1:${COORDINATOR_PORT}`;
  const coordinator = spawnLogged(
    "coordinator",
    [...COORDINATOR_NODE_FLAGS, path.join(REPO_ROOT, "coordinator", "main.ts")],
    {
      DATABASE_URL: `file:${path.join(DIR, "coordinator.db")}`,
      RPC_URL: chain.url,
      DEPLOYMENT: deployment.dir,
      CONFIRMATIONS: "0",
      POLL_MS: "250",
      PORT: String(COORDINATOR_PORT),
    },
  );
  track("coordinator", coordinator.child, coordinator.log);
  await waitFor("the coordinator", coordinator.child, coordinator.log, async () => {
    const health = (await (await fetch(`${coordinatorUrl}/health`)).json()) as { indexedBlock: number | null };
    return (health.indexedBlock ?? -1) >= deployment.startBlock;
  });
  say(`coordinator on ${coordinatorUrl} (SQLite ${shown(path.join(DIR, "coordinator.db"))})`);

  const workerConfig = path.join(DIR, "worker.json");
  writeFileSync(
    workerConfig,
    JSON.stringify(
      {
        rpcUrl: chain.url,
        wsUrl: chain.url.replace(/^http/, "ws"),
        deployment: deployment.dir,
        // A reservation price of 1.5 PMT per job: the demo jobs' prices rise from 1 to 3 PMT over two minutes, and
        // the worker claims each half a minute in, at its own price (gas left out on a devnet: tokensPerEth 0).
        circuits: exampleCircuitIds()
          .filter((c) => c.system === "groth16")
          .map((c) => ({ ...c, price: { floor: parseEther("1.5").toString() } })),
        pricing: { tokensPerEth: "0" },
        slots: 2,
        keeper: { enabled: true },
        // The devnet's coordinator serves the demo jobs' inputs from 127.0.0.1, which a worker refuses by default
        // (a job's poster chooses the inputs URI).
        inputsFetch: { allowLoopback: true },
        metrics: { port: METRICS_PORT },
        dataDir: path.join(DIR, "worker"),
      },
      null,
      2,
    ),
  );
  const cli = path.join(REPO_ROOT, "prover-worker", "src", "cli.ts");
  const workerEnv = { PM_PRIVATE_KEY: operator.privateKey };
  const stake = spawnLogged("worker-stake", [cli, "stake", "100", "--config", workerConfig], workerEnv);
  const stakeCode = await new Promise((r) => stake.child.once("exit", r));
  if (stakeCode !== 0) throw new Error(`staking the worker failed; see ${shown(stake.log)}`);
  const worker = spawnLogged("worker", [cli, "run", "--config", workerConfig], workerEnv);
  track("worker", worker.child, worker.log);
  say(`worker ${operator.address} staked 100 PMT; metrics on http://127.0.0.1:${METRICS_PORT}/metrics`);

  const requester = createRequester({
    provider: chain.provider,
    wallet: requesterAccount as Wallet,
    marketAddress: deployment.market,
    startBlock: deployment.startBlock,
    coordinatorUrl,
  });
  const demo = ["poseidon_preimage", "merkle_membership", "eddsa_signature"] as const;
  for (let i = 0; i < DEMO_JOBS; i++) {
    const name = demo[i % demo.length];
    const { jobId } = await requester.postJob({
      circuitId: exampleCircuitId(name, "groth16"),
      inputs: await exampleInputs(name, `demo-${i}`),
      // A ramp, so the worker's log shows it pricing: it claims when the price reaches its own.
      minFee: parseEther("1"),
      maxFee: parseEther("3"),
      rampDuration: 120n,
      bond: parseEther("2"),
      provingWindow: 300n,
      expiresIn: 3600,
    });
    console.log(`${POSTED_PREFIX}${jobId} (${name}/groth16)`);
  }

  const ROLES = ["deployer and market owner", "the devnet's worker (operator)", "the demo requester"];
  const account = (i: number, wallet: Wallet, role: string) =>
    `    #${i}  ${wallet.address}  ${wallet.privateKey}  ${role}`;
  console.log(READY_LINE);
  console.log(`
  ${LABELS.graphiql.padEnd(11)} ${coordinatorUrl}/graphql
  ${LABELS.query.padEnd(11)} ${EXAMPLE_QUERY.replace(/\n\s*/g, "\n              ")}
  ${LABELS.chain.padEnd(11)} ${chain.url}   market ${deployment.market}   token ${deployment.token}
  Accounts:   hardhat node's funded development accounts. Their keys are PUBLIC: use them on this devnet only.
${chain.accounts.map((wallet, i) => account(i, wallet, ROLES[i] ?? "free: a second operator or requester")).join("\n")}
    Each has 10000 ETH; #1 and #2 were given 1000 PMT, the others take test tokens from the faucet.
    (mnemonic "${DEV_MNEMONIC}", paths m/44'/60'/0'/0/N)
  Try, in another shell:
    export PM_RPC_URL=${chain.url} PM_DEPLOYMENT=${shown(deployment.dir)} PM_COORDINATOR_URL=${coordinatorUrl}
    PM_PRIVATE_KEY=${requesterAccount.privateKey} npx proofmarket-requester status 1
    PM_PRIVATE_KEY=${spare.privateKey} npx proofmarket-requester faucet 100   # test tokens for #3
  Logs:       ${shown(DIR)}/*.log    pids: ${shown(path.join(DIR, PIDS_FILE))}    Ctrl-C stops everything.
`);
} catch (e) {
  console.error(`[devnet] ${(e as Error).message}`);
  await stopAll(1);
}
