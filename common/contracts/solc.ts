/**
 * The project's Solidity compiler and its settings, in one place: hardhat.config.ts builds with them, and
 * `compileSolidity` compiles sources outside Hardhat's build (a circuit's verifiers built anywhere) with the
 * same compiler, so what it makes is what `hardhat build` makes, metadata aside.
 *
 * The compiler is the npm `solc` package (soljson.js, WASM): nothing is downloaded.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { InterfaceAbi } from "ethers";
import { REPO_ROOT } from "../circuits/catalog.ts";

const require = createRequire(import.meta.url);

export const SOLC_VERSION = require("solc/package.json").version as string;
export const SOLJSON_PATH = require.resolve("solc/soljson.js");
/**
 * The project's settings. Verifiers are compiled with them, and a worker refuses a circuit whose on-chain verifier
 * is not what they make (prover-worker/src/trust/), so a change here makes workers refuse verifiers deployed before
 * it: change them only with a new compiler release in mind.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 10_000 },
  viaIR: true,
  evmVersion: "cancun",
} as const;

/** The market's own: fewer optimizer runs keep ProofMarket under EIP-170's 24,576-byte code size limit. Kept apart
 *  from SOLC_SETTINGS so that tuning the market never changes what a verifier compiles to. */
export const MARKET_SOLC_SETTINGS = { ...SOLC_SETTINGS, optimizer: { enabled: true, runs: 500 } } as const;

export interface CompiledContract {
  contractName: string;
  /** The source unit the contract is declared in, e.g. `contracts/verifiers/generated/XVerifier.sol`. */
  sourceName: string;
  abi: InterfaceAbi;
  bytecode: string;
  deployedBytecode: string;
}

export class SolidityCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SolidityCompileError";
  }
}

interface StandardOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

// Imports resolve as Hardhat resolves them: relative ones against the importing source unit's name (so a
// generated verifier named contracts/verifiers/generated/X.sol finds ../Groth16BatchVerifier.sol), the project's
// own under contracts/, and @openzeppelin/ from node_modules. Nothing else is readable.
export function readImport(sourceName: string): { contents: string } | { error: string } {
  const file = sourceName.startsWith("@openzeppelin/")
    ? path.join(REPO_ROOT, "node_modules", sourceName)
    : sourceName.startsWith("contracts/")
      ? path.join(REPO_ROOT, sourceName)
      : null;
  if (file === null) return { error: `${sourceName}: only contracts/ and @openzeppelin/ imports are resolved` };
  try {
    return { contents: readFileSync(file, "utf8") };
  } catch {
    return { error: `${sourceName}: no such file (${file})` };
  }
}

let compiler: { compile(input: string, callbacks: { import: typeof readImport }): string } | undefined;

/**
 * Compiles Solidity sources with the project's compiler and settings.
 * @param sources source unit name (as Hardhat would name the file, relative to the repository) -> source text
 * @param onImport told of every imported source unit the compiler read (readImport), so that a cache of the output
 *   can tell when one of them changed
 * @returns every contract of those sources and their imports, by contract name
 * @throws SolidityCompileError with solc's messages when compilation fails
 */
export function compileSolidity(
  sources: Record<string, string>,
  { onImport }: { onImport?: (sourceName: string, contents: string) => void } = {},
): Map<string, CompiledContract> {
  // Loaded on first use: soljson takes seconds to load, and hardhat.config.ts imports only the settings.
  compiler ??= require("solc");
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: {
      ...SOLC_SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const readAndReport = (sourceName: string) => {
    const read = readImport(sourceName);
    if ("contents" in read) onImport?.(sourceName, read.contents);
    return read;
  };
  const output = JSON.parse(compiler!.compile(JSON.stringify(input), { import: readAndReport })) as StandardOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new SolidityCompileError(errors.map((e) => e.formattedMessage.trim()).join("\n"));
  const contracts = new Map<string, CompiledContract>();
  for (const [sourceName, byName] of Object.entries(output.contracts ?? {})) {
    for (const [contractName, { abi, evm }] of Object.entries(byName)) {
      contracts.set(contractName, {
        contractName,
        sourceName,
        abi,
        bytecode: `0x${evm.bytecode.object}`,
        deployedBytecode: `0x${evm.deployedBytecode.object}`,
      });
    }
  }
  return contracts;
}

/**
 * Runtime bytecode without solc's CBOR metadata tail (its length is the last two bytes), which hashes the
 * sources and their names: what two builds of the same contract must agree on.
 */
export function withoutMetadata(bytecode: string): string {
  const hex = bytecode.startsWith("0x") ? bytecode.slice(2) : bytecode;
  if (hex.length < 4) return `0x${hex}`;
  const metadataBytes = parseInt(hex.slice(-4), 16);
  const cut = hex.length - 4 - metadataBytes * 2;
  // The tail is a CBOR map (0xa1..0xb7 for 1-23 entries); anything else means there is no metadata to strip.
  const looksLikeCbor = cut >= 0 && /^(a[1-9a-f]|b[0-7])$/.test(hex.slice(cut, cut + 2));
  return `0x${looksLikeCbor ? hex.slice(0, cut) : hex}`;
}
