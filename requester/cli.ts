/**
 * requester: post proving jobs and get proofs back.
 *
 *   requester register <manifest.json> <groth16|plonk|fflonk> [--artifacts-uri URI]   deploy verifiers, register
 *   requester post --circuit ID --inputs FILE --fee AMOUNT --bond AMOUNT [--window SECONDS] [--expires-in SECONDS]
 *   requester status <jobId>
 *   requester watch <jobId>                      print each status change until Proved, Cancelled or Expired
 *   requester proof <jobId> [--out DIR]          proof.json + public.json from the proving transaction, verified
 *   requester cancel <jobId>                     refund an Open job
 *   requester expire <jobId>                     refund an expired job (anyone may)
 *
 * Chain: --rpc-url (PM_RPC_URL) and --market (PM_MARKET_ADDRESS) or --deployment (PM_DEPLOYMENT, an Ignition
 * deployment folder). Inputs go to --coordinator (PM_COORDINATOR_URL) when given, else inline as a data: URI.
 * Amounts are in token units (e.g. 2.5). The key: PM_PRIVATE_KEY, or --keystore FILE with PM_KEYSTORE_PASSWORD.
 * Exit status 2 means bad usage or input (the message says which), 1 a failure.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseUnits } from "ethers";
import { PROOF_SYSTEMS, type ProofSystem } from "../common/circuits/manifest.ts";
import { KeyError, loadWallet } from "../common/chain/keys.ts";
import { createProvider } from "../common/chain/provider.ts";
import { connectToken } from "../common/contracts/artifacts.ts";
import { describeRevert } from "../common/contracts/revert.ts";
import { readIgnitionDeployment } from "../common/deploy/ignitionDeployment.ts";
import { createRequester, RequestError } from "./client.ts";

class UsageError extends Error {}

const USAGE =
  "usage: requester <register | post | status | watch | proof | cancel | expire> ... (see requester/cli.ts)";

function jobIdOf(arg: string | undefined): bigint {
  if (arg === undefined || !/^\d+$/.test(arg))
    throw new UsageError(`expected a job id (a positive integer), got ${arg}`);
  return BigInt(arg);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "rpc-url": { type: "string" },
      market: { type: "string" },
      deployment: { type: "string" },
      coordinator: { type: "string" },
      keystore: { type: "string" },
      circuit: { type: "string" },
      inputs: { type: "string" },
      fee: { type: "string" },
      bond: { type: "string" },
      window: { type: "string", default: "300" },
      "expires-in": { type: "string", default: "3600" },
      out: { type: "string", default: "." },
      "artifacts-uri": { type: "string" },
    },
  });
  const [command, arg, arg2] = positionals;
  if (command === undefined) throw new UsageError(USAGE);
  const rpcUrl = values["rpc-url"] ?? process.env.PM_RPC_URL;
  if (rpcUrl === undefined) throw new UsageError("no chain: give --rpc-url or PM_RPC_URL");
  let marketAddress = values.market ?? process.env.PM_MARKET_ADDRESS;
  const deployment = values.deployment ?? process.env.PM_DEPLOYMENT;
  if (marketAddress === undefined && deployment !== undefined) {
    try {
      marketAddress = readIgnitionDeployment(deployment).market;
    } catch (e) {
      throw new UsageError(`--deployment: ${(e as Error).message}`);
    }
  }
  if (marketAddress === undefined || !/^0x[0-9a-fA-F]{40}$/.test(marketAddress))
    throw new UsageError("no market: give --market ADDRESS (or PM_MARKET_ADDRESS) or --deployment FOLDER");

  const provider = createProvider(rpcUrl);
  const wallet = await loadWallet(values.keystore);
  const requester = createRequester({
    provider,
    wallet,
    marketAddress,
    coordinatorUrl: values.coordinator ?? process.env.PM_COORDINATOR_URL,
  });
  const decimals = Number(await connectToken(await requester.market.token(), provider).decimals());
  const amount = (name: "fee" | "bond") => {
    const v = values[name];
    if (v === undefined || !/^\d+(\.\d+)?$/.test(v))
      throw new UsageError(`--${name}: expected a token amount, got ${v}`);
    return parseUnits(v, decimals);
  };
  const seconds = (name: "window" | "expires-in") => {
    const v = values[name]!;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected whole seconds, got ${v}`);
    return Number(v);
  };

  try {
    switch (command) {
      case "register": {
        if (arg === undefined || !PROOF_SYSTEMS.includes(arg2 as ProofSystem))
          throw new UsageError(`usage: requester register <manifest.json> <${PROOF_SYSTEMS.join("|")}>`);
        const id = await requester.registerCircuit(path.resolve(arg), arg2 as ProofSystem, values["artifacts-uri"]);
        console.log(JSON.stringify({ circuitId: id.toString() }));
        return 0;
      }
      case "post": {
        if (values.circuit === undefined || !/^\d+$/.test(values.circuit))
          throw new UsageError(`--circuit: expected a circuit id, got ${values.circuit}`);
        if (values.inputs === undefined) throw new UsageError("--inputs: give the inputs document (a JSON file)");
        let inputs: Record<string, unknown>;
        try {
          inputs = JSON.parse(readFileSync(values.inputs, "utf8"));
        } catch (e) {
          throw new UsageError(`--inputs ${values.inputs}: ${(e as Error).message}`);
        }
        const posted = await requester.postJob({
          circuitId: BigInt(values.circuit),
          inputs,
          fee: amount("fee"),
          bond: amount("bond"),
          provingWindow: BigInt(seconds("window")),
          expiresIn: seconds("expires-in"),
        });
        console.log(JSON.stringify({ ...posted, jobId: posted.jobId.toString() }));
        return 0;
      }
      case "status": {
        console.log(JSON.stringify(await requester.status(jobIdOf(arg))));
        return 0;
      }
      case "watch": {
        const end = await requester.watch(jobIdOf(arg), (s) => console.log(JSON.stringify(s)));
        return end === "Proved" ? 0 : 1;
      }
      case "proof": {
        const got = await requester.fetchProof(jobIdOf(arg));
        mkdirSync(values.out!, { recursive: true });
        writeFileSync(path.join(values.out!, "proof.json"), JSON.stringify(got.proof, null, 2));
        writeFileSync(path.join(values.out!, "public.json"), JSON.stringify(got.publicSignals, null, 2));
        writeFileSync(path.join(values.out!, "verification_key.json"), JSON.stringify(got.vkey, null, 2));
        console.log(JSON.stringify({ verified: got.verified, txHash: got.txHash, out: values.out }));
        return got.verified ? 0 : 1;
      }
      case "cancel":
        await requester.cancel(jobIdOf(arg));
        console.log(JSON.stringify({ cancelled: arg }));
        return 0;
      case "expire":
        await requester.expire(jobIdOf(arg));
        console.log(JSON.stringify({ expired: arg }));
        return 0;
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    provider.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    const usage = e instanceof UsageError || e instanceof RequestError || e instanceof KeyError;
    // A contract's refusal names its custom error and arguments.
    const refusal = describeRevert(e);
    console.error(usage ? e.message : refusal ? `the market refused: ${refusal}` : `error: ${e.message}`);
    process.exit(usage ? 2 : 1);
  },
);
