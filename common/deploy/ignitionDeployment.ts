/**
 * Reads a ProofMarket deployment from Ignition's output folder (ignition/deployments/<id>): the market's and
 * token's addresses from deployed_addresses.json, and the market's deployment block (where indexers start) from
 * the confirmed receipt in journal.jsonl. The worker, the coordinator, the requester CLI and the subgraph's
 * networks.json all take addresses from here, never from a copy.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface IgnitionDeployment {
  dir: string;
  chainId: number;
  market: string;
  /** The test token, when the deployment made one (Devnet module); otherwise read `token()` from the market. */
  token: string | null;
  /** The block the market was deployed in. */
  startBlock: number;
  /** Every future id -> address, as Ignition wrote them. */
  addresses: Record<string, string>;
}

export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentError";
  }
}

function byContract(addresses: Record<string, string>, contract: string): [string, string] | undefined {
  return Object.entries(addresses).find(([id]) => id.endsWith(`#${contract}`));
}

export function readIgnitionDeployment(dir: string): IgnitionDeployment {
  const addressesFile = path.join(dir, "deployed_addresses.json");
  const journalFile = path.join(dir, "journal.jsonl");
  if (!existsSync(addressesFile))
    throw new DeploymentError(`${dir} is not a finished Ignition deployment: ${addressesFile} is missing`);
  const addresses = JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>;
  const market = byContract(addresses, "ProofMarket");
  if (market === undefined) throw new DeploymentError(`${addressesFile} has no ProofMarket contract`);
  let chainId = NaN;
  let startBlock = NaN;
  for (const line of readFileSync(journalFile, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const entry = JSON.parse(line) as {
      type: string;
      chainId?: number;
      futureId?: string;
      receipt?: { blockNumber: number };
    };
    if (entry.type === "DEPLOYMENT_INITIALIZE" && entry.chainId !== undefined) chainId = entry.chainId;
    if (entry.type === "TRANSACTION_CONFIRM" && entry.futureId === market[0] && entry.receipt)
      startBlock = entry.receipt.blockNumber;
  }
  if (Number.isNaN(startBlock)) throw new DeploymentError(`${journalFile} has no confirmed deployment of ${market[0]}`);
  return {
    dir,
    chainId,
    market: market[1],
    token: byContract(addresses, "TestToken")?.[1] ?? null,
    startBlock,
    addresses,
  };
}
