#!/usr/bin/env node
/**
 * proofmarket-requester: post proving jobs and get proofs back (`--help` lists the commands and options). Usage
 * errors exit 2, failures that are not the user's input exit 1 (and `watch` exits 1 when the job ends unproved).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Option } from "commander";
import { formatUnits, type JsonRpcProvider } from "ethers";
import { KeyError, loadWallet } from "../common/chain/keys.ts";
import { ManifestError, PROOF_SYSTEMS, type ProofSystem, readManifest } from "../common/circuits/manifest.ts";
import { connectChain, marketOf } from "../common/cli/chain.ts";
import { addFaucetCommand } from "../common/cli/faucet.ts";
import { checkAmount, createProgram, runProgram, toBaseUnits, UsageError } from "../common/cli/program.ts";
import { FaucetRefused } from "../common/deploy/faucet.ts";
import { createRequester, type JobReport, RECENT_CLAIMS, RequestError, type Requester } from "./client.ts";
import {
  DEFAULT_RAMP_SECONDS,
  explainSuggestion,
  type Pricing,
  rampOf,
  shortestGentleRamp,
  steepRise,
  SUGGEST_ABOVE_PERCENT,
  SUGGEST_BELOW_PERCENT,
  suggestRamp,
} from "./pricing.ts";

let provider: JsonRpcProvider | undefined;

interface ChainOptions {
  rpcUrl?: string;
  market?: string;
  deployment?: string;
  startBlock?: string;
  coordinator?: string;
  keystore?: string;
}

const program = createProgram("proofmarket-requester", "Post ProofMarket proving jobs and get their proofs back.")
  .addOption(new Option("--rpc-url <url>", "JSON-RPC URL of the chain").env("PM_RPC_URL"))
  .addOption(new Option("--market <address>", "the market's address").env("PM_MARKET_ADDRESS"))
  .addOption(
    new Option("--deployment <folder>", "an Ignition deployment folder, instead of --market").env("PM_DEPLOYMENT"),
  )
  .addOption(
    new Option(
      "--start-block <n>",
      "the market's deployment block, where a job's events are looked for (needed with --market by cancel, expire, proof; status shows a job's prices with it)",
    ).env("PM_START_BLOCK"),
  )
  .addOption(
    new Option(
      "--coordinator <url>",
      "coordinator for inputs uploads (default: inline data: URI) and quote's prices (default: from the chain)",
    ).env("PM_COORDINATOR_URL"),
  )
  .addOption(
    new Option(
      "--keystore <file>",
      "encrypted JSON keystore (password in PM_KEYSTORE_PASSWORD); else PM_PRIVATE_KEY",
    ).env("PM_KEYSTORE"),
  )
  .addHelpText(
    "after",
    `
Amounts are in token units (e.g. 2.5). Paths resolve against the current directory.
Examples: proofmarket-requester quote --circuit 1
          proofmarket-requester post --circuit 1 --inputs inputs.json --max-fee 3 --bond 2
          proofmarket-requester post --circuit 1 --inputs inputs.json --fee 3 --bond 2   (a fixed price)`,
  );

async function connect() {
  const values = program.opts<ChainOptions>();
  if (!values.rpcUrl) throw new UsageError("no chain: give --rpc-url URL or PM_RPC_URL");
  const { address: marketAddress, startBlock } = marketOf(values);
  const wallet = await loadWallet(values.keystore);
  provider = await connectChain(values.rpcUrl);
  const requester = createRequester({
    provider,
    wallet,
    marketAddress,
    startBlock,
    coordinatorUrl: values.coordinator,
  });
  return { requester, wallet, provider, marketAddress };
}

function jobIdOf(text: string): bigint {
  if (!/^\d+$/.test(text)) throw new UsageError(`expected a job id (a positive integer), got ${text}`);
  return BigInt(text);
}

function wholeSeconds(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: expected whole seconds, got ${text}`);
  return Number(text);
}

program
  .command("register")
  .description("deploy a circuit's verifiers and register it; prints { circuitId }")
  .argument("<manifest>", "the circuit's manifest.json")
  .argument("<system>", PROOF_SYSTEMS.join(" | "))
  .option("--artifacts-uri <uri>", "where provers find the manifest (default: its path in this repository)")
  .action(async (manifest: string, system: string, opts: { artifactsUri?: string }) => {
    if (!PROOF_SYSTEMS.includes(system as ProofSystem))
      throw new UsageError(`<system>: expected one of ${PROOF_SYSTEMS.join(", ")}, got ${system}`);
    // The build is checked before the chain is touched.
    const built = Object.keys(readManifest(path.resolve(manifest)).systems);
    if (!built.includes(system))
      throw new UsageError(`${manifest} has no ${system} setup (built: ${built.join(", ")}); build it with --systems`);
    const { requester } = await connect();
    const id = await requester.registerCircuit(path.resolve(manifest), system as ProofSystem, opts.artifactsUri);
    console.log(JSON.stringify({ circuitId: id.toString() }));
  });

/** The market token's amounts in token units, as every command shows them. */
async function unitsOf(requester: Requester): Promise<(amount: bigint) => string> {
  const { decimals } = await requester.token();
  return (amount) => formatUnits(amount, decimals);
}

interface PostOptions {
  circuit: string;
  inputs: string;
  fee?: string;
  maxFee?: string;
  minFee?: string;
  ramp?: string;
  rampDelay?: string;
  bond: string;
  window: string;
  expiresIn: string;
}

program
  .command("post")
  .description(
    "post a job: checks its price and inputs, escrows the maximum fee; prints the job, its price ramp and escrow (JSON)",
  )
  .requiredOption("--circuit <id>", "the circuit's id")
  .requiredOption("--inputs <file>", "the inputs document (JSON: every input signal of the circuit)")
  .option(
    "--max-fee <amount>",
    "the most the prover is paid: the price the ramp rises to, escrowed at posting (what is not paid comes back)",
  )
  .option("--min-fee <amount>", "the price the job opens at (default: a tenth of --max-fee)")
  .option(
    "--ramp <seconds>",
    `how long the price takes to rise from --min-fee to --max-fee (default: ${DEFAULT_RAMP_SECONDS})`,
  )
  .option("--ramp-delay <seconds>", "the price stays at --min-fee this long after posting before it rises (default: 0)")
  .addOption(
    new Option(
      "--fee <amount>",
      "a fixed price instead of a ramp: the prover is paid this, escrowed at posting",
    ).conflicts(["maxFee", "minFee", "ramp", "rampDelay"]),
  )
  .requiredOption("--bond <amount>", "the prover's stake locked by its claim, in token units")
  .option("--window <seconds>", "the proving window a claim gets", "300")
  .option("--expires-in <seconds>", "the job expires this long after posting", "3600")
  .addHelpText(
    "after",
    `
Pricing is a reverse Dutch auction: the job opens at --min-fee and its price rises every second to --max-fee
over --ramp seconds; the first prover to claim locks the price of its block's second. --max-fee is escrowed
when the job is posted, and what the prover is not paid comes back to you (withdraw it from the market).
For a fixed price give --fee alone. \`quote --circuit ID\` suggests the three from the prices that recent
claims of the circuit locked.

Why the defaults (--min-fee a tenth of --max-fee, --ramp ${DEFAULT_RAMP_SECONDS}): a prover claims in the first block at or
above its own price, so it is paid at most one block's rise above it. Over ${DEFAULT_RAMP_SECONDS} s a 12 s block raises
the price by (max - min)/50: at most 2% of --max-fee whatever the minimum (1.8% with the default one), and
post warns when your ramp rises faster. Opening at a tenth rather than 0 starts below any price a prover
would plausibly take without spending the ramp's first minute on prices nobody takes; ten minutes in all
keeps the wait short beside the default hour before expiry.

The ramp must end while a claim still gets its whole --window before the job expires (--ramp-delay +
--ramp <= --expires-in - --window): after that the top of the ramp would be offered only with a shorter
window, or not at all. A post that breaks this is refused, with the values that would fit.`,
  )
  .action(async (opts: PostOptions) => {
    if (!/^\d+$/.test(opts.circuit)) throw new UsageError(`--circuit: expected a circuit id, got ${opts.circuit}`);
    if (opts.minFee !== undefined && opts.maxFee === undefined)
      throw new UsageError("--min-fee needs --max-fee: the price rises from the minimum to the maximum you give");
    if (opts.fee === undefined && opts.maxFee === undefined)
      throw new UsageError(
        "no price: give --max-fee AMOUNT (the most a prover is paid; the price rises to it from --min-fee over " +
          "--ramp) or --fee AMOUNT (a fixed price); `quote --circuit ID` suggests a ramp",
      );
    for (const [flag, text] of [
      ["--fee", opts.fee],
      ["--max-fee", opts.maxFee],
      ["--min-fee", opts.minFee],
      ["--bond", opts.bond],
    ] as const)
      if (text !== undefined) checkAmount(flag, text);
    const rampDuration = opts.ramp === undefined ? undefined : BigInt(wholeSeconds("--ramp", opts.ramp));
    const rampDelay = opts.rampDelay === undefined ? undefined : BigInt(wholeSeconds("--ramp-delay", opts.rampDelay));
    const provingWindow = wholeSeconds("--window", opts.window);
    const expiresIn = wholeSeconds("--expires-in", opts.expiresIn);
    let inputs: Record<string, unknown>;
    try {
      inputs = JSON.parse(readFileSync(opts.inputs, "utf8"));
    } catch (e) {
      throw new UsageError(`--inputs ${opts.inputs}: ${(e as Error).message}`);
    }
    const { requester } = await connect();
    // Only amounts need the token's decimals: asked here, not on every command.
    const { decimals } = await requester.token();
    const amount = (text: string) => toBaseUnits(text, decimals);
    const pricing: Pricing =
      opts.fee !== undefined
        ? { fee: amount(opts.fee) }
        : {
            maxFee: amount(opts.maxFee!),
            minFee: opts.minFee === undefined ? undefined : amount(opts.minFee),
            rampDuration,
            rampDelay,
          };
    const units = (v: bigint) => formatUnits(v, decimals);
    const ramp = rampOf(pricing);
    const rise = ramp.minFee <= ramp.maxFee ? steepRise(ramp) : null;
    if (rise !== null)
      console.error(
        `warning: the price rises by ${units(rise)} every 12 s block, more than 2% of --max-fee: a prover claims ` +
          "in the first block at or above its price and may be paid up to that much above it; a ramp of " +
          `${shortestGentleRamp(ramp.minFee, ramp.maxFee)} s or more rises by less`,
      );
    const posted = await requester.postJob({
      circuitId: BigInt(opts.circuit),
      inputs,
      ...pricing,
      bond: amount(opts.bond),
      provingWindow: BigInt(provingWindow),
      expiresIn,
    });
    console.log(
      JSON.stringify({
        jobId: posted.jobId.toString(),
        inputsURI: posted.inputsURI,
        inputsHash: posted.inputsHash,
        minFee: units(posted.ramp.minFee),
        maxFee: units(posted.ramp.maxFee),
        rampStart: Number(posted.ramp.rampStart),
        rampDuration: Number(posted.ramp.rampDuration),
        escrow: units(posted.escrow),
        expiresAt: Number(posted.expiresAt),
      }),
    );
    if (posted.anyProofFits)
      console.error(
        `warning: circuit ${opts.circuit} has no public inputs, so any proof of it fits job ${posted.jobId}, one ` +
          "made for another job or before this one included: if you need a fresh proof, give the circuit a public " +
          "input that is unique to the job (a nonce)",
      );
  });

/** A job's report as JSON: amounts in token units, times in unix seconds, and only what applies to its status. */
function reportJson(report: JobReport, units: (amount: bigint) => string): Record<string, unknown> {
  const { terms } = report;
  const out: Record<string, unknown> = { status: report.status };
  // Null for a Proved job whose events were not read: its state slot no longer holds them.
  if (report.attempt !== null) out.attempt = report.attempt;
  if (report.assignee !== null) out.assignee = report.assignee;
  if (terms !== null)
    Object.assign(out, {
      minFee: units(terms.minFee),
      maxFee: units(terms.maxFee),
      rampStart: Number(terms.rampStart),
      rampDuration: Number(terms.rampDuration),
      expiresAt: Number(terms.expiresAt),
    });
  for (const key of ["claimedAt", "deadline"] as const) if (report[key] !== null) out[key] = Number(report[key]);
  for (const key of ["priceNow", "lockedPrice", "paid", "refund"] as const)
    if (report[key] !== null) out[key] = units(report[key]);
  return out;
}

/** Without the market's deployment block a job's events cannot be found: say what more the status would show. */
function noteWithoutEvents(report: JobReport): void {
  if (report.terms === null)
    console.error(
      "note: the job's price and deadline (and a proved job's prover) come from its events: give --start-block N (the market's deployment " +
        "block) with --market, or --deployment FOLDER, to see them",
    );
}

program
  .command("status")
  .description(
    "a job's status, terms and prices (JSON): the price now (Open), the locked price and deadline (Claimed), the price paid and your refund (Proved), the refund (Cancelled, Expired)",
  )
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    const report = await requester.status(id);
    noteWithoutEvents(report);
    console.log(JSON.stringify(reportJson(report, await unitsOf(requester))));
  });

program
  .command("watch")
  .description("print each status change, as status does, until Proved, Cancelled or Expired (exit 1 unless Proved)")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    const units = await unitsOf(requester);
    let noted = false;
    const end = await requester.watch(id, (report) => {
      if (!noted) noteWithoutEvents(report);
      noted = true;
      console.log(JSON.stringify(reportJson(report, units)));
    });
    if (end !== "Proved") process.exitCode = 1;
  });

const DEFAULT_QUOTE_BLOCKS = "50000";

program
  .command("quote")
  .description(
    "suggest --min-fee, --max-fee and --ramp for a circuit from the prices that recent claims of its jobs locked",
  )
  .requiredOption("--circuit <id>", "the circuit's id")
  .addOption(
    new Option(
      "--source <where>",
      "where the prices are read (default: the coordinator when one is given, else the chain)",
    ).choices(["chain", "coordinator"]),
  )
  .option(
    "--blocks <n>",
    "from the chain: the jobs posted in this many latest blocks (about a week of 12 s blocks), and their claims",
    DEFAULT_QUOTE_BLOCKS,
  )
  .option("--json", "print the quote as JSON")
  .addHelpText(
    "after",
    `
It takes the prices the latest ${RECENT_CLAIMS} claims of the circuit's jobs locked: from the coordinator's GraphQL
(Circuit.recentLockedPrices) when --coordinator or PM_COORDINATOR_URL is given, else from the chain (the
circuit's jobs posted in the last --blocks blocks, never before --start-block, and their claims). It suggests a
minimum ${SUGGEST_BELOW_PERCENT}% below the lowest price, a maximum ${SUGGEST_ABOVE_PERCENT}% above the highest, and the shortest whole-minute ramp that
rises by at most 2% of the maximum per 12 s block, and says why. With no price to go by it says so, tells how
to choose by hand, and exits 1.`,
  )
  .action(async (opts: { circuit: string; source?: "chain" | "coordinator"; blocks: string; json?: boolean }) => {
    if (!/^\d+$/.test(opts.circuit)) throw new UsageError(`--circuit: expected a circuit id, got ${opts.circuit}`);
    if (!/^[1-9]\d*$/.test(opts.blocks))
      throw new UsageError(`--blocks: expected a number of blocks (1 or more), got ${opts.blocks}`);
    const source = opts.source ?? (program.opts<ChainOptions>().coordinator ? "coordinator" : "chain");
    const { requester } = await connect();
    const { symbol } = await requester.token();
    const units = await unitsOf(requester);
    const money = (amount: bigint) => `${units(amount)} ${symbol}`;
    const seen = await requester.lockedPrices(BigInt(opts.circuit), { source, blocks: Number(opts.blocks) });
    const suggestion = suggestRamp(seen.prices);
    // Where the prices were read (the source, its blocks or its URL), for the JSON.
    const from = Object.fromEntries(Object.entries(seen).filter(([key]) => key !== "prices"));
    const where =
      seen.source === "chain"
        ? `circuit ${opts.circuit}, blocks ${seen.fromBlock}..${seen.toBlock}`
        : `circuit ${opts.circuit}, from the coordinator at ${seen.coordinator}`;
    if (suggestion === null) {
      const advice =
        "choose by hand: --max-fee, the most you would pay for a proof (it is escrowed, and what the prover is " +
        "not paid comes back); --min-fee, a tenth of it by default; --ramp, 600 s by default (a 12 s block then " +
        "raises the price by at most 2% of the maximum)" +
        (seen.source === "chain" ? "; or look further back with --blocks" : "");
      const why =
        seen.source === "chain"
          ? `no claim of its ${seen.jobs} job(s) posted there locked a price`
          : "no claim of its jobs has locked a price";
      if (opts.json)
        console.log(JSON.stringify({ circuitId: opts.circuit, ...from, prices: 0, suggestion: null, why, advice }));
      else console.log(`${where}: ${why}.\nNo price to go by: ${advice}.`);
      process.exitCode = 1;
      return;
    }
    const args = `--min-fee ${units(suggestion.minFee)} --max-fee ${units(suggestion.maxFee)} --ramp ${suggestion.rampDuration}`;
    const why = explainSuggestion(suggestion, money);
    if (opts.json) {
      console.log(
        JSON.stringify({
          circuitId: opts.circuit,
          ...from,
          prices: suggestion.count,
          lowest: units(suggestion.lowest),
          median: units(suggestion.median),
          highest: units(suggestion.highest),
          suggestion: {
            minFee: units(suggestion.minFee),
            maxFee: units(suggestion.maxFee),
            rampDuration: Number(suggestion.rampDuration),
            medianAfter: Number(suggestion.medianAfter),
          },
          post: args,
          why,
        }),
      );
      return;
    }
    const claims = seen.source === "chain" ? `from claims of ${seen.jobs} job(s)` : "of the newest claims";
    console.log(
      `${where}: ${suggestion.count} locked price(s) ${claims}: lowest ${money(suggestion.lowest)}, median ` +
        `${money(suggestion.median)}, highest ${money(suggestion.highest)}\n` +
        `suggested: post ${args}\n` +
        `  --min-fee ${units(suggestion.minFee)}: ${why.minFee}\n` +
        `  --max-fee ${units(suggestion.maxFee)}: ${why.maxFee}\n` +
        `  --ramp ${suggestion.rampDuration}: ${why.ramp}`,
    );
  });

program
  .command("proof")
  .description("proof.json, public.json, verification_key.json from the proving transaction, verified")
  .argument("<jobId>")
  .option("-o, --out <dir>", "where to write them", ".")
  .action(async (jobId: string, opts: { out: string }) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    const got = await requester.fetchProof(id);
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(path.join(opts.out, "proof.json"), JSON.stringify(got.proof, null, 2));
    writeFileSync(path.join(opts.out, "public.json"), JSON.stringify(got.publicSignals, null, 2));
    writeFileSync(path.join(opts.out, "verification_key.json"), JSON.stringify(got.vkey, null, 2));
    console.log(JSON.stringify({ verified: got.verified, txHash: got.txHash, out: opts.out }));
    if (!got.verified) process.exitCode = 1;
  });

program
  .command("cancel")
  .description("cancel an Open job: its escrow (the maximum fee) comes back (withdraw it from the market)")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    await requester.cancel(id);
    console.log(JSON.stringify({ cancelled: jobId }));
  });

program
  .command("expire")
  .description("expire a job past its expiry (anyone may): its escrow (the maximum fee) goes back to its requester")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    await requester.expire(id);
    console.log(JSON.stringify({ expired: jobId }));
  });

addFaucetCommand(program, async () => {
  const { wallet, provider, marketAddress } = await connect();
  return { signer: wallet.connect(provider), marketAddress };
});

await runProgram(program, process.argv.slice(2), {
  userErrors: [RequestError, KeyError, FaucetRefused, ManifestError],
  provider: () => provider,
});
