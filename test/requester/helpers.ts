/**
 * The requester CLI as the tests run it: spawned as a user would, with the environment that points it at a devnet.
 */
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import type { Devnet } from "../helpers/market.ts";
import { runProcess } from "../helpers/runProcess.ts";

export const REQUESTER_CLI = path.join(REPO_ROOT, "requester", "cli.ts");

/** Runs `proofmarket-requester ARGS` with `env` added to this process's environment. */
export const runRequester = (args: string[], env: Record<string, string> = {}) =>
  runProcess(process.execPath, [REQUESTER_CLI, ...args], { env });

/** The environment that makes the CLI act on the devnet's market as its requester (account 2). */
export function requesterEnv(devnet: Devnet): Record<string, string> {
  return {
    PM_RPC_URL: devnet.chain.url,
    PM_MARKET_ADDRESS: devnet.deployment.market,
    // The devnet's market is deployed on a fresh chain: its events start at block 0 or later.
    PM_START_BLOCK: "0",
    PM_PRIVATE_KEY: devnet.chain.accounts[2].privateKey,
  };
}
