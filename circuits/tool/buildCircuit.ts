/**
 * Builds one circom circuit into everything the market needs, all written at once (staging.ts):
 *
 *   <outDir>/  circuit.wasm, circuit.r1cs, <system>.zkey, <system>.vkey.json, manifest.json
 *   <verifiersDir>/<Name><System>Verifier.sol, <Name>Groth16BatchVerifier.sol
 *
 * The example circuits keep their verifiers under contracts/verifiers/generated/ (Hardhat builds them); any other
 * circuit keeps them in its out folder, and registering it compiles them there (common/contracts/solc.ts).
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import {
  type ArtifactFile,
  type CircuitManifest,
  type ProofSystem,
  sha256File,
  type SystemArtifacts,
} from "../../common/circuits/manifest.ts";
import { compileCircuit, type Optimization } from "./compile.ts";
import { setupSystem } from "./setup.ts";
import { readInputSignals } from "./signals.ts";
import { stageBeside } from "./staging.ts";
import { type RenderedVerifier, renderVerifiers } from "./verifier.ts";

export interface CircuitBuild {
  /** The manifest's name; the verifier contracts are named after it. */
  name: string;
  description: string;
  sourceFile: string;
  outDir: string;
  /** Where the verifier .sol files go (outDir itself for circuits outside the catalog). */
  verifiersDir: string;
  systems: ProofSystem[];
  ptau: string;
  optimization?: Optimization;
  /** circom include folders besides this repository's node_modules (which holds circomlib). */
  includePaths?: string[];
}

/** A file as the manifest records it; `finalPath` is where it will be once the build is in place. */
function describe(file: string, finalPath: string, outDir: string): ArtifactFile {
  return { path: path.relative(outDir, finalPath), sha256: sha256File(file), bytes: statSync(file).size };
}

export async function buildCircuit(build: CircuitBuild): Promise<CircuitManifest> {
  const { name, outDir, verifiersDir } = build;
  const staging = stageBeside(outDir);
  const staged = (file: string) => path.join(staging.dir, file);
  // Verifiers written beside the other artifacts while staging, moved to verifiersDir when the build succeeds.
  const verifiers: string[] = [];
  const describeVerifier = (file: string) => describe(staged(file), path.join(verifiersDir, file), outDir);
  try {
    console.log(`== ${name}: compiling ${build.sourceFile}`);
    const compiled = compileCircuit(build.sourceFile, staged("circom"), build.optimization, build.includePaths);
    copyFileSync(compiled.wasm, staged("circuit.wasm"));
    copyFileSync(compiled.r1cs, staged("circuit.r1cs"));

    const info = await snarkjs.r1cs.info(staged("circuit.r1cs"));
    const counts = { nOutputs: info.nOutputs, nPubInputs: info.nPubInputs, nPrvInputs: info.nPrvInputs };

    const systems: Partial<Record<ProofSystem, SystemArtifacts>> = {};
    for (const system of build.systems) {
      console.log(`== ${name}: ${system} setup from ${path.basename(build.ptau)}`);
      const zkey = staged(`${system}.zkey`);
      await setupSystem(system, staged("circuit.r1cs"), build.ptau, zkey, name, info);
      const vkeyFile = staged(`${system}.vkey.json`);
      const rendered = await renderVerifiers(system, zkey, name);
      writeFileSync(vkeyFile, JSON.stringify(rendered.vkey, null, 1));
      const written = (v: RenderedVerifier) => {
        writeFileSync(staged(v.fileName), v.source);
        verifiers.push(v.fileName);
        return { ...describeVerifier(v.fileName), contractName: v.contractName };
      };
      const artifacts: SystemArtifacts = {
        zkey: describe(zkey, path.join(outDir, `${system}.zkey`), outDir),
        vkey: describe(vkeyFile, path.join(outDir, `${system}.vkey.json`), outDir),
        verifier: written(rendered.verifier),
      };
      if (rendered.batchVerifier !== null) artifacts.batchVerifier = written(rendered.batchVerifier);
      systems[system] = artifacts;
    }

    const manifest: CircuitManifest = {
      name,
      description: build.description,
      source: describe(build.sourceFile, build.sourceFile, outDir),
      wasm: describe(staged("circuit.wasm"), path.join(outDir, "circuit.wasm"), outDir),
      r1cs: describe(staged("circuit.r1cs"), path.join(outDir, "circuit.r1cs"), outDir),
      constraints: info.nConstraints,
      nPublicOutputs: counts.nOutputs,
      nPublicInputs: counts.nPubInputs,
      nPrivateInputs: counts.nPrvInputs,
      inputs: readInputSignals(compiled.sym, counts),
      ptau: {
        file: path.basename(build.ptau),
        sha256: sha256File(build.ptau),
        insecure: /insecure|dev_pot/.test(path.basename(build.ptau)),
      },
      systems,
    };
    writeFileSync(staged("manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    rmSync(staged("circom"), { recursive: true, force: true });

    if (path.resolve(verifiersDir) !== path.resolve(outDir)) {
      mkdirSync(verifiersDir, { recursive: true });
      for (const file of verifiers) renameSync(staged(file), path.join(verifiersDir, file));
    }
    staging.commit();
    console.log(`== ${name}: ${info.nConstraints} constraints, written to ${outDir}`);
    return manifest;
  } finally {
    staging.discard();
  }
}
