/**
 * Proves a circuit's statement with snarkjs from its committed artifacts: witness from the circuit's WASM, then
 * the proof with the system's zkey, checked against the verification key.
 */
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { manifestPath } from "../circuits/catalog.ts";
import { artifactPath, type CircuitManifest, type ProofSystem } from "../circuits/manifest.ts";
import { encodeProof, type EncodedProof, type SnarkjsProof } from "./encoding.ts";

export type CircuitInputs = Record<string, unknown>;

export interface ProofResult extends EncodedProof {
  raw: { proof: SnarkjsProof; publicSignals: string[] };
}

/** snarkjs' module for a proof system (each has prove, fullProve and verify). */
export function snarkjsProver(system: ProofSystem) {
  return system === "groth16" ? snarkjs.groth16 : system === "plonk" ? snarkjs.plonk : snarkjs.fflonk;
}

export async function proveWithSnarkjs(
  manifest: CircuitManifest,
  system: ProofSystem,
  inputs: CircuitInputs,
): Promise<ProofResult> {
  const artifacts = manifest.systems[system];
  if (artifacts === undefined) throw new Error(`circuit ${manifest.name} has no ${system} setup`);
  const file = manifestPath(manifest.name);
  const wasm = artifactPath(file, manifest.wasm);
  const zkey = artifactPath(file, artifacts.zkey);
  const prover = snarkjsProver(system);
  const { proof, publicSignals } = await prover.fullProve(inputs, wasm, zkey);
  const vkey = JSON.parse(readFileSync(artifactPath(file, artifacts.vkey), "utf8"));
  if (!(await prover.verify(vkey, publicSignals, proof))) {
    throw new Error(`snarkjs produced a ${system} proof for ${manifest.name} that does not verify`);
  }
  return { ...(await encodeProof(system, proof, publicSignals)), raw: { proof, publicSignals } };
}
