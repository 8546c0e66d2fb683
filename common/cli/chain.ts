/**
 * The CLIs' connection to the chain. Ethers retries an unreachable node forever (printing "failed to detect
 * network"), so a CLI asks the node for its chain id, with a timeout, and stops with one line when nobody answers;
 * a dropped connection or a busy answer (as a rate-limited provider gives now and then) is asked again a few times.
 */
import path from "node:path";
import { FetchRequest, type JsonRpcProvider } from "ethers";
import { createProvider } from "../chain/provider.ts";
import { readIgnitionDeployment } from "../deploy/ignitionDeployment.ts";
import { UsageError } from "./program.ts";

/** Nothing answers JSON-RPC at the URL: the message says what to check. */
export class ChainUnreachable extends Error {
  constructor(url: string) {
    super(`cannot reach the chain at ${url}: is the node running? set --rpc-url or PM_RPC_URL`);
    this.name = "ChainUnreachable";
  }
}

const PROBE_TIMEOUT_MS = 10_000;
/** A provider that drops a connection or answers 429/5xx now and then gets this many tries, a little apart. */
const PROBE_TRIES = 4;

/** Whether a failed probe says nothing listens there (or nothing answers in time): no point asking again. */
const final = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "TIMEOUT" || code === "ERR_INVALID_URL";
};

export async function connectChain(url: string): Promise<JsonRpcProvider> {
  for (let attempt = 1; ; attempt++) {
    const probe = new FetchRequest(url);
    probe.timeout = PROBE_TIMEOUT_MS;
    probe.setHeader("content-type", "application/json");
    probe.body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] });
    try {
      const response = await probe.send();
      response.assertOk();
      if (typeof response.bodyJson?.result !== "string") throw new Error("not a JSON-RPC answer");
      return createProvider(url);
    } catch (e) {
      if (final(e) || attempt === PROBE_TRIES) throw new ChainUnreachable(url);
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/**
 * The market a command acts on: --market (PM_MARKET_ADDRESS) if given, as in the worker's config, else the one an
 * Ignition deployment folder (--deployment, PM_DEPLOYMENT; relative to the current directory) records.
 */
export function marketAddressOf(o: { market?: string; deployment?: string }): string {
  return marketOf(o).address;
}

/**
 * The market and its deployment block (where reading its events starts): --start-block (PM_START_BLOCK) if given,
 * else the deployment folder's record when the market came from one; undefined with --market alone.
 */
export function marketOf({
  market,
  deployment,
  startBlock,
}: {
  market?: string;
  deployment?: string;
  startBlock?: string;
}): { address: string; startBlock?: number } {
  let marketAddress = market;
  let deployedAt: number | undefined;
  if (marketAddress === undefined && deployment !== undefined) {
    try {
      const read = readIgnitionDeployment(path.resolve(deployment));
      marketAddress = read.market;
      deployedAt = read.startBlock;
    } catch (e) {
      throw new UsageError(`--deployment: ${(e as Error).message}`);
    }
  }
  if (marketAddress === undefined || !/^0x[0-9a-fA-F]{40}$/.test(marketAddress))
    throw new UsageError(
      "no market: give --market ADDRESS (or PM_MARKET_ADDRESS) or --deployment FOLDER (or PM_DEPLOYMENT)",
    );
  if (startBlock !== undefined && !/^\d+$/.test(startBlock))
    throw new UsageError(`--start-block: expected a block number (a whole number), got ${startBlock}`);
  return { address: marketAddress, startBlock: startBlock !== undefined ? Number(startBlock) : deployedAt };
}
