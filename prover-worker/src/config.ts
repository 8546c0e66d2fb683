/**
 * The worker's configuration: one JSONC file (JSON with comments), validated once at start into typed values.
 * Environment variables (PM_*) and command-line flags override the file. Every error names the field that is
 * wrong. Paths in the file resolve against the file's folder; paths from flags or the environment against the
 * current directory.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { z } from "zod";
import { CIRCUITS_DIR } from "../../common/circuits/catalog.ts";
import {
  type ArtifactFile,
  artifactPath,
  type CircuitManifest,
  PROOF_SYSTEMS,
  readManifest,
} from "../../common/circuits/manifest.ts";
import { readIgnitionDeployment } from "../../common/deploy/ignitionDeployment.ts";
import { DEV_CHAIN_IDS } from "./pipeline/crossing.ts";
import { type CircuitPrice, MEASURED_GAS } from "./pricing.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address");
const tokenAmount = z
  .union([z.string().regex(/^\d+$/, "expected an integer amount in token base units"), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));
const gasAmount = z
  .union([z.string().regex(/^\d+$/, "expected a whole number of gas units"), z.number().int().positive()])
  .transform((v) => BigInt(v));

/** A served circuit's reservation price (pricing.ts): the least the worker takes for one of its jobs. */
const priceSchema = z
  .object({
    /** Never claim below this (token base units). Default: the deprecated policy.minFee, else 0. */
    floor: tokenAmount.optional(),
    /** What a second of proving is worth (token base units): the price derived from the measured proving time. */
    perProvingSecond: tokenAmount.default("0"),
  })
  .strict()
  .default({});

const circuitSchema = z.object({
  /** The circuit's id in the market's registry. */
  circuitId: z.number().int().positive(),
  /** An example circuit's name (circuits/artifacts/<name>) or the path of a manifest.json. */
  manifest: z.string().min(1),
  system: z.enum(PROOF_SYSTEMS),
  /** snarkjs in the worker's slots; `rapidsnark` or `command` run the programs given under `backends`. */
  backend: z.enum(["snarkjs", "rapidsnark", "command"]).default("snarkjs"),
  /** A valid inputs document for `bench` (example circuits need none). */
  benchInputs: z.string().optional(),
  price: priceSchema,
});

export const configSchema = z.object({
  rpcUrl: z.string().url(),
  /** An Ignition deployment folder (ignition/deployments/<id>): gives marketAddress and startBlock. */
  deployment: z.string().optional(),
  /** Optional WebSocket endpoint: new logs wake the worker at once; polling every pollIntervalMs stays the fallback. */
  wsUrl: z
    .string()
    .url()
    .regex(/^wss?:\/\//, "expected a ws:// or wss:// URL")
    .optional(),
  marketAddress: address,
  circuits: z.array(circuitSchema).min(1, "serve at least one circuit"),
  slots: z.number().int().min(1).max(64).default(2),
  policy: z
    .object({
      /** Deprecated (fixed fees are gone): read as the `price.floor` of every circuit that sets none. */
      minFee: tokenAmount.optional(),
      maxBond: tokenAmount.optional(),
      /** Seconds kept in hand between the expected end of proving and the claim's deadline. */
      safetyMarginSeconds: z.number().int().min(0).default(10),
      /** Expected seconds per proof (witness + proof + submission) until `bench` has measured it. */
      provingSecondsEstimate: z.number().positive().default(15),
    })
    .default({}),
  /** How reservation prices count gas (pricing.ts). */
  pricing: z
    .object({
      /** Token base units that 1 ETH of gas is worth; absent: gas is left out of reservation prices. */
      tokensPerEth: tokenAmount.optional(),
      /** Gas of one claim and of one proof's submission; default: what `npm run gas` measured. */
      claimGas: gasAmount.default(String(MEASURED_GAS.claim)),
      submitGas: gasAmount.default(String(MEASURED_GAS.submit)),
    })
    .strict()
    .default({}),
  pollIntervalMs: z.number().int().min(100).default(1000),
  /** The block to start reading the market's events from (its deployment block). */
  startBlock: z.number().int().min(0).default(0),
  dataDir: z.string().min(1).default(".prover-worker"),
  maxInputBytes: z.number().int().positive().default(1_000_000),
  /** Where a job's inputs URI may lead. A job's poster chooses it, so by default only public addresses are fetched
   *  (never loopback, private ranges or cloud metadata addresses); a devnet allows loopback. */
  inputsFetch: z
    .object({
      allowLoopback: z.boolean().default(false),
      allowPrivateNetworks: z.boolean().default(false),
      timeoutMs: z.number().int().positive().default(10_000),
    })
    .default({}),
  /** What the worker checks before it trusts a circuit with its bond. */
  trust: z
    .object({
      /** Refuse a circuit whose on-chain verifier (and batch verifier) is not byte for byte what the project's
       *  generators make from the zkey's verification key. Turning it off exposes the bond to a hostile verifier. */
      checkVerifierBytecode: z.boolean().default(true),
      /** Where the compiled expectations are cached (content-addressed; several workers of one user may share
       *  one). Default: <dataDir>/verifier-cache. Keep it a folder only this user can write: it is trusted. */
      verifierCacheDir: z.string().min(1).optional(),
    })
    .default({}),
  metrics: z
    .object({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).max(65535).default(9464) })
    .default({}),
  keeper: z.object({ enabled: z.boolean().default(false) }).default({}),
  backends: z
    .object({
      /** Path of a rapidsnark `prover` binary (Groth16). */
      rapidsnark: z.object({ binary: z.string().min(1) }).optional(),
      /** An external prover's command line with {zkey} {witness} {proof} {public} placeholders. */
      command: z
        .object({ template: z.string().includes("{proof}", { message: "the template must write {proof}" }) })
        .optional(),
    })
    .default({}),
  /** An ethers encrypted JSON keystore; its password comes from PM_KEYSTORE_PASSWORD. Or PM_PRIVATE_KEY. */
  keystore: z.string().optional(),
});

/** What the chain-only commands (stake, faucet, status, ...) accept: a config that serves no circuit yet. */
const chainOnlySchema = configSchema.extend({ circuits: z.array(circuitSchema).default([]) });

export type WorkerConfig = z.output<typeof configSchema>;
export type ServedCircuit = Omit<WorkerConfig["circuits"][number], "price"> & {
  /** The configured price with its floor resolved (the circuit's, else the deprecated policy.minFee, else 0). */
  price: CircuitPrice;
  manifestData: CircuitManifest;
  manifestFile: string;
  /** Absolute paths of the artifacts the worker reads, resolved once from the manifest. */
  files: { wasm: string; zkey: string; vkey: string };
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * The settings a flag or an environment variable may override, in one table: the CLI builds its options (and their
 * help) from it, loadConfig reads the environment from it. Paths given this way resolve against the current
 * directory; paths in the config file against the file's folder.
 */
export const CONFIG_OVERRIDES = [
  { flag: "rpc-url", env: "PM_RPC_URL", field: "rpcUrl", kind: "string", help: "JSON-RPC URL of the chain" },
  { flag: "ws-url", env: "PM_WS_URL", field: "wsUrl", kind: "string", help: "WebSocket URL: new jobs wake the worker" },
  { flag: "market", env: "PM_MARKET_ADDRESS", field: "marketAddress", kind: "string", help: "the market's address" },
  {
    flag: "deployment",
    env: "PM_DEPLOYMENT",
    field: "deployment",
    kind: "path",
    help: "an Ignition deployment folder (gives the market and its start block)",
  },
  { flag: "slots", env: "PM_SLOTS", field: "slots", kind: "number", help: "proofs computed at once" },
  { flag: "data-dir", env: "PM_DATA_DIR", field: "dataDir", kind: "path", help: "where the worker keeps its state" },
  {
    flag: "metrics-port",
    env: "PM_METRICS_PORT",
    field: "metrics.port",
    kind: "number",
    help: "port of /metrics and /health (0: any free port)",
  },
  {
    flag: "verifier-cache",
    env: "PM_VERIFIER_CACHE",
    field: "trust.verifierCacheDir",
    kind: "path",
    help: "folder of compiled verifier expectations (default <dataDir>/verifier-cache)",
  },
  {
    flag: "keystore",
    env: "PM_KEYSTORE",
    field: "keystore",
    kind: "path",
    help: "encrypted JSON keystore (password in PM_KEYSTORE_PASSWORD); else PM_PRIVATE_KEY",
  },
] as const;

export type OverrideFlag = (typeof CONFIG_OVERRIDES)[number]["flag"];

/** Where a field that failed validation can be set, for the error message. */
function whereToSet(fieldPath: PropertyKey[]): string {
  const field = fieldPath.join(".");
  const o = CONFIG_OVERRIDES.find((x) => x.field === field);
  if (o !== undefined) return ` (set "${field}" in the config, --${o.flag} or ${o.env})`;
  if (field === "circuits") return " (the circuits to serve: `proofmarket-worker init --circuit ID` lists them)";
  if (/^circuits\.\d+\.price\b/.test(field))
    return ' (a circuit\'s "price" is { "floor": "...", "perProvingSecond": "..." }, in token base units)';
  if (/^pricing\b/.test(field))
    return ' ("pricing" is { "tokensPerEth": "...", "claimGas": N, "submitGas": N }: token base units per ETH, gas units)';
  return "";
}

/** A flag's or variable's value as the config field takes it (a path made absolute against the current directory). */
function overrideValue(kind: "string" | "path" | "number", value: string): unknown {
  if (kind === "number") return /^\d+$/.test(value) ? Number(value) : value;
  return kind === "path" ? path.resolve(value) : value;
}

/** The schema's default for a (dotted) field, e.g. 2 for "slots"; undefined when it has none. */
export function configDefault(field: string): unknown {
  const [top, ...rest] = field.split(".");
  const parsed = (configSchema.shape as Record<string, z.ZodTypeAny>)[top].safeParse(undefined);
  if (!parsed.success) return undefined;
  let value: unknown = parsed.data;
  for (const key of rest) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** Reads a JSONC config (comments and trailing commas allowed); a syntax error names the line and column. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` +
        " (`proofmarket-worker init --out FILE` writes one)",
    );
  }
  const errors: ParseError[] = [];
  const raw = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const { offset, error } = errors[0];
    const before = text.slice(0, offset).split("\n");
    throw new ConfigError(
      `${file}:${before.length}:${before.at(-1)!.length + 1}: ${printParseErrorCode(error)} (the config is JSON with comments)`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file}: expected a JSON object of settings`);
  return raw as Record<string, unknown>;
}

/** Makes the file's relative paths absolute against its folder, before anything else is merged in. */
function resolveFilePaths(raw: Record<string, unknown>, base: string): void {
  const resolve = (v: unknown) => (typeof v === "string" ? path.resolve(base, v) : v);
  for (const field of ["deployment", "dataDir", "keystore"]) if (field in raw) raw[field] = resolve(raw[field]);
  if (Array.isArray(raw.circuits)) {
    for (const c of raw.circuits as Record<string, unknown>[]) {
      if (typeof c !== "object" || c === null) continue;
      if (typeof c.manifest === "string" && isManifestPath(c.manifest)) c.manifest = resolve(c.manifest);
      if ("benchInputs" in c) c.benchInputs = resolve(c.benchInputs);
    }
  }
  const trust = raw.trust as { verifierCacheDir?: unknown } | undefined;
  if (typeof trust?.verifierCacheDir === "string") trust.verifierCacheDir = resolve(trust.verifierCacheDir);
  const rapidsnark = (raw.backends as { rapidsnark?: { binary?: unknown } } | undefined)?.rapidsnark;
  // A bare program name is looked up on the PATH when it runs; a path is the file's.
  if (typeof rapidsnark?.binary === "string" && rapidsnark.binary.includes("/"))
    rapidsnark.binary = resolve(rapidsnark.binary);
}

/** A manifest is a path when it names a .json file; otherwise it is an example circuit's name. */
const isManifestPath = (ref: string) => ref.endsWith(".json");

export function resolveManifest(
  ref: string,
  relativeTo: string,
): { manifestFile: string; manifestData: CircuitManifest } {
  const manifestFile = isManifestPath(ref)
    ? path.resolve(relativeTo, ref)
    : path.join(CIRCUITS_DIR, "artifacts", ref, "manifest.json");
  try {
    return { manifestFile, manifestData: readManifest(manifestFile) };
  } catch (e) {
    throw new ConfigError(`circuits: cannot read manifest ${manifestFile}: ${(e as Error).message}`);
  }
}

/** The raw config: the file's contents, paths resolved against its folder, then the environment and the flags. */
function assemble(
  file: string | undefined,
  overrides: Partial<Record<OverrideFlag, string>>,
  env: NodeJS.ProcessEnv,
): { raw: Record<string, unknown>; base: string } {
  const raw = file === undefined ? {} : readConfigFile(file);
  const base = file === undefined ? process.cwd() : path.dirname(path.resolve(file));
  resolveFilePaths(raw, base);
  for (const o of CONFIG_OVERRIDES) {
    if (env[o.env] !== undefined && env[o.env] !== "") setPath(raw, o.field, overrideValue(o.kind, env[o.env]!));
  }
  for (const [flag, value] of Object.entries(overrides)) {
    const o = CONFIG_OVERRIDES.find((x) => x.flag === flag);
    if (o === undefined) throw new Error(`no config override named ${flag}`);
    setPath(raw, o.field, overrideValue(o.kind, value));
  }
  if (typeof raw.deployment === "string") {
    // Explicit marketAddress / startBlock win over what the deployment says.
    let deployment;
    try {
      deployment = readIgnitionDeployment(raw.deployment);
    } catch (e) {
      throw new ConfigError(`deployment: ${(e as Error).message}`);
    }
    raw.marketAddress ??= deployment.market;
    raw.startBlock ??= deployment.startBlock;
  }
  return { raw, base };
}

function invalid(error: z.ZodError, file: string | undefined): ConfigError {
  const lines = error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}${whereToSet(i.path)}`);
  const start = file ? "" : "\n  (no config file: `proofmarket-worker init` writes one; give it with --config FILE)";
  return new ConfigError(`invalid worker configuration${file ? ` in ${file}` : ""}:\n${lines.join("\n")}${start}`);
}

/** The data folder alone, for the commands that read nothing else (`trust`, `status --job`): no chain needed. */
export function loadDataDir(
  file: string | undefined,
  overrides: Partial<Record<OverrideFlag, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  const parsed = configSchema.pick({ dataDir: true }).safeParse(assemble(file, overrides, env).raw);
  if (!parsed.success) throw invalid(parsed.error, file);
  return parsed.data.dataDir;
}

/**
 * @param file the JSONC config file (optional when everything comes from the environment and flags)
 * @param overrides flag name (CONFIG_OVERRIDES) -> value as typed on the command line
 * @param servesCircuits false for the commands that only talk to the chain: an operator stakes or gets test tokens
 *   before choosing circuits, so they need no `circuits` (the chain's settings still come from file, env and flags)
 */
export function loadConfig(
  file: string | undefined,
  overrides: Partial<Record<OverrideFlag, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
  { servesCircuits = true }: { servesCircuits?: boolean } = {},
): { config: WorkerConfig; circuits: ServedCircuit[]; warnings: string[] } {
  const { raw, base } = assemble(file, overrides, env);
  const parsed = (servesCircuits ? configSchema : chainOnlySchema).safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error, file);
  const config = parsed.data;
  const circuits = config.circuits.map((c, i) => {
    const resolved = resolveManifest(c.manifest, base);
    if (resolved.manifestData.systems[c.system] === undefined) {
      throw new ConfigError(`circuits.${i}.system: ${resolved.manifestData.name} has no ${c.system} setup`);
    }
    if (c.backend === "rapidsnark" && config.backends.rapidsnark === undefined) {
      throw new ConfigError(`circuits.${i}.backend: rapidsnark needs backends.rapidsnark.binary`);
    }
    if (c.backend === "rapidsnark" && c.system !== "groth16") {
      throw new ConfigError(`circuits.${i}.backend: rapidsnark proves Groth16 only, not ${c.system}`);
    }
    if (c.backend === "command" && config.backends.command === undefined) {
      throw new ConfigError(`circuits.${i}.backend: command needs backends.command.template`);
    }
    const system = resolved.manifestData.systems[c.system]!;
    const at = (a: ArtifactFile) => artifactPath(resolved.manifestFile, a);
    const files = { wasm: at(resolved.manifestData.wasm), zkey: at(system.zkey), vkey: at(system.vkey) };
    const price = { ...c.price, floor: c.price.floor ?? config.policy.minFee ?? 0n };
    return { ...c, price, ...resolved, files };
  });
  const ids = circuits.map((c) => c.circuitId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new ConfigError(`circuits: circuitId ${dup} is listed twice`);
  return { config, circuits, warnings: configWarnings(config, circuits) };
}

/** What a config that loads still gets wrong, or will stop accepting: `run` logs each at start. */
function configWarnings(config: WorkerConfig, circuits: ServedCircuit[]): string[] {
  const warnings: string[] = [];
  if (config.policy.minFee !== undefined)
    // An old config keeps working: a fixed fee of at least minFee is a price of at least the floor.
    warnings.push(
      `policy.minFee is deprecated (jobs are sold by reverse Dutch auction now): it is read as the floor of every ` +
        `circuit without one; write it as "price": { "floor": "${config.policy.minFee}" } on each circuit instead`,
    );
  if (circuits.length > 0 && config.pricing.tokensPerEth === undefined)
    warnings.push(
      `pricing.tokensPerEth is not set: the gas of a claim and a submission (${config.pricing.claimGas + config.pricing.submitGas} ` +
        `gas) is left out of reservation prices, so each circuit's price.floor must cover it; set it to the token ` +
        `base units that 1 ETH is worth ("0" if gas costs you nothing, e.g. on a devnet)`,
    );
  return warnings;
}

/**
 * What `run` warns of once it knows the chain (`chainId`): a served circuit whose floor and perProvingSecond are
 * both 0 has a reservation price of at most the gas (none without pricing.tokensPerEth), so the worker takes every
 * one of its jobs at the ramp's start, however low (0 too). Expected on a devnet (nothing there costs anything, and
 * `init` writes such prices); on any other chain, almost certainly a config that forgot to price the circuit.
 */
export function chainWarnings(config: WorkerConfig, circuits: readonly ServedCircuit[], chainId: bigint): string[] {
  if (DEV_CHAIN_IDS.has(chainId)) return [];
  return circuits.flatMap((c) => {
    if (c.price.floor !== 0n || c.price.perProvingSecond !== 0n) return [];
    const i = config.circuits.findIndex((x) => x.circuitId === c.circuitId);
    const reservation =
      config.pricing.tokensPerEth === undefined
        ? "0 (pricing.tokensPerEth is not set: not even the gas is counted)"
        : "only the gas of a claim and a submission";
    return [
      `circuit ${c.circuitId} (${c.manifestData.name}) has price.floor and price.perProvingSecond both 0 on chain ` +
        `${chainId}: its reservation price is ${reservation}, so the worker claims its jobs at their lowest ` +
        `prices, 0 included, and proves them for next to nothing; set circuits.${i}.price.floor (the least a ` +
        `proof is worth to you) or circuits.${i}.price.perProvingSecond (token base units per second of proving)`,
    ];
  });
}
