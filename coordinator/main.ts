/**
 * The coordinator process: its configuration from the environment (USAGE below), validated at start with errors
 * naming the variable; then the coordinator (coordinator.ts: migrations, the indexer polling to the confirmed head,
 * the HTTP server) until SIGTERM or SIGINT.
 */
import { z } from "zod";
import { readIgnitionDeployment } from "../common/deploy/ignitionDeployment.ts";
import { createCoordinator } from "./coordinator.ts";

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "use file:<path> (SQLite) or postgresql://...")
    .default("file:./coordinator.db"),
  RPC_URL: z.string().url(),
  MARKET_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address"),
  START_BLOCK: z.coerce.number().int().min(0).default(0),
  CONFIRMATIONS: z.coerce.number().int().min(0).default(2),
  RANGE_SIZE: z.coerce.number().int().min(1).max(100_000).default(2000),
  POLL_MS: z.coerce.number().int().min(50).default(1000),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.string().url().optional(),
});

const USAGE = `usage: npm run coordinator (configured by environment variables, not arguments)

  DATABASE_URL     file:./coordinator.db (default, SQLite) or postgresql://...
  RPC_URL          the chain's JSON-RPC endpoint (required)
  MARKET_ADDRESS   the market contract (required, unless DEPLOYMENT gives it)
  DEPLOYMENT       an Ignition deployment folder: gives MARKET_ADDRESS and START_BLOCK when they are not set
  START_BLOCK      the market's deployment block (default 0)
  CONFIRMATIONS    blocks behind the head it indexes to (default 2)
  RANGE_SIZE       blocks per eth_getLogs (default 2000)
  POLL_MS          how often it polls the chain (default 1000)
  HOST, PORT       where REST and GraphQL listen (default 127.0.0.1:8080)
  PUBLIC_URL       the URL clients use, when not http://HOST:PORT

example: RPC_URL=http://127.0.0.1:8545 DEPLOYMENT=ignition/deployments/devnet npm run coordinator`;

const args = process.argv.slice(2);
if (args.length > 0) {
  const help = args.length === 1 && ["--help", "-h"].includes(args[0]);
  if (!help) console.error(`the coordinator takes no arguments (got ${args.join(" ")}); set environment variables:\n`);
  (help ? console.log : console.error)(USAGE);
  process.exit(help ? 0 : 2);
}

const fromDeployment: Record<string, string> = {};
if (process.env.DEPLOYMENT) {
  try {
    const deployment = readIgnitionDeployment(process.env.DEPLOYMENT);
    fromDeployment.MARKET_ADDRESS = deployment.market;
    fromDeployment.START_BLOCK = String(deployment.startBlock);
  } catch (e) {
    console.error(`invalid coordinator configuration:\n  DEPLOYMENT: ${(e as Error).message}`);
    process.exit(2);
  }
}
const parsed = envSchema.safeParse({ ...fromDeployment, ...process.env });
if (!parsed.success) {
  console.error(
    `invalid coordinator configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}\n(npm run coordinator -- --help lists the variables)`,
  );
  process.exit(2);
}
const env = parsed.data;

const coordinator = await createCoordinator({
  databaseUrl: env.DATABASE_URL,
  rpcUrl: env.RPC_URL,
  marketAddress: env.MARKET_ADDRESS,
  startBlock: env.START_BLOCK,
  confirmations: env.CONFIRMATIONS,
  rangeSize: env.RANGE_SIZE,
  pollMs: env.POLL_MS,
  host: env.HOST,
  port: env.PORT,
  publicUrl: env.PUBLIC_URL,
});
await coordinator.start();
await new Promise((resolve) => {
  process.once("SIGTERM", resolve);
  process.once("SIGINT", resolve);
});
await coordinator.stop();
process.exit(0);
