/**
 * Deploys a development market straight from ethers: a test token (anyone may mint), the market with development
 * parameters, and every example circuit registered with its verifiers. Tests use it because it is fast and
 * in-process; `npm start` and public deployments go through the Ignition modules (ignition/modules), which
 * deploy the same contracts from the same registration list.
 */
import { ContractFactory, type Signer } from "ethers";
import type { ProofSystem } from "../circuits/manifest.ts";
import { connectMarket, contractArtifact } from "../contracts/artifacts.ts";
import { exampleCircuitRegistrations, NO_BATCH_VERIFIER } from "./circuitRegistration.ts";
import { DEV_MARKET_PARAMS, DEV_UNBONDING_DELAY } from "./marketParams.ts";

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
  for (const registration of exampleCircuitRegistrations()) {
    const verifier = await deploy(registration.verifierContract, deployer);
    const batchVerifier = registration.batchVerifierContract
      ? await deploy(registration.batchVerifierContract, deployer)
      : NO_BATCH_VERIFIER;
    await (await marketContract.registerCircuit(registration.entry(verifier, batchVerifier))).wait();
    circuits.push({
      circuitId: BigInt(await marketContract.circuitCount()),
      name: registration.name,
      system: registration.system,
    });
  }
  return { token, market, circuits };
}
