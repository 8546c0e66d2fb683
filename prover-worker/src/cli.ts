/**
 * prover-worker: an operator's CLI and daemon.
 *
 *   prover-worker stake <amount>       stake tokens (decimal amount in token units, e.g. 25.5)
 *   prover-worker unstake <amount>     start unbonding free stake (withdrawable after the unbonding delay)
 *   prover-worker withdraw             pay out earnings and refunds, and unbonded stake once ready
 *   prover-worker status               stake free/locked/unbonding, claims in flight, earnings
 *   prover-worker bench                time each served circuit's backend; the policy uses the figures
 *   prover-worker run                  the daemon: discover, preflight, claim, prove, submit
 *
 * Options: --config FILE, --rpc-url URL, --market ADDRESS, --slots N, --data-dir DIR, --metrics-port N.
 * The key comes from PM_PRIVATE_KEY, or the config's `keystore` with PM_KEYSTORE_PASSWORD; it is never printed.
 */
import { parseArgs } from "node:util";
import { formatUnits, parseUnits } from "ethers";
import { createProvider } from "../../common/chain/provider.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { KeyError, loadWallet } from "../../common/chain/keys.ts";
import { createLogger } from "../../common/log.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";
import { openStore } from "./store.ts";
import { createWorker } from "./worker.ts";
import { createBackends } from "./backends/index.ts";
import { benchCircuits } from "./bench.ts";
import { createProverPool } from "./prover/pool.ts";

const USAGE =
  "usage: prover-worker <stake AMOUNT | unstake AMOUNT | withdraw | status | run> [--config FILE] [--rpc-url URL] [--market ADDRESS] [--slots N] [--data-dir DIR] [--metrics-port N]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      "rpc-url": { type: "string" },
      market: { type: "string" },
      slots: { type: "string" },
      "data-dir": { type: "string" },
      "metrics-port": { type: "string" },
    },
  });
  const [command, arg] = positionals;
  if (command === undefined) {
    console.error(USAGE);
    return 2;
  }
  const overrides: Record<string, unknown> = {};
  if (values["rpc-url"]) overrides.rpcUrl = values["rpc-url"];
  if (values.market) overrides.marketAddress = values.market;
  if (values.slots) overrides.slots = Number(values.slots);
  if (values["data-dir"]) overrides.dataDir = values["data-dir"];
  if (values["metrics-port"]) overrides["metrics.port"] = Number(values["metrics-port"]);
  const { config, circuits } = loadConfig(values.config, overrides);
  if (command === "bench") {
    // Needs no chain and no key: it measures this machine.
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
    return 0;
  }
  const wallet = await loadWallet(config.keystore);
  const provider = createProvider(config.rpcUrl);
  const signer = wallet.connect(provider);
  const market = connectMarket(config.marketAddress, signer);
  const token = connectToken(await market.token(), signer);
  const decimals = Number(await token.decimals());
  const amount = () => {
    if (arg === undefined || !/^\d+(\.\d+)?$/.test(arg))
      throw new ConfigError(`${command} needs a decimal token amount, e.g. \`${command} 25\``);
    return parseUnits(arg, decimals);
  };

  switch (command) {
    case "stake": {
      const value = amount();
      const allowance = await token.allowance(wallet.address, await market.getAddress());
      if (allowance < value) await (await token.approve(await market.getAddress(), value)).wait();
      await (await market.stake(value)).wait();
      console.log(
        `staked ${formatUnits(value, decimals)}; free stake now ${formatUnits(await market.freeStake(wallet.address), decimals)}`,
      );
      break;
    }
    case "unstake": {
      const value = amount();
      await (await market.requestUnstake(value)).wait();
      const acct = await market.account(wallet.address);
      console.log(
        `unbonding ${formatUnits(acct.unbonding, decimals)}, withdrawable after ${new Date(Number(acct.unbondingReadyAt) * 1000).toISOString()}`,
      );
      break;
    }
    case "withdraw": {
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
      break;
    }
    case "status": {
      const acct = await market.account(wallet.address);
      const store = openStore(config.dataDir);
      const claims = store.claims();
      store.close();
      const count = (s: string) => claims.filter((c) => c.status === s).length;
      console.log(
        JSON.stringify(
          {
            prover: wallet.address,
            staked: formatUnits(acct.staked, decimals),
            free: formatUnits(acct.staked - acct.locked, decimals),
            locked: formatUnits(acct.locked, decimals),
            unbonding: formatUnits(acct.unbonding, decimals),
            unbondingReadyAt: acct.unbonding > 0n ? new Date(Number(acct.unbondingReadyAt) * 1000).toISOString() : null,
            withdrawable: formatUnits(await market.withdrawable(wallet.address), decimals),
            claims: {
              inFlight: count("claiming") + count("claimed") + count("submitting"),
              proved: count("proved"),
              abandoned: count("abandoned"),
              failed: count("failed"),
            },
            earned: formatUnits(
              claims.filter((c) => c.status === "proved").reduce((s, c) => s + c.view.terms.fee, 0n),
              decimals,
            ),
          },
          null,
          2,
        ),
      );
      break;
    }
    case "run": {
      const logger = createLogger({ component: "prover-worker" });
      const metrics = createMetrics();
      const worker = createWorker({ config, circuits, wallet, logger, metrics });
      const server = await serveMetrics(metrics, config.metrics.host, config.metrics.port, worker.health);
      logger.info("metrics and health listening", {
        url: `http://${config.metrics.host}:${(server.address() as { port: number }).port}`,
      });
      const shutdown = () => void worker.stop();
      process.once("SIGTERM", shutdown);
      process.once("SIGINT", shutdown);
      await worker.start();
      await worker.done;
      server.close();
      logger.info("worker stopped");
      break;
    }
    default:
      console.error(`unknown command ${command}\n${USAGE}`);
      return 2;
  }
  provider.destroy();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    const usage = e instanceof ConfigError || e instanceof KeyError;
    console.error(usage ? e.message : `error: ${e.message}`);
    process.exit(usage ? 2 : 1);
  },
);
