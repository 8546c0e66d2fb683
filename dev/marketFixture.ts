/**
 * The market in Hardhat's in-process network, as the contract tests and the gas benchmark meet it: a token, the
 * market with realistic parameters, the poseidon_preimage circuit registered with its real snarkjs Groth16 verifier
 * and batch verifier, funded actors, and helpers that post, claim and prove jobs with real proofs. (Proving leaves
 * snarkjs holding worker threads: a process that is done calls releaseSnarkjs, dev/releaseSnarkjs.ts.)
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { TestToken } from "../types/ethers-contracts/index.ts";
import { type ContractTransactionReceipt, ZeroAddress, ZeroHash, concat, parseEther } from "ethers";
import { loadManifest, manifestPath } from "../common/circuits/catalog.ts";
import { exampleInputs, type ExampleCircuit } from "../common/circuits/exampleInputs.ts";
import type { ProofSystem } from "../common/circuits/manifest.ts";
import { inputsCommitment, publicInputsOf } from "../common/inputs/commitment.ts";
import { type ProofResult, proveWithSnarkjs } from "../common/proofs/prove.ts";
import { PROOF_SYSTEM_ID, sha256File } from "../common/circuits/manifest.ts";
import { type JobTerms, termsOf } from "../common/market/jobBook.ts";

export const UNBONDING_DELAY = 7n * 24n * 3600n;
export const PARAMS = {
  keeperShareBps: 1_000n,
  rewardShareBps: 3_000n,
  treasuryShareBps: 1_000n,
  abandonSlashBps: 2_500n,
  minProvingWindow: 60n,
  maxProvingWindow: 24n * 3600n,
  minBond: parseEther("1"),
  paused: false,
};
export const FEE = parseEther("10");
export const BOND = parseEther("5");
export const WINDOW = 600n;
export const STAKE = parseEther("100");

export type Terms = JobTerms;

/** Real proofs, made once per (circuit, system, seed) for the whole test run. */
const proofCache = new Map<string, Promise<ProofResult>>();
export function realProof(circuit: ExampleCircuit, system: ProofSystem, seed: number | string): Promise<ProofResult> {
  const key = `${circuit}/${system}/${seed}`;
  let p = proofCache.get(key);
  if (p === undefined) {
    p = exampleInputs(circuit, seed).then((inputs) => proveWithSnarkjs(loadManifest(circuit), system, inputs));
    proofCache.set(key, p);
  }
  return p;
}

export async function deployMarket(ethers: HardhatEthers, tokenName = "TestToken") {
  const [owner, treasury, requester, prover, prover2, keeper, stranger] = await ethers.getSigners();
  // Every test token has mint(); typed as TestToken, the common shape.
  const token = (await ethers.deployContract(
    tokenName,
    tokenName === "TestToken" ? ["Proof Token", "PRF"] : [],
  )) as unknown as TestToken;
  const market = await ethers.deployContract("ProofMarket", [
    await token.getAddress(),
    owner.address,
    treasury.address,
    UNBONDING_DELAY,
    PARAMS,
  ]);
  for (const who of [requester, prover, prover2, keeper, stranger]) {
    await token.mint(who.address, parseEther("1000000"));
    await token.connect(who).approve(await market.getAddress(), ethers.MaxUint256);
  }
  return { token, market, owner, treasury, requester, prover, prover2, keeper, stranger };
}

/** The market with poseidon_preimage/Groth16 registered and `prover` and `prover2` staked. */
export async function deployStakedMarket(ethers: HardhatEthers) {
  const base = await deployMarket(ethers);
  const circuitId = await registerExample(ethers, base.market, "poseidon_preimage", "groth16");
  await base.market.connect(base.prover).stake(STAKE);
  await base.market.connect(base.prover2).stake(STAKE);
  return { ...base, circuitId };
}

export async function registerExample(
  ethers: HardhatEthers,
  market: Awaited<ReturnType<typeof deployMarket>>["market"],
  circuit: ExampleCircuit,
  system: ProofSystem,
  withBatch = true,
): Promise<bigint> {
  const manifest = loadManifest(circuit);
  const artifacts = manifest.systems[system]!;
  const verifier = await ethers.deployContract(artifacts.verifier.contractName);
  let batchVerifier = ZeroAddress;
  if (withBatch && artifacts.batchVerifier) {
    batchVerifier = await (await ethers.deployContract(artifacts.batchVerifier.contractName)).getAddress();
  }
  const tx = await market.registerCircuit(
    exampleRegistration(circuit, system, await verifier.getAddress(), batchVerifier),
  );
  return registeredCircuitId(market, (await tx.wait())!);
}

/** `registerCircuit`'s argument for an example circuit served by the given verifiers (any contracts: the market
 *  cannot tell a real verifier from a hostile one). */
export function exampleRegistration(
  circuit: ExampleCircuit,
  system: ProofSystem,
  verifier: string,
  batchVerifier: string = ZeroAddress,
) {
  const manifest = loadManifest(circuit);
  return {
    name: `${circuit}/${system}`,
    verifier,
    system: PROOF_SYSTEM_ID[system],
    nPublicOutputs: manifest.nPublicOutputs,
    nPublicInputs: manifest.nPublicInputs,
    batchVerifier,
    manifestHash: `0x${sha256File(manifestPath(circuit))}`,
    artifactsURI: `file://circuits/artifacts/${circuit}/manifest.json`,
  };
}

/** The id a `registerCircuit` transaction's `CircuitRegistered` event gave the circuit. */
export function registeredCircuitId(market: { interface: any }, receipt: ContractTransactionReceipt): bigint {
  const log = receipt.logs.map((l) => market.interface.parseLog(l)).find((l: any) => l?.name === "CircuitRegistered");
  return log!.args.circuitId as bigint;
}

/** The job's terms as a prover reconstructs them from `JobPosted`. */
export function termsFromReceipt(
  market: { interface: any },
  receipt: ContractTransactionReceipt,
): { jobId: bigint; terms: Terms } {
  for (const l of receipt.logs) {
    const parsed = market.interface.parseLog(l);
    if (parsed?.name === "JobPosted") {
      return { jobId: parsed.args.jobId, terms: termsOf(parsed.args) };
    }
  }
  throw new Error("no JobPosted event");
}

export async function postJob(
  ethers: HardhatEthers,
  market: any,
  requester: HardhatEthersSigner,
  circuitId: bigint,
  publicInputs: bigint[],
  overrides: Partial<{
    /** A fixed price: minFee = maxFee = fee (the default, FEE). */
    fee: bigint;
    minFee: bigint;
    maxFee: bigint;
    /** 0n: the ramp starts at posting. */
    rampStart: bigint;
    rampDuration: bigint;
    bond: bigint;
    provingWindow: bigint;
    expiresIn: bigint;
  }> = {},
): Promise<{ jobId: bigint; terms: Terms; receipt: ContractTransactionReceipt }> {
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const tx = await market.connect(requester).postJob({
    circuitId,
    minFee: overrides.minFee ?? overrides.fee ?? FEE,
    maxFee: overrides.maxFee ?? overrides.fee ?? FEE,
    rampStart: overrides.rampStart ?? 0n,
    rampDuration: overrides.rampDuration ?? 0n,
    bond: overrides.bond ?? BOND,
    provingWindow: overrides.provingWindow ?? WINDOW,
    expiresAt: now + (overrides.expiresIn ?? 3600n),
    inputsCommitment: inputsCommitment(publicInputs),
    inputsHash: ZeroHash,
    inputsURI: "data:application/json,{}",
  });
  const receipt = (await tx.wait())!;
  return { ...termsFromReceipt(market, receipt), receipt };
}

/** Posts a poseidon_preimage job whose public inputs are those of `realProof(..., seed)`. */
export async function postProvableJob(
  ethers: HardhatEthers,
  market: any,
  requester: HardhatEthersSigner,
  circuitId: bigint,
  seed: number,
  circuit: ExampleCircuit = "poseidon_preimage",
  system: ProofSystem = "groth16",
  overrides: Parameters<typeof postJob>[5] = {},
) {
  const proof = await realProof(circuit, system, seed);
  const job = await postJob(
    ethers,
    market,
    requester,
    circuitId,
    publicInputsOf(loadManifest(circuit), proof.publicSignals),
    overrides,
  );
  return { ...job, proof };
}

/** The arguments of `submitProofs` for these jobs: proofs and public signals concatenated in job order. */
export function batchArgs(
  jobs: { jobId: bigint; terms: Terms; proof: { proof: string | Uint8Array; publicSignals: bigint[] } }[],
): [bigint[], Terms[], string, bigint[]] {
  return [
    jobs.map((j) => j.jobId),
    jobs.map((j) => j.terms),
    concat(jobs.map((j) => j.proof.proof)),
    jobs.flatMap((j) => j.proof.publicSignals),
  ];
}
