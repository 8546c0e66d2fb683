/**
 * Fills subgraph/networks.json (what `graph build --network <name>` writes into subgraph.yaml) from an Ignition
 * deployment: the market's address and deployment block, never typed by hand.
 *
 *   npm run subgraph:networks -- <network> <ignition deployment folder> [networks.json]
 *   npm run subgraph:networks -- sepolia ignition/deployments/chain-11155111
 *
 * <network> is The Graph's name for the chain (localhost for a local node, sepolia, mainnet, ...). Other networks
 * already in the file are kept.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readIgnitionDeployment } from "../../common/deploy/ignitionDeployment.ts";
import { SUBGRAPH_DIR } from "./manifest.ts";

export type Networks = Record<string, { ProofMarket: { address: string; startBlock: number } }>;

export function writeNetworks(network: string, deploymentDir: string, file: string): Networks {
  const deployment = readIgnitionDeployment(deploymentDir);
  const networks: Networks = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  networks[network] = { ProofMarket: { address: deployment.market, startBlock: deployment.startBlock } };
  writeFileSync(file, JSON.stringify(networks, null, 2) + "\n");
  return networks;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [network, deploymentDir, file = path.join(SUBGRAPH_DIR, "networks.json")] = process.argv.slice(2);
  if (network === undefined || deploymentDir === undefined) {
    console.error("usage: npm run subgraph:networks -- <network> <ignition deployment folder> [networks.json]");
    process.exit(2);
  }
  try {
    const networks = writeNetworks(network, path.resolve(deploymentDir), path.resolve(file));
    console.log(`${file}: ${network} -> ${JSON.stringify(networks[network].ProofMarket)}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
}
