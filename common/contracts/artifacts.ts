/**
 * ABIs and bytecode come from Hardhat's build output (artifacts/, made by `hardhat build`), never copied by hand.
 * Contract types come from TypeChain's generated declarations (types/, same build), imported as types only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Contract, type ContractRunner, type InterfaceAbi } from "ethers";
import { REPO_ROOT } from "../circuits/catalog.ts";
import type { IERC20Metadata, ProofMarket } from "../../types/ethers-contracts/index.ts";

export interface ContractArtifact {
  contractName: string;
  abi: InterfaceAbi;
  bytecode: string;
}

const ARTIFACTS_ROOT = path.join(REPO_ROOT, "artifacts");
let index: Map<string, string> | undefined;

function indexArtifacts(dir: string, into: Map<string, string>): void {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (entry !== "build-info") indexArtifacts(full, into);
    } else if (entry.endsWith(".json") && !entry.endsWith(".dbg.json")) into.set(entry.slice(0, -5), full);
  }
}

/** The compiled artifact of a contract by name, e.g. "ProofMarket". */
export function contractArtifact(name: string): ContractArtifact {
  if (index === undefined) {
    index = new Map();
    try {
      indexArtifacts(ARTIFACTS_ROOT, index);
    } catch {
      throw new Error(`no compiled contracts under ${ARTIFACTS_ROOT}: run \`npm run build\` first`);
    }
  }
  const file = index.get(name);
  if (file === undefined) throw new Error(`no compiled contract named ${name}: run \`npm run build\``);
  return JSON.parse(readFileSync(file, "utf8")) as ContractArtifact;
}

export function connectMarket(address: string, runner: ContractRunner): ProofMarket {
  return new Contract(address, contractArtifact("ProofMarket").abi, runner) as unknown as ProofMarket;
}

export function connectToken(address: string, runner: ContractRunner): IERC20Metadata {
  return new Contract(address, contractArtifact("IERC20Metadata").abi, runner) as unknown as IERC20Metadata;
}
