/**
 * A development market on a real local chain. deployDevnet deploys it straight from ethers: a test token (anyone may
 * mint), the market with development parameters, and every example circuit registered with its verifiers. Tests
 * and benchmarks use it because it is fast and in-process; `npm start` and public deployments go through the
 * Ignition modules (ignition/modules), which deploy the same contracts from the same registration list.
 * startDevnet does it on a fresh local chain (dev/localNode.ts) with the accounts funded; postJob is the
 * requester's side: a job posted with its inputs document inline (a data: URI).
 */
import { Contract, ContractFactory, parseEther, type Signer, type Wallet } from "ethers";
import { loadManifest } from "../common/circuits/catalog.ts";
import type { ProofSystem } from "../common/circuits/manifest.ts";
import { connectMarket, connectToken, contractArtifact } from "../common/contracts/artifacts.ts";
import { exampleCircuitRegistrations, NO_BATCH_VERIFIER } from "../common/deploy/circuitRegistration.ts";
import { DEV_MARKET_PARAMS, DEV_UNBONDING_DELAY } from "../common/deploy/marketParams.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../common/inputs/document.ts";
import { type LocalChain, startLocalChain } from "./localNode.ts";

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

export interface Devnet {
  chain: LocalChain;
  deployment: DevnetDeployment;
  circuitId(name: string, system: ProofSystem): bigint;
}

export async function startDevnet(): Promise<Devnet> {
  const chain = await startLocalChain();
  const deployment = await deployDevnet(chain.accounts[0]);
  const mintable = new Contract(deployment.token, ["function mint(address,uint256)"], chain.accounts[0]);
  for (const who of chain.accounts.slice(1)) await (await mintable.mint(who.address, parseEther("1000"))).wait();
  return {
    chain,
    deployment,
    circuitId(name, system) {
      const c = deployment.circuits.find((x) => x.name === name && x.system === system);
      if (!c) throw new Error(`no ${name}/${system} in the devnet`);
      return c.circuitId;
    },
  };
}

export interface PostOptions {
  /** A fixed price (minFee = maxFee); 3 tokens unless a ramp is given. */
  fee?: bigint;
  /** A price ramp (reverse Dutch auction): from minFee at rampStart (0: at posting) to maxFee over rampDuration s. */
  minFee?: bigint;
  maxFee?: bigint;
  rampStart?: bigint;
  rampDuration?: bigint;
  bond?: bigint;
  provingWindow?: bigint;
  expiresIn?: number;
  /** Put a different hash on chain than the document's. */
  wrongHash?: boolean;
}

export async function postJob(
  devnet: Devnet,
  requester: Wallet,
  circuitId: bigint,
  document: Record<string, unknown>,
  o: PostOptions = {},
): Promise<bigint> {
  const market = connectMarket(devnet.deployment.market, requester);
  const token = connectToken(devnet.deployment.token, requester);
  const maxFee = o.maxFee ?? o.fee ?? parseEther("3");
  if ((await token.allowance(requester.address, devnet.deployment.market)) < maxFee) {
    await (await token.approve(devnet.deployment.market, parseEther("1000000"))).wait();
  }
  const circuit = devnet.deployment.circuits.find((c) => c.circuitId === circuitId)!;
  const { uri, bytes } = inputsDataURI(document);
  const { inputsCommitment } = parseInputsDocument(loadManifest(circuit.name), document);
  const now = (await devnet.chain.provider.getBlock("latest"))!.timestamp;
  const receipt = (await (
    await market.postJob({
      circuitId,
      minFee: o.minFee ?? o.fee ?? maxFee,
      maxFee,
      rampStart: o.rampStart ?? 0n,
      rampDuration: o.rampDuration ?? 0n,
      bond: o.bond ?? parseEther("2"),
      provingWindow: o.provingWindow ?? 300n,
      expiresAt: BigInt(now + (o.expiresIn ?? 3600)),
      inputsCommitment,
      inputsHash: o.wrongHash ? sha256Hex("something else") : sha256Hex(bytes),
      inputsURI: uri,
    })
  ).wait())!;
  const posted = receipt.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted");
  return posted!.args.jobId as bigint;
}
