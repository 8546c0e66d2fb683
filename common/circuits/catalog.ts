/**
 * Where the example circuits and their manifests live, so that nothing else spells out these paths.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type CircuitManifest, type ProofSystem, readManifest } from "./manifest.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CIRCUITS_DIR = path.join(REPO_ROOT, "circuits");
export const ARTIFACTS_DIR = path.join(CIRCUITS_DIR, "artifacts");
export const GENERATED_VERIFIERS_DIR = path.join(REPO_ROOT, "contracts", "verifiers", "generated");

/** One entry of circuits/circuits.json: what to build and with which proof systems. */
export interface CircuitSpec {
  name: string;
  description: string;
  systems: ProofSystem[];
  /** Path of the ptau file (relative to the repository root) that the committed artifacts were set up with. */
  ptau: string;
  /** circom's simplification level: O2 also removes linear constraints (smaller setup); O1 by default. */
  optimization?: "O0" | "O1" | "O2";
}

export function readCatalog(): CircuitSpec[] {
  return JSON.parse(readFileSync(path.join(CIRCUITS_DIR, "circuits.json"), "utf8")) as CircuitSpec[];
}

export function manifestPath(name: string): string {
  return path.join(ARTIFACTS_DIR, name, "manifest.json");
}

export function loadManifest(name: string): CircuitManifest {
  return readManifest(manifestPath(name));
}

const pascal = (s: string) =>
  s
    .split(/[_-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

/** `poseidon_preimage` + `groth16` -> `PoseidonPreimageGroth16Verifier` (the snarkjs-exported verifier). */
export function verifierContractName(circuit: string, system: ProofSystem): string {
  return `${pascal(circuit)}${pascal(system)}Verifier`;
}

/** `poseidon_preimage` -> `PoseidonPreimageGroth16BatchVerifier`. */
export function batchVerifierContractName(circuit: string): string {
  return `${pascal(circuit)}Groth16BatchVerifier`;
}
