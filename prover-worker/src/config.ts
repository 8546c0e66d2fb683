/**
 * The worker's configuration: one JSON file, validated once at start into typed values. Environment variables
 * (PM_*) and command-line flags override the file. Every error names the field that is wrong.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
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

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address");
const tokenAmount = z
  .union([z.string().regex(/^\d+$/, "expected an integer amount in token base units"), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));

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
      minFee: tokenAmount.default("0"),
      maxBond: tokenAmount.optional(),
      /** Seconds kept in hand between the expected end of proving and the claim's deadline. */
      safetyMarginSeconds: z.number().int().min(0).default(10),
      /** Expected seconds per proof (witness + proof + submission) until `bench` has measured it. */
      provingSecondsEstimate: z.number().positive().default(15),
    })
    .default({}),
  pollIntervalMs: z.number().int().min(100).default(1000),
  /** The block to start reading the market's events from (its deployment block). */
  startBlock: z.number().int().min(0).default(0),
  dataDir: z.string().min(1).default(".prover-worker"),
  maxInputBytes: z.number().int().positive().default(1_000_000),
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

export type WorkerConfig = z.output<typeof configSchema>;
export type ServedCircuit = WorkerConfig["circuits"][number] & {
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

/** Overrides from the environment, by field. */
const ENV_OVERRIDES: Record<string, (v: string) => [string, unknown]> = {
  PM_RPC_URL: (v) => ["rpcUrl", v],
  PM_WS_URL: (v) => ["wsUrl", v],
  PM_MARKET_ADDRESS: (v) => ["marketAddress", v],
  PM_DEPLOYMENT: (v) => ["deployment", v],
  PM_SLOTS: (v) => ["slots", Number(v)],
  PM_DATA_DIR: (v) => ["dataDir", v],
  PM_METRICS_PORT: (v) => ["metrics.port", Number(v)],
};

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

export function resolveManifest(
  ref: string,
  relativeTo: string,
): { manifestFile: string; manifestData: CircuitManifest } {
  const manifestFile = ref.endsWith(".json")
    ? path.resolve(relativeTo, ref)
    : path.join(CIRCUITS_DIR, "artifacts", ref, "manifest.json");
  try {
    return { manifestFile, manifestData: readManifest(manifestFile) };
  } catch (e) {
    throw new ConfigError(`circuits: cannot read manifest ${manifestFile}: ${(e as Error).message}`);
  }
}

/**
 * @param file the JSON config file (optional when everything comes from the environment and flags)
 * @param overrides dotted field -> value, from command-line flags
 */
export function loadConfig(
  file: string | undefined,
  overrides: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): { config: WorkerConfig; circuits: ServedCircuit[] } {
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    if (env[name] !== undefined) setPath(raw, ...apply(env[name]!));
  }
  for (const [field, value] of Object.entries(overrides)) setPath(raw, field, value);

  const base = file ? path.dirname(path.resolve(file)) : process.cwd();
  if (typeof raw.deployment === "string") {
    // Explicit marketAddress / startBlock win over what the deployment says.
    let deployment;
    try {
      deployment = readIgnitionDeployment(path.resolve(base, raw.deployment));
    } catch (e) {
      throw new ConfigError(`deployment: ${(e as Error).message}`);
    }
    raw.marketAddress ??= deployment.market;
    raw.startBlock ??= deployment.startBlock;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`invalid worker configuration${file ? ` in ${file}` : ""}:\n${lines.join("\n")}`);
  }
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
    const benchInputs = c.benchInputs === undefined ? undefined : path.resolve(base, c.benchInputs);
    const system = resolved.manifestData.systems[c.system]!;
    const at = (a: ArtifactFile) => artifactPath(resolved.manifestFile, a);
    const files = { wasm: at(resolved.manifestData.wasm), zkey: at(system.zkey), vkey: at(system.vkey) };
    return { ...c, ...resolved, benchInputs, files };
  });
  const ids = circuits.map((c) => c.circuitId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new ConfigError(`circuits: circuitId ${dup} is listed twice`);
  return { config, circuits };
}
