#!/usr/bin/env node
/**
 * proofmarket-worker: a prover operator's CLI and daemon (`--help` lists the commands and options). Usage errors
 * exit 2, failures that are not the user's input exit 1.
 */
import path from "node:path";
import { Option } from "commander";
import { formatUnits, type JsonRpcProvider } from "ethers";
import { KeyError, loadWallet } from "../../common/chain/keys.ts";
import { connectChain } from "../../common/cli/chain.ts";
import { checkAmount, createProgram, runProgram, toBaseUnits, UsageError } from "../../common/cli/program.ts";
import { addFaucetCommand } from "../../common/cli/faucet.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { FaucetRefused } from "../../common/deploy/faucet.ts";
import { createLogger } from "../../common/log.ts";
import { createBackends } from "./backends/index.ts";
import { benchCircuits } from "./bench.ts";
import {
  chainWarnings,
  CONFIG_OVERRIDES,
  configDefault,
  ConfigError,
  loadConfig,
  loadDataDir,
  type OverrideFlag,
} from "./config.ts";
import { initWorkerConfig } from "./init.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";
import { expectedProvingTime, gasPriceOf, reservationPrice } from "./pricing.ts";
import { createProverPool } from "./prover/pool.ts";
import { circuitsStatus, jobPricing, recentClaims } from "./status.ts";
import { openStore } from "./store.ts";
import { verdictSummary } from "./trust/verdicts.ts";
import { createWorker } from "./worker.ts";

let provider: JsonRpcProvider | undefined;

const program = createProgram("proofmarket-worker", "A ProofMarket prover's CLI and daemon: stake, prove, get paid.")
  .addOption(new Option("-c, --config <file>", "the worker's config file (JSON with comments)").env("PM_CONFIG"))
  .addHelpText(
    "after",
    `
The key: PM_PRIVATE_KEY, or --keystore FILE with its password in PM_KEYSTORE_PASSWORD; it is never printed.
Paths in the config file resolve against the file's folder; paths given as flags or variables against the current
directory. Flags win over variables, which win over the config file.
Start with: proofmarket-worker init --rpc-url URL --deployment ignition/deployments/devnet --circuit 1 --out worker.json`,
  );
for (const o of CONFIG_OVERRIDES) {
  const placeholder = o.kind === "number" ? "n" : o.kind === "path" ? "path" : o.flag === "market" ? "address" : "url";
  const option = new Option(`--${o.flag} <${placeholder}>`, o.help).env(o.env);
  const fallback = configDefault(o.field);
  // Shown in the help only: the config file's value wins over the schema's default (see `overrides`).
  if (fallback !== undefined) option.default(fallback, `the config's ${o.field}, else ${JSON.stringify(fallback)}`);
  program.addOption(option);
}

/** The flags typed on the command line (variables are read by loadConfig, defaults come from the schema). */
function overrides(): Partial<Record<OverrideFlag, string>> {
  const given: Partial<Record<OverrideFlag, string>> = {};
  const values = program.opts<Record<string, string>>();
  for (const o of CONFIG_OVERRIDES) {
    const key = o.flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (program.getOptionValueSource(key) === "cli") given[o.flag] = String(values[key]);
  }
  return given;
}

const configFile = () => program.opts<{ config?: string }>().config;
const load = () => loadConfig(configFile(), overrides());

/** The configured chain, the key's wallet on it, the market and its token (no circuits needed). */
async function connect() {
  const { config, circuits } = loadConfig(configFile(), overrides(), process.env, { servesCircuits: false });
  const wallet = await loadWallet(config.keystore);
  provider = await connectChain(config.rpcUrl);
  const signer = wallet.connect(provider);
  const market = connectMarket(config.marketAddress, signer);
  const token = connectToken(await market.token(), signer);
  return { config, circuits, wallet, provider, signer, market, token, decimals: Number(await token.decimals()) };
}

function port(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new UsageError(`--metrics-port: expected a port number (0 for any free port), got ${text}`);
  return Number(text);
}

program
  .command("init")
  .description("write a commented config for a market and the circuits to serve, that `run` accepts unchanged")
  .addOption(
    new Option(
      "--circuit <id[=manifest]>",
      "a circuit to serve, by on-chain id; =path/to/manifest.json if its artifactsURI is not a local path (repeatable)",
    ).argParser((value: string, previous: string[] = []) => [...previous, value]),
  )
  .option("-o, --out <file>", "where to write the config", "worker.json")
  .option("-f, --force", "overwrite an existing file", false)
  .action(async (opts: { circuit?: string[]; out: string; force: boolean }) => {
    const values = program.opts<{ rpcUrl?: string; deployment?: string; market?: string; metricsPort?: string }>();
    if (!values.rpcUrl) throw new UsageError("init: give --rpc-url URL (or PM_RPC_URL)");
    provider = await connectChain(values.rpcUrl);
    const written = await initWorkerConfig({
      provider,
      rpcUrl: values.rpcUrl,
      deployment: values.deployment === undefined ? undefined : path.resolve(values.deployment),
      marketAddress: values.market,
      circuits: opts.circuit ?? [],
      // Given (flag or PM_METRICS_PORT), it goes into the file, so that `run` needs no flag.
      metricsPort: program.getOptionValueSource("metricsPort") === "default" ? undefined : port(values.metricsPort!),
      out: opts.out,
      force: opts.force,
    });
    console.log(`wrote ${written}; check it, then: proofmarket-worker stake AMOUNT --config ${opts.out}`);
  });

program
  .command("stake")
  .description("stake tokens (approving the market first if needed)")
  .argument("<amount>", "in token units, e.g. 25.5")
  .action(async (amountText: string) => {
    checkAmount("stake", amountText);
    const { wallet, market, token, decimals } = await connect();
    const value = toBaseUnits(amountText, decimals);
    const marketAddress = await market.getAddress();
    if ((await token.allowance(wallet.address, marketAddress)) < value)
      await (await token.approve(marketAddress, value)).wait();
    await (await market.stake(value)).wait();
    console.log(
      `staked ${formatUnits(value, decimals)}; free stake now ${formatUnits(await market.freeStake(wallet.address), decimals)}`,
    );
  });

program
  .command("unstake")
  .description("start unbonding free stake (withdrawable after the unbonding delay)")
  .argument("<amount>", "in token units, e.g. 25.5")
  .action(async (amountText: string) => {
    checkAmount("unstake", amountText);
    const { wallet, market, decimals } = await connect();
    await (await market.requestUnstake(toBaseUnits(amountText, decimals))).wait();
    const acct = await market.account(wallet.address);
    console.log(
      `unbonding ${formatUnits(acct.unbonding, decimals)}, withdrawable after ${new Date(Number(acct.unbondingReadyAt) * 1000).toISOString()}`,
    );
  });

program
  .command("withdraw")
  .description("pay out earnings and refunds, and unbonded stake once ready")
  .action(async () => {
    const { wallet, provider, market, decimals } = await connect();
    const owed = await market.withdrawable(wallet.address);
    if (owed > 0n) await (await market.withdraw(wallet.address)).wait();
    const acct = await market.account(wallet.address);
    const now = (await provider.getBlock("latest"))!.timestamp;
    let unstaked = 0n;
    if (acct.unbonding > 0n && now >= Number(acct.unbondingReadyAt)) {
      await (await market.completeUnstake()).wait();
      unstaked = acct.unbonding;
    }
    console.log(
      `withdrew ${formatUnits(owed, decimals)} earnings/refunds and ${formatUnits(unstaked, decimals)} unbonded stake`,
    );
  });

program
  .command("status")
  .description(
    "stake free/locked/unbonding, claims and the prices they locked, reservation prices, earnings (JSON); " +
      "--job N: one job as the worker sees it",
  )
  .option(
    "--job <id>",
    "why the worker did or did not claim job N: its last decision, its price against the reservation, its claim",
  )
  .action(async (opts: { job?: string }) => {
    if (opts.job !== undefined) {
      if (!/^\d+$/.test(opts.job)) throw new UsageError(`--job: expected a job id (a whole number), got ${opts.job}`);
      return printJobStatus(BigInt(opts.job));
    }
    const { config, circuits, wallet, provider, market, decimals } = await connect();
    const acct = await market.account(wallet.address);
    const store = openStore(config.dataDir);
    const claims = store.claims();
    const verdicts = store.verdicts();
    const stored = store.reservations();
    const benched = new Map(circuits.map((c) => [c.circuitId, store.bench(c.circuitId, c.backend)]));
    store.close();
    const count = (s: string) => claims.filter((c) => c.status === s).length;
    const units = (v: bigint) => formatUnits(v, decimals);
    // The reservation the running worker last used; else (it has not run) what it would use now.
    const gasPrice = stored.length < circuits.length ? gasPriceOf(await provider.getFeeData()) : 0n;
    const reservationOf = (c: (typeof circuits)[number]) => {
      const last = stored.find((r) => r.circuitId === c.circuitId);
      if (last !== undefined) return { reservation: last, at: last.at, by: "the worker, when it last priced it" };
      const proving = expectedProvingTime(
        undefined,
        benched.get(c.circuitId) ?? null,
        config.policy.provingSecondsEstimate,
      );
      const reservation = reservationPrice(c.price, config.pricing, proving, gasPrice);
      return { reservation, at: Date.now(), by: "status, now (the worker has not priced it yet)" };
    };
    const status = {
      prover: wallet.address,
      staked: units(acct.staked),
      free: units(acct.staked - acct.locked),
      locked: units(acct.locked),
      unbonding: units(acct.unbonding),
      unbondingReadyAt: acct.unbonding > 0n ? new Date(Number(acct.unbondingReadyAt) * 1000).toISOString() : null,
      withdrawable: units(await market.withdrawable(wallet.address)),
      claims: {
        inFlight: count("claiming") + count("claimed") + count("submitting"),
        proved: count("proved"),
        abandoned: count("abandoned"),
        failed: count("failed"),
      },
      earned: units(claims.filter((c) => c.status === "proved").reduce((s, c) => s + (c.price ?? 0n), 0n)),
      // Each served circuit's reservation price and how it is made up, and what it earned per proving second.
      circuits: circuitsStatus(circuits, claims, reservationOf, units),
      // The newest claims, with the price each locked.
      recentClaims: recentClaims(claims, units),
      // Circuits whose verifier refused a valid proof: not served while their verifiers' code stays (see `trust`).
      circuitsOutOfService: verdicts.map(verdictSummary),
    };
    console.log(JSON.stringify(status, null, 2));
  });

/**
 * One job as the worker sees it, from its data folder (no chain, no key): the job in its book, the last claim
 * decision with its reason (pipeline/decision.ts), its price now against the reservation price the worker last used
 * for its circuit, when the price crosses it and when the worker sends its claim for that second (what it knows of
 * the chain's block timestamps), the claim it holds or held (with the price it locked), and why it
 * wrote the job off. Amounts are in token base units (no chain: no decimals). "Now" is the chain's clock as the
 * worker last estimated it (crossing.ts), else this machine's.
 */
function printJobStatus(jobId: bigint): void {
  const dataDir = loadDataDir(configFile(), overrides());
  const store = openStore(dataDir);
  try {
    const job = store.loadBook().find((j) => j.jobId === jobId) ?? null;
    const decision = store.decision(jobId);
    const claim = store.claim(jobId);
    const skipped = store.skipped(jobId);
    const offset = store.chainOffset();
    const now = Math.floor((Date.now() + (offset ?? 0)) / 1000);
    const clock =
      offset === null
        ? "this machine's (the worker has not read the chain)"
        : "the chain's, as the worker last read it";
    const reservation =
      job === null ? null : (store.reservations().find((r) => BigInt(r.circuitId) === job.circuitId) ?? null);
    if (job === null && claim === null)
      throw new UsageError(
        `job ${jobId} is not in this worker's book (${dataDir}): not posted, not read yet, or removed by a reorg`,
      );
    const text = (v: unknown) => (typeof v === "bigint" ? v.toString() : v);
    console.log(
      JSON.stringify(
        {
          jobId: jobId.toString(),
          job: job && {
            status: job.status,
            attempt: job.attempt,
            circuitId: job.circuitId,
            minFee: job.minFee,
            maxFee: job.maxFee,
            rampStart: job.rampStart,
            rampDuration: job.rampDuration,
            // Locked by the live claim, or paid; null while Open.
            price: job.price,
            bond: job.bond,
            assignee: job.assignee,
            deadline: job.deadline,
            expiresAt: job.expiresAt,
          },
          decision: decision && { ...decision, at: new Date(decision.at).toISOString() },
          pricing: job?.status === "Open" ? jobPricing(job, now, clock, reservation, store.stampOrder()) : null,
          claim: claim && {
            status: claim.status,
            attempt: claim.view.attempt,
            price: claim.price ?? null,
            provingSeconds: claim.provingSeconds ?? null,
            txHash: claim.txHash,
            error: claim.error,
          },
          skipped,
        },
        (_k, v) => text(v),
        2,
      ),
    );
  } finally {
    store.close();
  }
}

program
  .command("trust")
  .description("list the circuits kept out of service because their verifier refused a valid proof, or clear one")
  .addOption(
    new Option("--clear <circuitId>", "forget the circuit's verdict: the next start checks it and serves it again"),
  )
  .addHelpText(
    "after",
    `
When the market refuses a proof that verifies against the circuit's verification key (InvalidProof, InvalidBatchProof,
VerifierCodeChanged, or a revert without a reason while the claim is live), the worker abandons the claim for the
smaller slash and records a verdict in its data folder with the code the circuit's verifiers had then. Every later
start refuses the circuit while that code stays; once it changes, the verdict is dropped and the circuit checked
again. Clear a verdict only once you know why the proof was refused. Reads the data folder only (no chain, no key).`,
  )
  .action((opts: { clear?: string }) => {
    if (opts.clear !== undefined && !/^\d+$/.test(opts.clear))
      throw new UsageError(`--clear: expected a circuit id, got ${opts.clear}`);
    const dataDir = loadDataDir(configFile(), overrides());
    const store = openStore(dataDir);
    try {
      if (opts.clear === undefined) {
        console.log(JSON.stringify(store.verdicts().map(verdictSummary), null, 2));
        return;
      }
      if (!store.clearVerdict(Number(opts.clear)))
        throw new UsageError(`no verdict is stored for circuit ${opts.clear} in ${dataDir}`);
      console.log(
        `cleared the verdict on circuit ${opts.clear}: the worker's next start checks it and serves it again`,
      );
    } finally {
      store.close();
    }
  });

program
  .command("bench")
  .description("time each served circuit's backend on this machine; the policy uses the figures (no chain, no key)")
  .action(async () => {
    const { config, circuits } = load();
    const pool = createProverPool(config.slots);
    const store = openStore(config.dataDir);
    try {
      for (const r of await benchCircuits(circuits, createBackends(config, pool), pool, store)) {
        console.log(
          `circuit ${r.circuitId} (${r.circuit}) with ${r.backend}: ${r.secondsPerProof.toFixed(3)} s per proof (median of ${r.runs}, keys warm)`,
        );
      }
    } finally {
      store.close();
      await pool.close();
    }
  });

program
  .command("run")
  .description("the daemon: discover, preflight, claim, prove, submit (SIGTERM: settle held claims, then exit)")
  .action(async () => {
    const { config, circuits, warnings } = load();
    const wallet = await loadWallet(config.keystore);
    // Fail fast on a wrong URL; the worker keeps its own providers.
    const chain = await connectChain(config.rpcUrl);
    const { chainId } = await chain.getNetwork();
    chain.destroy();
    const logger = createLogger({ component: "prover-worker" });
    for (const warning of [...warnings, ...chainWarnings(config, circuits, chainId)])
      logger.warn("config", { warning });
    const metrics = createMetrics();
    const worker = createWorker({ config, circuits, wallet, logger, metrics });
    // Before anything is announced: a SIGTERM that comes right after "listening" must find the handler in place.
    const shutdown = () => void worker.stop();
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
    const server = await serveMetrics(metrics, config.metrics.host, config.metrics.port, worker.health).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      throw new UsageError(
        `port ${config.metrics.port} (metrics and health) is in use, by another worker perhaps: set metrics.port in ` +
          "the config, or --metrics-port N (PM_METRICS_PORT; 0: any free port)",
      );
    });
    logger.info("metrics and health listening", {
      url: `http://${config.metrics.host}:${(server.address() as { port: number }).port}`,
    });
    await worker.start();
    await worker.done;
    server.close();
    logger.info("worker stopped");
  });

addFaucetCommand(program, async () => {
  const { config, signer } = await connect();
  return { signer, marketAddress: config.marketAddress };
});

await runProgram(program, process.argv.slice(2), {
  userErrors: [ConfigError, KeyError, FaucetRefused],
  provider: () => provider,
});
