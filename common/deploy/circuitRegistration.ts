/**
 * What registering a circuit takes: the verifier contracts to deploy and the registry entry that names them, with
 * the manifest's sha256. The example circuits' verifiers are Hardhat's build (by contract name), and their list, in
 * catalog order, is what the devnet deployer and the Ignition modules register, so both give the same circuits the
 * same ids. The requester registers any built circuit, wherever it was built, by compiling the verifier sources its
 * manifest names (compileVerifiers).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GENERATED_VERIFIERS_DIR, manifestPath, readCatalog, REPO_ROOT } from "../circuits/catalog.ts";
import { artifactPath, PROOF_SYSTEM_ID, type ProofSystem, readManifest, sha256File } from "../circuits/manifest.ts";
import { compileSolidity, type CompiledContract } from "../contracts/solc.ts";

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
 * Where provers on this machine find a manifest (common/circuits/registeredManifest.ts reads both forms): its path
 * relative to the repository when it is inside it, else a file:// URL.
 */
export function localArtifactsURI(manifestFile: string): string {
  const relative = path.relative(REPO_ROOT, path.resolve(manifestFile));
  const inside = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
  return inside ? relative : pathToFileURL(path.resolve(manifestFile)).href;
}

/**
 * @param manifestFile a built circuit's manifest.json
 * @param artifactsURI where provers find the manifest (by default localArtifactsURI)
 */
export function circuitRegistration(
  manifestFile: string,
  system: ProofSystem,
  artifactsURI = localArtifactsURI(manifestFile),
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

/**
 * Compiles verifier sources with the project's compiler (common/contracts/solc.ts), each as
 * contracts/verifiers/generated/<contract>.sol, where Hardhat compiles the examples' (so a batch verifier's
 * `../Groth16BatchVerifier.sol` resolves, and the bytecode is what Hardhat would make of it), whatever folder the
 * source comes from.
 * @returns the compiled contracts, in the order given
 */
export function compileAsGeneratedVerifiers(
  verifiers: { contractName: string; source: string }[],
  options: Parameters<typeof compileSolidity>[1] = {},
): CompiledContract[] {
  const sourceName = (contractName: string) =>
    path.relative(REPO_ROOT, path.join(GENERATED_VERIFIERS_DIR, `${contractName}.sol`));
  const compiled = compileSolidity(
    Object.fromEntries(verifiers.map((v) => [sourceName(v.contractName), v.source])),
    options,
  );
  return verifiers.map((v) => {
    const contract = compiled.get(v.contractName);
    if (contract === undefined) throw new Error(`${sourceName(v.contractName)} declares no ${v.contractName}`);
    return contract;
  });
}

/** Compiles the verifier (and Groth16 batch verifier) sources a manifest names (compileAsGeneratedVerifiers). */
export function compileVerifiers(
  manifestFile: string,
  system: ProofSystem,
): { verifier: CompiledContract; batchVerifier: CompiledContract | null } {
  const artifacts = readManifest(manifestFile).systems[system];
  if (artifacts === undefined) throw new Error(`${manifestFile}: no ${system} setup`);
  const named = [artifacts.verifier, artifacts.batchVerifier].filter((v) => v !== undefined);
  const [verifier, batchVerifier] = compileAsGeneratedVerifiers(
    named.map((v) => ({ contractName: v.contractName, source: readFileSync(artifactPath(manifestFile, v), "utf8") })),
  );
  return { verifier, batchVerifier: batchVerifier ?? null };
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
