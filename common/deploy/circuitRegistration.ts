/**
 * What registering a circuit takes: the verifier contracts to deploy (compiled by Hardhat from the snarkjs export
 * the circuit build writes) and the registry entry that names them, with the manifest's sha256. The example
 * circuits' list, in catalog order, is what the devnet deployer and the Ignition modules register, so both give
 * the same circuits the same ids; the requester CLI registers any built circuit the same way.
 */
import path from "node:path";
import { manifestPath, readCatalog, REPO_ROOT } from "../circuits/catalog.ts";
import { PROOF_SYSTEM_ID, type ProofSystem, readManifest, sha256File } from "../circuits/manifest.ts";

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

/**
 * @param manifestFile a built circuit's manifest.json
 * @param artifactsURI where provers find the manifest (by default its path in this repository)
 */
export function circuitRegistration(
  manifestFile: string,
  system: ProofSystem,
  artifactsURI = path.relative(REPO_ROOT, manifestFile),
): ExampleCircuitRegistration {
  const manifest = readManifest(manifestFile);
  const artifacts = manifest.systems[system];
  if (artifacts === undefined)
    throw new Error(
      `${manifestFile}: ${manifest.name} has no ${system} setup (built: ${Object.keys(manifest.systems).join(", ")})`,
    );
  return {
    key: `${manifest.name}_${system}`,
    name: manifest.name,
    system,
    verifierContract: artifacts.verifier.contractName,
    batchVerifierContract: artifacts.batchVerifier?.contractName ?? null,
    entry: (verifier, batchVerifier) => ({
      name: `${manifest.name}/${system}`,
      verifier,
      system: PROOF_SYSTEM_ID[system],
      nPublicOutputs: manifest.nPublicOutputs,
      nPublicInputs: manifest.nPublicInputs,
      batchVerifier,
      manifestHash: `0x${sha256File(manifestFile)}`,
      artifactsURI,
    }),
  };
}

export function exampleCircuitRegistrations(): ExampleCircuitRegistration[] {
  return readCatalog().flatMap((spec) =>
    spec.systems.map((system) => circuitRegistration(manifestPath(spec.name), system)),
  );
}

/**
 * The ids the example circuits get on a fresh market (registered in catalog order by the devnet deployer and the
 * Ignition modules), in the form a worker config's `circuits` takes.
 */
export function exampleCircuitIds(): { circuitId: number; manifest: string; system: ProofSystem }[] {
  return exampleCircuitRegistrations().map((r, i) => ({ circuitId: i + 1, manifest: r.name, system: r.system }));
}

/** An example circuit's id on a fresh market. */
export function exampleCircuitId(name: string, system: ProofSystem): bigint {
  const found = exampleCircuitIds().find((c) => c.manifest === name && c.system === system);
  if (found === undefined) throw new Error(`${name}/${system} is not an example circuit`);
  return BigInt(found.circuitId);
}
