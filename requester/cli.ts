#!/usr/bin/env node
/**
 * proofmarket-requester: post proving jobs and get proofs back (`--help` lists the commands and options). Usage
 * errors exit 2, failures that are not the user's input exit 1 (and `watch` exits 1 when the job ends unproved).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Option } from "commander";
import { type JsonRpcProvider } from "ethers";
import { KeyError, loadWallet } from "../common/chain/keys.ts";
import { ManifestError, PROOF_SYSTEMS, type ProofSystem, readManifest } from "../common/circuits/manifest.ts";
import { connectChain, marketOf } from "../common/cli/chain.ts";
import { addFaucetCommand } from "../common/cli/faucet.ts";
import { checkAmount, createProgram, runProgram, toBaseUnits, UsageError } from "../common/cli/program.ts";
import { connectToken } from "../common/contracts/artifacts.ts";
import { FaucetRefused } from "../common/deploy/faucet.ts";
import { createRequester, RequestError } from "./client.ts";

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
      "the market's deployment block, where a job's events are looked for (needed with --market by cancel, expire, proof)",
    ).env("PM_START_BLOCK"),
  )
  .addOption(
    new Option("--coordinator <url>", "coordinator for inputs uploads (default: inline data: URI)").env(
      "PM_COORDINATOR_URL",
    ),
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
Example: proofmarket-requester post --circuit 1 --inputs inputs.json --fee 3 --bond 2`,
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

program
  .command("post")
  .description("post a job: checks the inputs against the circuit, escrows the fee; prints the job (JSON)")
  .requiredOption("--circuit <id>", "the circuit's id")
  .requiredOption("--inputs <file>", "the inputs document (JSON: every input signal of the circuit)")
  .requiredOption("--fee <amount>", "paid to the prover, in token units")
  .requiredOption("--bond <amount>", "the prover's stake locked by its claim, in token units")
  .option("--window <seconds>", "the proving window a claim gets", "300")
  .option("--expires-in <seconds>", "the job expires this long after posting", "3600")
  .action(
    async (opts: { circuit: string; inputs: string; fee: string; bond: string; window: string; expiresIn: string }) => {
      if (!/^\d+$/.test(opts.circuit)) throw new UsageError(`--circuit: expected a circuit id, got ${opts.circuit}`);
      checkAmount("--fee", opts.fee);
      checkAmount("--bond", opts.bond);
      const provingWindow = wholeSeconds("--window", opts.window);
      const expiresIn = wholeSeconds("--expires-in", opts.expiresIn);
      let inputs: Record<string, unknown>;
      try {
        inputs = JSON.parse(readFileSync(opts.inputs, "utf8"));
      } catch (e) {
        throw new UsageError(`--inputs ${opts.inputs}: ${(e as Error).message}`);
      }
      const { requester, provider } = await connect();
      // Only amounts need the token's decimals: asked here, not on every command.
      const decimals = Number(await connectToken(await requester.market.token(), provider).decimals());
      const posted = await requester.postJob({
        circuitId: BigInt(opts.circuit),
        inputs,
        fee: toBaseUnits(opts.fee, decimals),
        bond: toBaseUnits(opts.bond, decimals),
        provingWindow: BigInt(provingWindow),
        expiresIn,
      });
      const { anyProofFits, ...job } = posted;
      console.log(JSON.stringify({ ...job, jobId: posted.jobId.toString() }));
      if (anyProofFits)
        console.error(
          `warning: circuit ${opts.circuit} has no public inputs, so any proof of it fits job ${posted.jobId}, one ` +
            "made for another job or before this one included: if you need a fresh proof, give the circuit a public " +
            "input that is unique to the job (a nonce)",
        );
    },
  );

program
  .command("status")
  .description("a job's status and terms (JSON)")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    console.log(JSON.stringify(await requester.status(id)));
  });

program
  .command("watch")
  .description("print each status change until Proved, Cancelled or Expired (exit 1 unless Proved)")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    const end = await requester.watch(id, (s) => console.log(JSON.stringify(s)));
    if (end !== "Proved") process.exitCode = 1;
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
  .description("cancel an Open job: the fee comes back (withdraw it from the market)")
  .argument("<jobId>")
  .action(async (jobId: string) => {
    const id = jobIdOf(jobId);
    const { requester } = await connect();
    await requester.cancel(id);
    console.log(JSON.stringify({ cancelled: jobId }));
  });

program
  .command("expire")
  .description("expire a job past its expiry (anyone may): the fee goes back to its requester")
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
