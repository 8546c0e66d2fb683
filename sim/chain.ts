/**
 * The simulated market's chain: Hardhat's in-process network with the real ProofMarket, token and the
 * poseidon_preimage circuit's real Groth16 verifiers, and time in the simulation's hands. Automine is off: the
 * engine sends a block's transactions, then mines the block at the second it chooses, so that transactions of one
 * block race as they would on a live chain (the first in the block wins; the others revert and still pay their gas).
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { type ContractTransactionReceipt, parseEther } from "ethers";
import { network } from "hardhat";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadManifest } from "../common/circuits/catalog.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { inputsCommitment, publicInputsOf } from "../common/inputs/commitment.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../common/inputs/document.ts";
import { createMarketReader } from "../common/market/marketReader.ts";
import type { ChainEvent } from "../common/chain/logReader.ts";
import {
  exampleRegistration,
  PARAMS,
  realProof,
  registerExample,
  registeredCircuitId,
  UNBONDING_DELAY,
} from "../dev/marketFixture.ts";
import type { Scenario } from "./scenario.ts";

/** One real proof and the inputs commitment of its public inputs: every job posted with those inputs takes it. */
export interface PooledProof {
  commitment: string;
  proof: string;
  publicSignals: bigint[];
}

/** The chain's genesis (2026-01-01), and the seconds its set-up is given before the simulation's first block. */
const GENESIS = 1_767_225_600;
const SETUP_SECONDS = 3_600;

/** Gas every simulated transaction may use: no estimation, which would read the state before the block's others. */
const GAS_LIMIT = 1_000_000n;

/** An inputs document as a job carries it: inline, its hash, and the commitment of its public inputs. */
function inputsOf(document: Record<string, unknown>): { uri: string; hash: string; commitment: string } {
  const { uri, bytes } = inputsDataURI(document);
  return {
    uri,
    hash: sha256Hex(bytes),
    commitment: parseInputsDocument(loadManifest("poseidon_preimage"), document).inputsCommitment,
  };
}

/**
 * The pooled proof of input set `i`. A Groth16 proof is randomized, and its calldata's gas with it, so each is kept on
 * disk once made (PM_SIM_PROOFS, else a folder in the system's temporary directory): a seed then repeats a run to the
 * last unit of gas, across processes too.
 */
async function pooledProof(i: number): Promise<PooledProof> {
  const folder = process.env.PM_SIM_PROOFS ?? path.join(os.tmpdir(), "proofmarket-sim-proofs");
  // Keyed by the zkey's hash: proofs made with another zkey of the circuit would not verify.
  const zkey = loadManifest("poseidon_preimage").systems.groth16!.zkey.sha256.slice(0, 16);
  const file = path.join(folder, `poseidon_preimage-groth16-${zkey}-${i}.json`);
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, "utf8")) as {
      commitment: string;
      proof: string;
      publicSignals: string[];
    };
    return { ...kept, publicSignals: kept.publicSignals.map(BigInt) };
  }
  const p = await realProof("poseidon_preimage", "groth16", `sim-${i}`);
  const pooled = {
    commitment: inputsCommitment(publicInputsOf(loadManifest("poseidon_preimage"), p.publicSignals)),
    proof: p.proof,
    publicSignals: p.publicSignals,
  };
  mkdirSync(folder, { recursive: true });
  // Written beside and renamed: two runs at once never read half a file.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify({ ...pooled, publicSignals: pooled.publicSignals.map(String) }));
  renameSync(partial, file);
  return pooled;
}

export async function openSimChain(scenario: Scenario, accountsNeeded: number) {
  const { ethers, provider } = await network.create({
    override: {
      accounts: { count: accountsNeeded, accountsBalance: parseEther("1000000") },
      // Gas is priced by the scenario, not paid in the chain's ether: a zero base fee keeps balances out of it.
      initialBaseFeePerGas: 0n,
      allowBlocksWithSameTimestamp: false,
      initialDate: new Date(GENESIS * 1000),
    },
  });
  const signers = await ethers.getSigners();
  const [owner, treasury] = signers;
  const token = await ethers.deployContract("TestToken", ["Proof Token", "PMT"]);
  const market = await ethers.deployContract("ProofMarket", [
    await token.getAddress(),
    owner.address,
    treasury.address,
    UNBONDING_DELAY,
    { ...PARAMS, ...scenario.market },
  ]);
  const circuitId = await registerExample(ethers, market as any, "poseidon_preimage", "groth16");
  const marketAddress = await market.getAddress();
  for (const s of signers.slice(2)) {
    await (await token.mint(s.address, parseEther("1000000"))).wait();
    await (await token.connect(s).approve(marketAddress, ethers.MaxUint256)).wait();
  }
  const reader = createMarketReader({
    provider: { send: (method: string, params: unknown[]) => provider.request({ method, params }) },
    address: marketAddress,
  });

  const proofs: PooledProof[] = [];
  for (let i = 0; i < scenario.inputSets; i++) proofs.push(await pooledProof(i));
  // Each set's inputs document travels inline (a data: URI), as a requester may post it; the worker's preflight reads
  // it. The unprovable one claims a hash with no known preimage: its public inputs have no valid witness.
  const documents: ReturnType<typeof inputsOf>[] = [];
  for (let i = 0; i < scenario.inputSets; i++)
    documents.push(inputsOf(await exampleInputs("poseidon_preimage", `sim-${i}`)));
  const unprovable = inputsOf({ ...(await exampleInputs("poseidon_preimage", "sim-0")), hash: "12345" });

  await provider.request({ method: "evm_setAutomine", params: [false] });
  const latest = async () => (await ethers.provider.getBlock("latest"))!;
  // The simulation's first second: fixed, whatever the set-up took in real time, so that a seed repeats a run.
  const start = GENESIS + SETUP_SECONDS;
  if ((await latest()).timestamp >= start) throw new Error(`the simulation's set-up took over ${SETUP_SECONDS} s`);

  return {
    ethers: ethers as HardhatEthers,
    signers: signers as HardhatEthersSigner[],
    owner,
    treasury,
    token,
    market,
    marketAddress,
    circuitId,
    proofs,
    start,
    /** Sends a market call (or one to `contract`) from `from` into the next block. Nothing is estimated, so the node takes every call (a
     *  refusal shows on chain, as a revert that pays its gas); one it refuses outright is a fault of the simulation. */
    async send(from: HardhatEthersSigner, method: string, args: unknown[], contract: any = market): Promise<string> {
      try {
        const tx = await (contract.connect(from) as any)[method](...args, { gasLimit: GAS_LIMIT, gasPrice: 0n });
        return tx.hash as string;
      } catch (e) {
        throw new Error(`the chain refused to take ${method} from ${from.address}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    },
    /** Mines the pending transactions in one block stamped `timestamp`; each one's gas and success. Every one
     *  must be in it: a transaction left out would be neither charged nor acted on. */
    async mine(timestamp: number, hashes: string[]): Promise<Map<string, { gasUsed: bigint; ok: boolean }>> {
      await provider.request({ method: "evm_mine", params: [timestamp] });
      const out = new Map<string, { gasUsed: bigint; ok: boolean }>();
      for (const hash of hashes) {
        const r = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
          gasUsed: string;
          status: string;
        } | null;
        if (r === null) throw new Error(`transaction ${hash} was not mined in the block of second ${timestamp}`);
        out.set(hash, { gasUsed: BigInt(r.gasUsed), ok: r.status === "0x1" });
      }
      return out;
    },
    /** The market's events of one block, decoded by the chain reader every component uses. */
    async events(block: number): Promise<ChainEvent[]> {
      return reader.scan(block, [], block, true);
    },
    blockNumber: async () => (await latest()).number,
    /**
     * A rug pull set up by `from` before the simulation starts: a RugPullVerifier of its own (forwarding to the real
     * verifier until `from` pulls it) and the circuit registered with it, the same circuit in every other respect.
     * The gas it cost is its own.
     */
    async registerRugPull(from: HardhatEthersSigner) {
      const real = (await market.circuit(circuitId)).verifier as string;
      const rug = await ethers.deployContract("RugPullVerifier", [real], from);
      const deployTx = rug.deploymentTransaction()!;
      const registerTx = await (market.connect(from) as any).registerCircuit(
        exampleRegistration("poseidon_preimage", "groth16", await rug.getAddress()),
        { gasLimit: GAS_LIMIT },
      );
      // Mined at once (automine is off), and read as `mine` reads receipts: ethers' wait() polls for blocks that
      // only the simulation makes.
      await provider.request({ method: "evm_mine", params: [] });
      const receipt = async (hash: string) => (await ethers.provider.getTransactionReceipt(hash))!;
      const deployed = await receipt(deployTx.hash);
      const registered = await receipt(registerTx.hash);
      if (registered.status !== 1) throw new Error("the rug-pull griefer's circuit registration reverted");
      if ((await latest()).timestamp >= start) throw new Error(`the simulation's set-up took over ${SETUP_SECONDS} s`);
      return {
        circuitId: registeredCircuitId(market, registered as ContractTransactionReceipt),
        rug,
        gasUsed: deployed.gasUsed + registered.gasUsed,
      };
    },
    /** The arguments of `postJob` for a job on the inputs of pooled proof `i`, or on the unprovable inputs; on the
     *  market's real circuit unless another is named. */
    request(
      i: number | "unprovable",
      fees: { minFee: bigint; maxFee: bigint; rampDuration: number },
      now: number,
      onCircuit: bigint = circuitId,
    ): Record<string, unknown> {
      const inputs = i === "unprovable" ? unprovable : documents[i];
      return {
        circuitId: onCircuit,
        minFee: fees.minFee,
        maxFee: fees.maxFee,
        rampStart: 0n,
        rampDuration: BigInt(fees.rampDuration),
        bond: scenario.bond,
        provingWindow: BigInt(scenario.provingWindow),
        expiresAt: BigInt(now + scenario.lifetime),
        inputsCommitment: inputs.commitment,
        inputsHash: inputs.hash,
        inputsURI: inputs.uri,
      };
    },
  };
}
export type SimChain = Awaited<ReturnType<typeof openSimChain>>;
