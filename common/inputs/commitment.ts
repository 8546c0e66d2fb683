/**
 * The job's commitment to its public inputs, as `contracts/libraries/PublicSignals.sol` recomputes it:
 * keccak256(abi.encodePacked(uint256[] publicInputs)), inputs in circuit order.
 */
import { solidityPackedKeccak256 } from "ethers";
import type { CircuitManifest } from "../circuits/manifest.ts";

export function inputsCommitment(publicInputs: readonly bigint[]): string {
  return solidityPackedKeccak256(["uint256[]"], [publicInputs]);
}

/** The public-input part of a proof's public signals (circom puts outputs first). */
export function publicInputsOf(manifest: CircuitManifest, publicSignals: readonly bigint[]): bigint[] {
  return publicSignals.slice(manifest.nPublicOutputs);
}

/** The public outputs part of a proof's public signals. */
export function publicOutputsOf(manifest: CircuitManifest, publicSignals: readonly bigint[]): bigint[] {
  return publicSignals.slice(0, manifest.nPublicOutputs);
}
