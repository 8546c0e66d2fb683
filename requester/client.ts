/**
 * The requester's side of ProofMarket as a TypeScript client: register a circuit, upload inputs and post a job,
 * follow its status, get the proof back and verify it, cancel or expire it. Used by the requester CLI
 * (requester/cli.ts), `npm start` and the end-to-end test.
 */
import { readFileSync } from "node:fs";
import { ContractFactory, type JsonRpcProvider, MaxUint256, type Wallet } from "ethers";
import { PROOF_SYSTEMS, type ProofSystem } from "../common/circuits/manifest.ts";
import { artifactFile, type LocatedManifest, manifestFor } from "../common/circuits/registeredManifest.ts";
import { connectMarket, connectToken } from "../common/contracts/artifacts.ts";
import type { CompiledContract } from "../common/contracts/solc.ts";
import { circuitRegistration, compileVerifiers, NO_BATCH_VERIFIER } from "../common/deploy/circuitRegistration.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../common/inputs/document.ts";
import { currentTerms, type JobTerms } from "../common/market/jobBook.ts";
import { createMarketReader, jobTopics } from "../common/market/marketReader.ts";
import { jobStatusName } from "../common/market/jobStatus.ts";
import { snarkjsProver } from "../common/proofs/prove.ts";
import { proofFromChain, snarkjsJson } from "./proofs.ts";

export interface RequesterOptions {
  provider: JsonRpcProvider;
  wallet: Wallet;
  marketAddress: string;
  /** A coordinator's base URL: inputs are uploaded there (validated, content-addressed); else sent as data: URIs. */
  coordinatorUrl?: string;
  /**
   * The market's deployment block: a job's events (for its current terms and its proof) are looked for from there.
   * Commands that read events refuse to run without it.
   */
  startBlock?: number;
}

export interface PostRequest {
  circuitId: bigint;
  /** The inputs document (every input signal, public and private). */
  inputs: Record<string, unknown>;
  fee: bigint;
  bond: bigint;
  provingWindow: bigint;
  /** Seconds from now until the job expires. */
  expiresIn: number;
}

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

const TERMINAL = ["Proved", "Cancelled", "Expired"];

/** Stores an inputs document at the coordinator; every way it can fail says what to check, in one line. */
async function uploadInputs(
  coordinatorUrl: string,
  circuitId: bigint,
  inputs: Record<string, unknown>,
): Promise<{ uri: string; hash: string }> {
  const where = `the coordinator at ${coordinatorUrl}`;
  let response: Response;
  try {
    response = await fetch(`${coordinatorUrl}/inputs/${circuitId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(inputs),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new RequestError(
      `cannot reach ${where}: is it running? set --coordinator or PM_COORDINATOR_URL (or leave it out to send ` +
        "the inputs inline as a data: URI)",
    );
  }
  let body: { uri?: string; hash?: string; error?: string };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new RequestError(`${where} answered HTTP ${response.status} without JSON: is that URL a coordinator?`);
  }
  if (!response.ok) throw new RequestError(`${where} refused the inputs: ${body.error ?? `HTTP ${response.status}`}`);
  if (typeof body.uri !== "string" || typeof body.hash !== "string")
    throw new RequestError(`${where} answered without an inputs URI and hash: is that URL a coordinator?`);
  return { uri: body.uri, hash: body.hash };
}

export function createRequester({ provider, wallet, marketAddress, coordinatorUrl, startBlock }: RequesterOptions) {
  const signer = wallet.connect(provider);
  const market = connectMarket(marketAddress, signer);
  const reader = createMarketReader({ provider, address: marketAddress });

  /** Where a job's events are looked for from: the market's deployment block. */
  function eventsFrom(jobId: bigint): number {
    if (startBlock === undefined)
      throw new RequestError(
        `finding job ${jobId}'s events needs the market's deployment block: give --start-block N with --market ` +
          "(or --deployment FOLDER, which records it)",
      );
    return startBlock;
  }

  /** The manifest a registered circuit points at, and its proof system. */
  async function manifestOf(
    circuitId: bigint,
  ): Promise<{ located: LocatedManifest; system: ProofSystem; nPublicInputs: number }> {
    if (circuitId <= 0n || circuitId > BigInt(await market.circuitCount()))
      throw new RequestError(`no circuit ${circuitId} is registered on market ${marketAddress}`);
    const circuit = await market.circuit(circuitId);
    const located = manifestFor(circuit.artifactsURI);
    if (located === null)
      throw new RequestError(`circuit ${circuitId}'s manifest ${circuit.artifactsURI} cannot be read here`);
    return { located, system: PROOF_SYSTEMS[Number(circuit.system)], nPublicInputs: Number(circuit.nPublicInputs) };
  }

  async function termsOf(jobId: bigint): Promise<JobTerms> {
    const terms = await currentTerms(reader, eventsFrom(jobId), jobId);
    if (terms === null) throw new RequestError(`no job ${jobId} on market ${marketAddress}`);
    return terms;
  }

  async function deploy(artifact: CompiledContract): Promise<string> {
    const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy();
    await contract.waitForDeployment();
    return contract.getAddress();
  }

  return {
    market,

    /**
     * Compiles the circuit's verifier (and Groth16 batch verifier) from the sources its manifest names, deploys
     * them and registers the circuit; returns its id. Any built circuit registers, with no Hardhat build.
     */
    async registerCircuit(manifestFile: string, system: ProofSystem, artifactsURI?: string): Promise<bigint> {
      const registration = circuitRegistration(manifestFile, system, artifactsURI);
      const compiled = compileVerifiers(manifestFile, system);
      const verifier = await deploy(compiled.verifier);
      const batchVerifier = compiled.batchVerifier ? await deploy(compiled.batchVerifier) : NO_BATCH_VERIFIER;
      const receipt = await (await market.registerCircuit(registration.entry(verifier, batchVerifier))).wait();
      const event = receipt!.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "CircuitRegistered");
      return event!.args.circuitId as bigint;
    },

    /**
     * Checks the inputs against the circuit, stores them (coordinator upload, or a data: URI), approves the fee and
     * posts the job. Returns its id. Inputs that do not fit the circuit are refused before anything is sent.
     */
    async postJob(
      request: PostRequest,
    ): Promise<{ jobId: bigint; inputsURI: string; inputsHash: string; anyProofFits: boolean }> {
      const circuit = await manifestOf(request.circuitId);
      const { manifest } = circuit.located;
      let parsed;
      try {
        parsed = parseInputsDocument(manifest, request.inputs);
      } catch (e) {
        throw new RequestError(`inputs do not fit ${manifest.name}: ${(e as Error).message}`);
      }
      let stored: { uri: string; hash: string };
      if (coordinatorUrl !== undefined) {
        stored = await uploadInputs(coordinatorUrl, request.circuitId, request.inputs);
      } else {
        const { uri, bytes } = inputsDataURI(request.inputs);
        stored = { uri, hash: sha256Hex(bytes) };
      }
      const token = connectToken(await market.token(), signer);
      if ((await token.allowance(wallet.address, marketAddress)) < request.fee)
        await (await token.approve(marketAddress, MaxUint256)).wait();
      const now = (await provider.getBlock("latest"))!.timestamp;
      const receipt = await (
        await market.postJob({
          circuitId: request.circuitId,
          fee: request.fee,
          bond: request.bond,
          provingWindow: request.provingWindow,
          expiresAt: BigInt(now + request.expiresIn),
          inputsCommitment: parsed.inputsCommitment,
          inputsHash: stored.hash,
          inputsURI: stored.uri,
        })
      ).wait();
      const posted = receipt!.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted");
      return {
        jobId: posted!.args.jobId as bigint,
        inputsURI: stored.uri,
        inputsHash: stored.hash,
        // The market binds a proof to the job's public inputs only (DESIGN.md rule 3): with none, any proof of the
        // circuit fits, one made for another job or long before this one included.
        anyProofFits: circuit.nPublicInputs === 0,
      };
    },

    async status(jobId: bigint) {
      const state = await market.jobState(jobId);
      if (jobStatusName(state.status) === "None") throw new RequestError(`no job ${jobId} on market ${marketAddress}`);
      return {
        status: jobStatusName(state.status),
        attempt: Number(state.attempt),
        assignee: state.assignee as string,
      };
    },

    /** Calls `onChange` on every change of status or attempt until the job is Proved, Cancelled or Expired. */
    async watch(
      jobId: bigint,
      onChange: (s: { status: string; attempt: number; assignee: string }) => void,
      { pollMs = 1000, timeoutMs = Infinity } = {},
    ): Promise<string> {
      const started = Date.now();
      let last = "";
      for (;;) {
        const s = await this.status(jobId);
        const key = `${s.status}/${s.attempt}`;
        if (key !== last) onChange(s);
        last = key;
        if (TERMINAL.includes(s.status)) return s.status;
        if (Date.now() - started > timeoutMs) throw new RequestError(`job ${jobId} is still ${s.status}`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },

    /** The proof and public signals of a proved job, from its proving transaction, verified against the vkey. */
    async fetchProof(jobId: bigint) {
      const [proved] = await reader.scan(eventsFrom(jobId), jobTopics(jobId, ["JobProved"]));
      if (proved === undefined) throw new RequestError(`job ${jobId} has not been proved`);
      const chainProof = await proofFromChain(market, provider, jobId, proved.txHash);
      const { located, system } = await manifestOf(chainProof.circuitId);
      const json = snarkjsJson(chainProof);
      const vkey = JSON.parse(readFileSync(artifactFile(located, system, "vkey")!.path, "utf8"));
      const verified = await snarkjsProver(system).verify(vkey, json.publicSignals, json.proof);
      return { ...json, vkey, verified, txHash: chainProof.txHash };
    },

    async cancel(jobId: bigint): Promise<void> {
      await (await market.cancel(jobId, await termsOf(jobId))).wait();
    },

    async expire(jobId: bigint): Promise<void> {
      await (await market.expire(jobId, await termsOf(jobId))).wait();
    },
  };
}

export type Requester = ReturnType<typeof createRequester>;
