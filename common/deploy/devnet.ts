/**
 * Deploys a development market: a test token (anyone may mint), the market with development parameters, and every
 * example circuit registered with its snarkjs verifier (and Groth16 batch verifier). Used by the worker's tests
 * against a real local node; public deployments go through Ignition.
 */
import { ContractFactory, type Signer, parseEther } from "ethers";
import { loadManifest, manifestPath, readCatalog } from "../circuits/catalog.ts";
import { PROOF_SYSTEM_ID, type ProofSystem, sha256File } from "../circuits/manifest.ts";
import { connectMarket, contractArtifact } from "../contracts/artifacts.ts";

export const DEV_MARKET_PARAMS = {
  keeperShareBps: 1_000n,
  rewardShareBps: 3_000n,
  treasuryShareBps: 1_000n,
  abandonSlashBps: 2_500n,
  minProvingWindow: 30n,
  maxProvingWindow: 24n * 3600n,
  minBond: parseEther("1"),
  paused: false,
};
export const DEV_UNBONDING_DELAY = 7n * 24n * 3600n;

export interface RegisteredCircuit {
  circuitId: bigint;
  name: string;
  system: ProofSystem;
}

export interface DevnetDeployment {
  token: string;
  market: string;
  circuits: RegisteredCircuit[];
}

async function deploy(name: string, signer: Signer, args: unknown[] = []): Promise<string> {
  const artifact = contractArtifact(name);
  const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract.getAddress();
}

export async function deployDevnet(deployer: Signer): Promise<DevnetDeployment> {
  const owner = await deployer.getAddress();
  const token = await deploy("TestToken", deployer, ["ProofMarket Test Token", "PMT"]);
  const market = await deploy("ProofMarket", deployer, [token, owner, owner, DEV_UNBONDING_DELAY, DEV_MARKET_PARAMS]);
  const marketContract = connectMarket(market, deployer);
  const circuits: RegisteredCircuit[] = [];
  for (const spec of readCatalog()) {
    const manifest = loadManifest(spec.name);
    for (const system of spec.systems) {
      const artifacts = manifest.systems[system]!;
      const verifier = await deploy(artifacts.verifier.contractName, deployer);
      const batchVerifier = artifacts.batchVerifier
        ? await deploy(artifacts.batchVerifier.contractName, deployer)
        : "0x0000000000000000000000000000000000000000";
      await (
        await marketContract.registerCircuit({
          name: `${spec.name}/${system}`,
          verifier,
          system: PROOF_SYSTEM_ID[system],
          nPublicOutputs: manifest.nPublicOutputs,
          nPublicInputs: manifest.nPublicInputs,
          batchVerifier,
          manifestHash: `0x${sha256File(manifestPath(spec.name))}`,
          artifactsURI: `circuits/artifacts/${spec.name}/manifest.json`,
        })
      ).wait();
      circuits.push({ circuitId: BigInt(await marketContract.circuitCount()), name: spec.name, system });
    }
  }
  return { token, market, circuits };
}
