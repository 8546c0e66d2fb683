/**
 * The devnet (dev/devnet.ts: a market on a real local chain, and posting jobs to it) as integration tests use it,
 * with what only tests do to it: wait for a job's status, move the clock, configure a worker for it.
 */
import type { ProofSystem } from "../../common/circuits/manifest.ts";
import type { CoordinatorConfig } from "../../coordinator/coordinator.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import type { ProofMarket } from "../../types/ethers-contracts/index.ts";
import type { Devnet } from "../../dev/devnet.ts";

export { type Devnet, type PostOptions, postJob, startDevnet } from "../../dev/devnet.ts";
import { startDevnet } from "../../dev/devnet.ts";

/**
 * A devnet whose node mines a block every `blockSeconds` whether or not anything is sent, and none in between, as a
 * live chain does (automine off): for tests where which block a transaction lands in matters, such as a claim at the
 * second a job's price reaches a reservation.
 */
export async function startIntervalDevnet(blockSeconds: number): Promise<Devnet> {
  const devnet = await startDevnet();
  await devnet.chain.provider.send("evm_setAutomine", [false]);
  await devnet.chain.provider.send("evm_setIntervalMining", [blockSeconds * 1000]);
  return devnet;
}

export async function waitForStatus(devnet: Devnet, jobId: bigint, status: bigint, timeoutMs = 90_000): Promise<void> {
  const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
  const started = Date.now();
  let last: bigint | undefined;
  while (Date.now() - started < timeoutMs) {
    last = (await market.jobState(jobId)).status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`job ${jobId} did not reach status ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** Moves the chain's clock forward (and mines a block), e.g. past a claim's deadline. */
export async function advanceTime(devnet: Devnet, seconds: number): Promise<void> {
  await devnet.chain.provider.send("evm_increaseTime", [seconds]);
  await devnet.chain.provider.send("evm_mine", []);
}

/** A config for a worker serving the given circuits on this devnet. */
export function workerConfigFor(
  devnet: Devnet,
  circuits: {
    circuitId: bigint;
    manifest: string;
    system: ProofSystem;
    backend?: "snarkjs" | "rapidsnark" | "command";
    /** The circuit's reservation price: { floor, perProvingSecond } in token base units. */
    price?: { floor?: string; perProvingSecond?: string };
  }[],
  extra: Record<string, unknown> = {},
) {
  return {
    rpcUrl: devnet.chain.url,
    marketAddress: devnet.deployment.market,
    circuits: circuits.map((c) => ({ ...c, circuitId: Number(c.circuitId) })),
    slots: 2,
    pollIntervalMs: 250,
    metrics: { port: 0 },
    policy: { provingSecondsEstimate: 5 },
    ...extra,
  };
}

/** A coordinator's config for this devnet (on loopback, any free port, no confirmation depth), its database at `databaseUrl`. */
export function coordinatorConfigFor(
  devnet: Devnet,
  databaseUrl: string,
  extra: Partial<CoordinatorConfig> & Pick<CoordinatorConfig, "pollMs">,
): CoordinatorConfig {
  return {
    databaseUrl,
    rpcUrl: devnet.chain.url,
    marketAddress: devnet.deployment.market,
    startBlock: 0,
    confirmations: 0,
    rangeSize: 1_000,
    host: "127.0.0.1",
    port: 0,
    ...extra,
  };
}

/** What a proved job's JobProved event names: a proof clears the job's state slot, so `jobState` no longer does. */
export async function provedBy(
  market: ProofMarket,
  jobId: bigint,
): Promise<{ prover: string; attempt: bigint; price: bigint }> {
  const [event] = await market.queryFilter(market.filters.JobProved(jobId));
  if (event === undefined) throw new Error(`job ${jobId} has no JobProved event`);
  return { prover: event.args.prover, attempt: event.args.attempt, price: event.args.price };
}
