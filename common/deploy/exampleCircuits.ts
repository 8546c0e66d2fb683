/**
 * What registering the example circuits takes, one entry per circuit and proof system in catalog order: the
 * verifier contracts to deploy and the registry entry that names them. The devnet deployer and the Ignition
 * modules both read this list, so they register the same circuits under the same ids.
 */
import { loadManifest, manifestPath, readCatalog } from "../circuits/catalog.ts";
import { PROOF_SYSTEM_ID, type ProofSystem, sha256File } from "../circuits/manifest.ts";

export const NO_BATCH_VERIFIER = "0x0000000000000000000000000000000000000000";

export interface ExampleCircuitRegistration {
  /** A name usable as an Ignition future id: `<circuit>_<system>`. */
  key: string;
  name: string;
  system: ProofSystem;
  verifierContract: string;
  batchVerifierContract: string | null;
  /** The registerCircuit argument, given the deployed verifier addresses (or futures). */
  entry<A>(
    verifier: A,
    batchVerifier: A | string,
  ): {
    name: string;
    verifier: A;
    system: number;
    nPublicOutputs: number;
    nPublicInputs: number;
    batchVerifier: A | string;
    manifestHash: string;
    artifactsURI: string;
  };
}

export function exampleCircuitRegistrations(): ExampleCircuitRegistration[] {
  return readCatalog().flatMap((spec) => {
    const manifest = loadManifest(spec.name);
    return spec.systems.map((system) => {
      const artifacts = manifest.systems[system]!;
      return {
        key: `${spec.name}_${system}`,
        name: spec.name,
        system,
        verifierContract: artifacts.verifier.contractName,
        batchVerifierContract: artifacts.batchVerifier?.contractName ?? null,
        entry: (verifier, batchVerifier) => ({
          name: `${spec.name}/${system}`,
          verifier,
          system: PROOF_SYSTEM_ID[system],
          nPublicOutputs: manifest.nPublicOutputs,
          nPublicInputs: manifest.nPublicInputs,
          batchVerifier,
          manifestHash: `0x${sha256File(manifestPath(spec.name))}`,
          artifactsURI: `circuits/artifacts/${spec.name}/manifest.json`,
        }),
      };
    });
  });
}
