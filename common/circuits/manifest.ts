/**
 * The circuit manifest: the one description of a built circuit that the contracts' tests, the worker and the
 * coordinator all read. It is written by `circuits/tool/build.ts` next to the artifacts it describes.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

export const PROOF_SYSTEMS = ["groth16", "plonk", "fflonk"] as const;
export type ProofSystem = (typeof PROOF_SYSTEMS)[number];

/** The on-chain enum value of each proof system (`contracts/types/Circuit.sol`, `ProofSystem`). */
export const PROOF_SYSTEM_ID: Record<ProofSystem, number> = { groth16: 0, plonk: 1, fflonk: 2 };

/** One named input signal of the circuit, e.g. `pathElements` with dims [10]. */
export interface InputSignal {
  name: string;
  /** Array dimensions; [] for a scalar. */
  dims: number[];
  visibility: "public" | "private";
}

/** A file of the build with its content hash, relative to the manifest's folder. */
export interface ArtifactFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface SystemArtifacts {
  zkey: ArtifactFile;
  vkey: ArtifactFile;
  /**
   * The snarkjs-exported Solidity verifier: beside the manifest, or under contracts/verifiers/generated/ for the
   * example circuits (which Hardhat builds). Compiled as if it were there (common/deploy/circuitRegistration.ts).
   */
  verifier: ArtifactFile & { contractName: string };
  /** Groth16 only: the batch verifier of the same key (contracts/verifiers/Groth16BatchVerifier.sol). */
  batchVerifier?: ArtifactFile & { contractName: string };
}

export interface PtauInfo {
  file: string;
  sha256: string;
  /** True for a development ptau whose toxic waste is known. Never use such a circuit to guard value. */
  insecure: boolean;
}

export interface CircuitManifest {
  name: string;
  description: string;
  source: ArtifactFile;
  wasm: ArtifactFile;
  r1cs: ArtifactFile;
  constraints: number;
  /** Public outputs come first in `publicSignals`, then public inputs (circom's order). */
  nPublicOutputs: number;
  nPublicInputs: number;
  nPrivateInputs: number;
  inputs: InputSignal[];
  ptau: PtauInfo;
  systems: Partial<Record<ProofSystem, SystemArtifacts>>;
}

export function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Absolute path of a manifest's artifact file. */
export function artifactPath(manifestFile: string, artifact: ArtifactFile): string {
  return path.resolve(path.dirname(manifestFile), artifact.path);
}

/** A manifest that cannot be read, or a file that is not one: the message names the file and what to do. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** Reads a manifest, checking that it is one (the fields every reader relies on) before anyone uses it. */
export function readManifest(manifestFile: string): CircuitManifest {
  let text: string;
  try {
    text = readFileSync(manifestFile, "utf8");
  } catch (e) {
    throw new ManifestError(
      `cannot read manifest ${manifestFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ` +
        "give the manifest.json that `npm run circuits:build` wrote",
    );
  }
  let manifest: Partial<CircuitManifest>;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${manifestFile} is not valid JSON: ${(e as Error).message}`);
  }
  const missing = (["name", "wasm", "inputs", "systems"] as const).filter((field) => manifest?.[field] === undefined);
  if (missing.length > 0)
    throw new ManifestError(
      `${manifestFile} is not a circuit manifest (no ${missing.join(", ")}): give the manifest.json that ` +
        "`npm run circuits:build` wrote",
    );
  return manifest as CircuitManifest;
}

/** Number of scalar field elements an input signal takes. */
export function signalSize(signal: InputSignal): number {
  return signal.dims.reduce((a, b) => a * b, 1);
}
