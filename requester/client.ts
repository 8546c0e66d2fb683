/**
 * The requester's side of ProofMarket as a TypeScript client: register a circuit, upload inputs and post a job,
 * follow its status, get the proof back and verify it, cancel or expire it. Used by the requester CLI
 * (requester/cli.ts), `npm start` and the end-to-end test.
 */
import { readFileSync } from "node:fs";
import {
  ContractFactory,
  formatUnits,
  type JsonRpcProvider,
  MaxUint256,
  type Wallet,
  toBeHex,
  zeroPadValue,
} from "ethers";
import { PROOF_SYSTEMS, type ProofSystem } from "../common/circuits/manifest.ts";
import { artifactFile, type LocatedManifest, manifestFor } from "../common/circuits/registeredManifest.ts";
import { connectMarket, connectToken } from "../common/contracts/artifacts.ts";
import type { CompiledContract } from "../common/contracts/solc.ts";
import { circuitRegistration, compileVerifiers, NO_BATCH_VERIFIER } from "../common/deploy/circuitRegistration.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../common/inputs/document.ts";
import { currentTerms, JobBook, type JobTerms } from "../common/market/jobBook.ts";
import { createMarketReader, jobTopics } from "../common/market/marketReader.ts";
import { FINAL_STATUSES, jobStatusName } from "../common/market/jobStatus.ts";
import { deadlineFrom, type PriceRamp, priceAt, RECENT_LOCKED_PRICES } from "../common/market/price.ts";
import { snarkjsProver } from "../common/proofs/prove.ts";
import { RequestError } from "./errors.ts";
import { checkRamp, type Pricing, rampOf } from "./pricing.ts";
import { proofFromChain, snarkjsJson } from "./proofs.ts";

export { RequestError } from "./errors.ts";

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

/** A job to post: its circuit and inputs, its price (a fixed fee or a ramp, requester/pricing.ts), its terms. */
export type PostRequest = {
  circuitId: bigint;
  /** The inputs document (every input signal, public and private). */
  inputs: Record<string, unknown>;
  bond: bigint;
  provingWindow: bigint;
  /** Seconds from now until the job expires. */
  expiresIn: number;
} & Pricing;

export interface PostedJob {
  jobId: bigint;
  inputsURI: string;
  inputsHash: string;
  /** The circuit has no public inputs: any proof of it fits the job (see postJob). */
  anyProofFits: boolean;
  /** The ramp as posted; its start is a unix second (the posting block's when the price rises from posting). */
  ramp: PriceRamp;
  expiresAt: bigint;
  /** What the market took into escrow: the maximum fee. */
  escrow: bigint;
}

/**
 * A job as the chain has it now. Its terms, and what follows from them (the deadline, the prices), come from the
 * job's events: null when the market's deployment block is not known (with --market and no --start-block).
 */
export interface JobReport {
  status: string;
  /**
   * The claim's holder (Claimed) or the prover paid (Proved: named by its JobProved event, as a proof clears the job's
   * storage; null when the market's start block is not known); the zero address otherwise.
   */
  assignee: string | null;
  /** The claim's attempt; a Proved job's only from its JobProved event (null without the market's start block). */
  attempt: number | null;
  terms: JobTerms | null;
  /** The second the live claim was made at (Claimed). */
  claimedAt: bigint | null;
  /** The live claim's deadline (Claimed). */
  deadline: bigint | null;
  /** What a claim would lock now (Open). */
  priceNow: bigint | null;
  /** What the live claim locked (Claimed): a proof is paid that. */
  lockedPrice: bigint | null;
  /** What the prover was paid (Proved). */
  paid: bigint | null;
  /** What the requester got back: the escrow less the price paid (Proved), all of it (Cancelled, Expired). */
  refund: bigint | null;
}

/** A circuit's recent locked prices (see `lockedPrices`), and where they were read. */
export type LockedPrices = {
  /** The price each of the latest RECENT_CLAIMS claims of the circuit's jobs locked. */
  prices: bigint[];
} & (
  | {
      source: "chain";
      /** The blocks read. */
      fromBlock: number;
      toBlock: number;
      /** Jobs of the circuit posted in those blocks: the claims read are theirs. */
      jobs: number;
    }
  | { source: "coordinator"; coordinator: string }
);

/**
 * How many claims a quote looks at, the latest: enough for a median, recent enough to be the going price; as many as
 * the coordinator's Circuit.recentLockedPrices and the subgraph keep, so both sources agree.
 */
export const RECENT_CLAIMS = RECENT_LOCKED_PRICES;

/**
 * POSTs JSON to the coordinator and reads its JSON answer; an unreachable coordinator, or an answer that is not
 * JSON, is refused with what to check, in one line (`otherwise` says what to do without a coordinator).
 */
async function postToCoordinator(
  coordinatorUrl: string,
  route: string,
  body: unknown,
  otherwise: string,
): Promise<{ response: Response; answer: Record<string, unknown> }> {
  const where = `the coordinator at ${coordinatorUrl}`;
  let response: Response;
  try {
    response = await fetch(`${coordinatorUrl}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new RequestError(
      `cannot reach ${where}: is it running? set --coordinator or PM_COORDINATOR_URL (${otherwise})`,
    );
  }
  try {
    return { response, answer: (await response.json()) as Record<string, unknown> };
  } catch {
    throw new RequestError(`${where} answered HTTP ${response.status} without JSON: is that URL a coordinator?`);
  }
}

/** Stores an inputs document at the coordinator; every way it can fail says what to check, in one line. */
async function uploadInputs(
  coordinatorUrl: string,
  circuitId: bigint,
  inputs: Record<string, unknown>,
): Promise<{ uri: string; hash: string }> {
  const where = `the coordinator at ${coordinatorUrl}`;
  const { response, answer } = await postToCoordinator(
    coordinatorUrl,
    `/inputs/${circuitId}`,
    inputs,
    "or leave it out to send the inputs inline as a data: URI",
  );
  const body = answer as { uri?: string; hash?: string; error?: string };
  if (!response.ok) throw new RequestError(`${where} refused the inputs: ${body.error ?? `HTTP ${response.status}`}`);
  if (typeof body.uri !== "string" || typeof body.hash !== "string")
    throw new RequestError(`${where} answered without an inputs URI and hash: is that URL a coordinator?`);
  return { uri: body.uri, hash: body.hash };
}

/** The prices the newest claims of a circuit's jobs locked, as the coordinator has indexed them (newest first). */
async function coordinatorLockedPrices(coordinatorUrl: string, circuitId: bigint): Promise<bigint[]> {
  const where = `the coordinator at ${coordinatorUrl}`;
  const otherwise = "or quote from the chain with --source chain";
  const { answer } = await postToCoordinator(
    coordinatorUrl,
    "/graphql",
    {
      query: "query Quote($id: ID!) { circuit(id: $id) { recentLockedPrices } }",
      variables: { id: circuitId.toString() },
    },
    otherwise,
  );
  const { data, errors } = answer as {
    data?: { circuit: { recentLockedPrices: string[] } | null } | null;
    errors?: { message: string }[];
  };
  if (errors !== undefined && errors.length > 0)
    throw new RequestError(`${where} refused the query: ${errors[0].message} (${otherwise})`);
  if (data === undefined || data === null)
    throw new RequestError(`${where} answered no data: is that URL a coordinator?`);
  if (data.circuit === null)
    throw new RequestError(`${where} has not indexed circuit ${circuitId} yet: wait for it to catch up (${otherwise})`);
  return data.circuit.recentLockedPrices.slice(0, RECENT_CLAIMS).map(BigInt);
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

  let tokenMeta: Promise<{ decimals: number; symbol: string }> | undefined;
  function tokenInfo(): Promise<{ decimals: number; symbol: string }> {
    tokenMeta ??= (async () => {
      const erc20 = connectToken(await market.token(), provider);
      return { decimals: Number(await erc20.decimals()), symbol: await erc20.symbol() };
    })();
    return tokenMeta;
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

    /** The market's token: its decimals and symbol, to read and show amounts in token units. */
    token: tokenInfo,

    /**
     * Checks the price (requester/pricing.ts: checkRamp) and the inputs against the circuit, stores the inputs
     * (coordinator upload, or a data: URI), approves the escrow (the maximum fee) and posts the job. Anything
     * refused is refused before anything is sent.
     */
    async postJob(request: PostRequest): Promise<PostedJob> {
      const ramp = rampOf(request);
      const { decimals, symbol } = await tokenInfo();
      checkRamp(
        ramp,
        { provingWindow: request.provingWindow, expiresIn: BigInt(request.expiresIn) },
        (amount) => `${formatUnits(amount, decimals)} ${symbol}`,
      );
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
      if ((await token.allowance(wallet.address, marketAddress)) < ramp.maxFee)
        await (await token.approve(marketAddress, MaxUint256)).wait();
      const now = BigInt((await provider.getBlock("latest"))!.timestamp);
      const receipt = await (
        await market.postJob({
          circuitId: request.circuitId,
          minFee: ramp.minFee,
          maxFee: ramp.maxFee,
          // 0 is "at posting" to the market, which writes the posting block's second.
          rampStart: ramp.rampStart === 0n ? 0n : now + ramp.rampStart,
          rampDuration: ramp.rampDuration,
          bond: request.bond,
          provingWindow: request.provingWindow,
          expiresAt: now + BigInt(request.expiresIn),
          inputsCommitment: parsed.inputsCommitment,
          inputsHash: stored.hash,
          inputsURI: stored.uri,
        })
      ).wait();
      const posted = receipt!.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted")!;
      const a = posted.args;
      return {
        jobId: a.jobId as bigint,
        inputsURI: stored.uri,
        inputsHash: stored.hash,
        // The market binds a proof to the job's public inputs only (DESIGN.md rule 3): with none, any proof of the
        // circuit fits, one made for another job or long before this one included.
        anyProofFits: circuit.nPublicInputs === 0,
        ramp: { minFee: a.minFee, maxFee: a.maxFee, rampStart: a.rampStart, rampDuration: a.rampDuration },
        expiresAt: a.expiresAt as bigint,
        escrow: a.maxFee as bigint,
      };
    },

    /**
     * The job's state, read at one block, with its terms and prices from its events when the market's deployment
     * block is known (the deadline and the locked price follow from the claim's second: common/market/price.ts).
     */
    async status(jobId: bigint): Promise<JobReport> {
      const head = (await provider.getBlock("latest"))!;
      const state = await market.jobState(jobId, { blockTag: head.number });
      const status = jobStatusName(state.status);
      if (status === "None") throw new RequestError(`no job ${jobId} on market ${marketAddress}`);
      const report: JobReport = {
        status,
        // A proof clears the state slot: a Proved job's prover and attempt are its JobProved event's (read below).
        attempt: status === "Proved" ? null : Number(state.attempt),
        assignee: status === "Proved" ? null : (state.assignee as string),
        terms: null,
        claimedAt: status === "Claimed" ? (state.claimedAt as bigint) : null,
        deadline: null,
        priceNow: null,
        lockedPrice: null,
        paid: null,
        refund: null,
      };
      if (startBlock === undefined) return report;
      const book = new JobBook();
      book.apply(await reader.scan(startBlock, jobTopics(jobId), head.number));
      const job = book.jobs.get(jobId);
      if (job === undefined) return report; // posted before the given start block
      const terms = job.terms;
      report.terms = terms;
      if (status === "Open") report.priceNow = priceAt(terms, BigInt(head.timestamp));
      if (report.claimedAt !== null) {
        report.deadline = deadlineFrom(terms, report.claimedAt);
        report.lockedPrice = priceAt(terms, report.claimedAt);
      }
      if (status === "Proved" && job.status === "Proved") {
        // A proof clears the job's state slot: the prover and the attempt are its JobProved event's.
        report.assignee = job.assignee!;
        report.attempt = Number(job.attempt);
      }
      if (status === "Proved" && job.price !== null) {
        report.paid = job.price;
        report.refund = terms.maxFee - job.price;
      }
      if (status === "Cancelled" || status === "Expired") report.refund = terms.maxFee;
      return report;
    },

    /**
     * Calls `onChange` on every change of status or attempt until the job is Proved, Cancelled or Expired. Polls
     * the job's state alone; its events are read again only when it changed.
     */
    async watch(
      jobId: bigint,
      onChange: (s: JobReport) => void,
      { pollMs = 1000, timeoutMs = Infinity } = {},
    ): Promise<string> {
      const started = Date.now();
      let last = "";
      for (;;) {
        const state = await market.jobState(jobId);
        let status: string = jobStatusName(state.status);
        if (`${status}/${state.attempt}` !== last) {
          // Read at a block of its own: it may be newer than the state polled, and is what is shown.
          const report = await this.status(jobId);
          status = report.status;
          last = `${status}/${report.attempt}`;
          onChange(report);
        }
        if (FINAL_STATUSES.has(status)) return status;
        if (Date.now() - started > timeoutMs) throw new RequestError(`job ${jobId} is still ${status}`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },

    /**
     * The prices that the latest RECENT_CLAIMS claims of a circuit's jobs locked. From the coordinator's GraphQL
     * (Circuit.recentLockedPrices) when `source` is "coordinator"; else from the chain: the jobs posted for the
     * circuit in the last `blocks` blocks (JobPosted, found by its indexed circuit id; never before the market's
     * deployment block, when known), then the claims of those jobs (JobClaimed) up to the head.
     */
    async lockedPrices(
      circuitId: bigint,
      { source, blocks }: { source: "chain" | "coordinator"; blocks: number },
    ): Promise<LockedPrices> {
      if (circuitId <= 0n || circuitId > BigInt(await market.circuitCount()))
        throw new RequestError(`no circuit ${circuitId} is registered on market ${marketAddress}`);
      if (source === "coordinator") {
        if (coordinatorUrl === undefined)
          throw new RequestError("quoting from a coordinator needs one: give --coordinator URL or PM_COORDINATOR_URL");
        const prices = await coordinatorLockedPrices(coordinatorUrl, circuitId);
        return { source, coordinator: coordinatorUrl, prices };
      }
      const toBlock = await reader.head();
      const fromBlock = Math.max(startBlock ?? 0, toBlock - blocks + 1, 0);
      const circuitTopic = zeroPadValue(toBeHex(circuitId), 32);
      const postedTopic = market.interface.getEvent("JobPosted").topicHash;
      const posted = await reader.scan(fromBlock, [postedTopic, null, circuitTopic], toBlock);
      const jobs = new Set(posted.map((e) => e.args.jobId as bigint));
      // A claim's job id is indexed, its circuit is not: the claims since the first such job are read and kept
      // when their job is one of these.
      const claimed =
        posted.length === 0
          ? []
          : await reader.scan(posted[0].blockNumber, [market.interface.getEvent("JobClaimed").topicHash], toBlock);
      const prices = claimed
        .filter((e) => jobs.has(e.args.jobId as bigint))
        .slice(-RECENT_CLAIMS)
        .map((e) => e.args.price as bigint);
      return { source, fromBlock, toBlock, jobs: jobs.size, prices };
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
