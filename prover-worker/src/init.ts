/**
 * `proofmarket-worker init`: writes a commented worker config (JSONC) for a market and the circuits to serve, that
 * `run` accepts unchanged. Circuits are named by their on-chain id: the registered circuit gives the proof system
 * and the artifactsURI where its manifest is found (or `ID=path/to/manifest.json` says where it is). A rapidsnark
 * binary on the PATH is offered to the Groth16 circuits.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Provider } from "ethers";
import { ARTIFACTS_DIR } from "../../common/circuits/catalog.ts";
import { EXAMPLE_CIRCUITS } from "../../common/circuits/exampleInputs.ts";
import { PROOF_SYSTEMS, readManifest } from "../../common/circuits/manifest.ts";
import { manifestFor } from "../../common/circuits/registeredManifest.ts";
import { marketAddressOf } from "../../common/cli/chain.ts";
import { UsageError } from "../../common/cli/program.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { isLoopbackURL } from "../../common/inputs/addressPolicy.ts";
import { configSchema } from "./config.ts";
import { DEV_CHAIN_IDS } from "./pipeline/crossing.ts";

export interface InitOptions {
  provider: Provider;
  rpcUrl: string;
  /** Absolute path of an Ignition deployment folder, or else the market's address. */
  deployment?: string;
  marketAddress?: string;
  /** `ID` or `ID=path/to/manifest.json` (paths against the current directory). */
  circuits: string[];
  /** Where to write the config. */
  out: string;
  force: boolean;
  /** The port of /metrics and /health, when the schema's default is taken (another worker on this machine). */
  metricsPort?: number;
  /** Where to look for a rapidsnark binary (the PATH). */
  searchPath?: string;
}

interface InitCircuit {
  circuitId: number;
  name: string;
  system: (typeof PROOF_SYSTEMS)[number];
  /** As written in the config: an example's name, or a path relative to the config's folder. */
  manifest: string;
  isExample: boolean;
}

/** The names rapidsnark's build gives its prover (`prover`) and the one packagers use. */
const RAPIDSNARK_NAMES = ["rapidsnark", "prover"];

/** `prover` is a common name: only a program that answers with rapidsnark's usage line is offered. */
function isRapidsnark(program: string): boolean {
  const ran = spawnSync(program, [], { encoding: "utf8", timeout: 3_000 });
  return /prover <circuit\.zkey> <witness\.wtns>/.test(`${ran.stdout ?? ""}${ran.stderr ?? ""}`);
}

export function findRapidsnark(searchPath: string = process.env.PATH ?? ""): string | null {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    for (const name of RAPIDSNARK_NAMES) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (isRapidsnark(candidate)) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

async function resolveCircuit(options: InitOptions, marketAddress: string, spec: string): Promise<InitCircuit> {
  const match = /^(\d+)(?:=(.+))?$/.exec(spec);
  if (match === null) throw new UsageError(`--circuit ${spec}: expected a circuit id (12) or id=path/to/manifest.json`);
  const circuitId = Number(match[1]);
  const registered = await connectMarket(marketAddress, options.provider).circuit(circuitId);
  if (/^0x0{40}$/.test(registered.verifier))
    throw new UsageError(
      `--circuit ${circuitId}: no circuit ${circuitId} is registered on the market ${marketAddress}`,
    );
  const system = PROOF_SYSTEMS[Number(registered.system)];
  let file: string;
  if (match[2] !== undefined) {
    file = path.resolve(match[2]);
    try {
      readManifest(file);
    } catch (e) {
      throw new UsageError(`--circuit ${spec}: cannot read manifest ${file}: ${(e as Error).message}`);
    }
  } else {
    const located = manifestFor(registered.artifactsURI);
    if (located === null)
      throw new UsageError(
        `--circuit ${circuitId}: no manifest at its artifactsURI ${registered.artifactsURI}: give --circuit ${circuitId}=path/to/manifest.json`,
      );
    file = located.file;
  }
  const manifest = readManifest(file);
  const isExample =
    (EXAMPLE_CIRCUITS as readonly string[]).includes(manifest.name) &&
    file === path.join(ARTIFACTS_DIR, manifest.name, "manifest.json");
  return {
    circuitId,
    name: manifest.name,
    system,
    manifest: isExample ? manifest.name : path.relative(path.dirname(path.resolve(options.out)), file),
    isExample,
  };
}

/**
 * Whether the config should let jobs' inputs come from this machine: only for a development chain on this machine (a
 * devnet, whose coordinator serves inputs from 127.0.0.1). A URL on loopback alone does not say so: operators run
 * their own mainnet node on 127.0.0.1, and there a job's poster must not reach the worker's local services.
 */
export const allowsLoopbackInputs = (rpcUrl: string, chainId: bigint) =>
  isLoopbackURL(rpcUrl) && DEV_CHAIN_IDS.has(chainId);

/** Writes the config and returns its absolute path. */
export async function initWorkerConfig(options: InitOptions): Promise<string> {
  const out = path.resolve(options.out);
  if (existsSync(out) && !options.force) throw new UsageError(`${out} exists: give --force to overwrite it`);
  if (options.circuits.length === 0) throw new UsageError("init: give at least one --circuit ID to serve");
  const marketAddress = marketAddressOf({ market: options.marketAddress, deployment: options.deployment });
  const circuits = [];
  for (const spec of options.circuits) circuits.push(await resolveCircuit(options, marketAddress, spec));
  const rapidsnark = findRapidsnark(options.searchPath);
  const { chainId } = await options.provider.getNetwork();
  try {
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, renderConfig(options, out, marketAddress, circuits, rapidsnark, chainId));
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return out;
}

const json = (v: unknown) => JSON.stringify(v);

function renderConfig(
  options: InitOptions,
  out: string,
  marketAddress: string,
  circuits: InitCircuit[],
  rapidsnark: string | null,
  chainId: bigint,
): string {
  // The schema's defaults, so the file shows what `run` would use anyway.
  const defaults = configSchema.shape;
  const slots = defaults.slots.parse(undefined);
  const policy = defaults.policy.parse(undefined);
  const pricing = defaults.pricing.parse(undefined);
  const price = configSchema.shape.circuits.element.shape.price.parse(undefined);
  const metrics = {
    ...defaults.metrics.parse(undefined),
    ...(options.metricsPort !== undefined && { port: options.metricsPort }),
  };
  const dataDir = defaults.dataDir.parse(undefined);
  const inputsFetch = defaults.inputsFetch.parse(undefined);
  const localChain = allowsLoopbackInputs(options.rpcUrl, chainId);
  const tokensPerEthLine = DEV_CHAIN_IDS.has(chainId)
    ? `// A development chain's test token has no price in ETH, and its gas costs nothing real.
    "tokensPerEth": "0",`
    : `// e.g. 3000 tokens of 18 decimals per ETH:
    // "tokensPerEth": "3000000000000000000000",`;
  const loopbackNote = localChain
    ? `The chain is a development chain (id ${chainId}) on this machine: a devnet, whose coordinator serves
  // inputs from 127.0.0.1, so loopback is allowed; turn it off before pointing this worker at a public market.`
    : `"allowLoopback" is for a devnet whose coordinator serves inputs from 127.0.0.1: init turns it on only
  // for a development chain (id ${[...DEV_CHAIN_IDS].join(" or ")}) on this machine, and this is chain ${chainId}.
  // "allowPrivateNetworks" is for inputs kept on servers in your private network.`;
  // As everywhere, an explicit market wins over a deployment folder.
  const where =
    options.deployment !== undefined && options.marketAddress === undefined
      ? `  // The Ignition deployment folder: gives the market's address and the block to read its events from.
  "deployment": ${json(path.relative(path.dirname(out), options.deployment) || ".")},`
      : `  "marketAddress": ${json(marketAddress)},
  // The block the market was deployed in: the worker reads the market's events from there.
  "startBlock": 0,`;
  const circuitLines = circuits.map((c, i) => {
    const backend = c.system === "groth16" && rapidsnark !== null ? "rapidsnark" : "snarkjs";
    const bench = c.isExample
      ? ""
      : `
      // A valid inputs document for \`bench\` (${c.name} is not an example circuit, so bench cannot make one).
      // "benchInputs": "path/to/inputs.json",`;
    const comma = i === circuits.length - 1 ? "" : ",";
    return `    {
      // ${c.name}, ${c.system}: circuit ${c.circuitId} on the market.
      "circuitId": ${c.circuitId},
      "manifest": ${json(c.manifest)},
      "system": ${json(c.system)},
      "backend": ${json(backend)},${bench}
      // The least this worker takes for one of its jobs (token base units): the larger of the floor and the
      // seconds a proof takes (\`bench\` measures them) times perProvingSecond plus the gas of claim and submit.
      // With both 0 it claims every job at once, at its starting price: set them to what a proof costs you.
      "price": { "floor": ${json(String(price.floor ?? 0n))}, "perProvingSecond": ${json(String(price.perProvingSecond))} },
    }${comma}`;
  });
  const rapidsnarkNote =
    rapidsnark !== null
      ? `    // Found on the PATH; Groth16 circuits above use it. To prove with snarkjs instead, set their "backend" to
    // "snarkjs". A bare name is looked up on the PATH; a path with a slash is relative to this file's folder.
    "rapidsnark": { "binary": ${json(rapidsnark)} },`
      : `    // No rapidsnark on the PATH. It proves Groth16 several times faster than snarkjs: build it from
    // https://github.com/iden3/rapidsnark (its binary is \`prover\`), then set "backend": "rapidsnark" above and
    // "rapidsnark": { "binary": "/path/to/prover" }.`;
  return `// Worker config written by \`proofmarket-worker init\` (JSON with comments). Relative paths here resolve against
// this file's folder. Flags and PM_* variables override any field (see \`proofmarket-worker --help\`).
{
  "rpcUrl": ${json(options.rpcUrl)},
  // Optional: a WebSocket URL; new jobs then wake the worker at once (polling stays the fallback).
  // "wsUrl": "ws://127.0.0.1:8545",
${where}
  // The circuits this worker serves. "backend": snarkjs (in the worker's slots), rapidsnark (Groth16 only, the
  // binary under "backends"), or command (an external prover, e.g. a GPU one, under "backends").
  "circuits": [
${circuitLines.join("\n")}
  ],
  "backends": {
${rapidsnarkNote}
    // An external prover's command line; it must write {proof} (and {public}).
    // "command": { "template": "icicle-snark prove {zkey} {witness} {proof} {public}" },
  },
  // How many proofs are computed at once.
  "slots": ${slots},
  // How reservation prices count the gas of a claim and a submission, at the chain's gas price. The figures are
  // global, for every circuit: ${pricing.claimGas} and ${pricing.submitGas} gas as measured for a Groth16 proof with two public
  // signals; a circuit whose verifier costs more needs higher ones ("claimGas", "submitGas").
  "pricing": {
    // Token base units that 1 ETH is worth: the gas is converted at this rate. Left out, gas is not counted
    // (the worker warns at start) and the floors must cover it.
    ${tokensPerEthLine}
  },
  // Which jobs to claim. Amounts are in the token's base units (a string of digits).
  "policy": {
    // Jobs asking a larger bond than this are left alone (no limit when absent).
    // "maxBond": "10000000000000000000",
    // Seconds kept in hand between the expected end of proving and the claim's deadline.
    "safetyMarginSeconds": ${policy.safetyMarginSeconds},
    // Expected seconds per proof until \`proofmarket-worker bench\` has measured this machine.
    "provingSecondsEstimate": ${policy.provingSecondsEstimate},
  },
  // Where a job's inputs URI may lead. Its poster chooses it, so by default only public addresses are fetched
  // (never this machine, private networks or the cloud metadata service).
  // ${loopbackNote}
  "inputsFetch": {
    "allowLoopback": ${localChain},
    "allowPrivateNetworks": ${inputsFetch.allowPrivateNetworks},
    // For the whole fetch, redirects and body included; a job whose inputs time out is tried again later.
    "timeoutMs": ${inputsFetch.timeoutMs},
  },
  // Before serving a circuit, compare its on-chain verifier (and batch verifier) byte for byte with what the
  // project's generators make from your zkey, and refuse it on a mismatch. Turning this off exposes your bond to
  // whatever verifier the circuit's registrant deployed.
  "trust": { "checkVerifierBytecode": true },
  // A keeper also reassigns other provers' stalled claims and earns the keeper's share of their slashed bond.
  "keeper": { "enabled": false },
  // Prometheus /metrics and /health (port 0: any free port).
  "metrics": { "host": ${json(metrics.host)}, "port": ${metrics.port} },
  // The worker's state (job book, claims, bench figures): SQLite, next to this file unless absolute.
  "dataDir": ${json(dataDir)},
  // The key: PM_PRIVATE_KEY, or an encrypted JSON keystore here with its password in PM_KEYSTORE_PASSWORD.
  // "keystore": "key.json",
}
`;
}
