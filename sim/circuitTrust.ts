/**
 * The worker's start-up circuit check (prover-worker/src/pipeline/circuitCheck.ts) for the simulated provers: which of
 * the market's circuits a worker serving them all would trust with its bond. Every simulated prover proves with the
 * same zkey and the same check settings, so the check is run once per market and its outcome shared. With the
 * bytecode check on, a circuit registered with a rug-pull verifier is refused; with it off, it is served unchecked.
 */
import os from "node:os";
import path from "node:path";
import type { Logger } from "../common/log.ts";
import { checkServedCircuits } from "../prover-worker/src/pipeline/circuitCheck.ts";
import type { SimChain } from "./chain.ts";
import { servedCircuit } from "./preflight.ts";

/** The worker's code logs as it decides; the simulation reports from its results instead. */
export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

export interface CircuitTrustOutcome {
  /** The circuits a worker serves after the check (trusted, or unchecked when the check is off). */
  served: bigint[];
  /** Each refused circuit with the check's reason. */
  refused: Map<bigint, string>;
}

export async function checkCircuits(
  chain: SimChain,
  circuitIds: bigint[],
  checkVerifierBytecode: boolean,
): Promise<CircuitTrustOutcome> {
  const results = await checkServedCircuits(
    circuitIds.map((id) => servedCircuit(id, { floor: 0n, perProvingSecond: 0n })),
    {
      market: chain.market as any,
      marketAddress: chain.marketAddress,
      provider: chain.ethers.provider,
      checkBytecode: checkVerifierBytecode,
      // The worker's cache of compiled expectations: the tests' when they run (hardhat.config.ts), else one kept in the
      // system's temporary directory, so that only a machine's first run compiles the expected verifiers.
      cacheDir: process.env.PM_VERIFIER_CACHE ?? path.join(os.tmpdir(), "proofmarket-sim-verifier-cache"),
      logger: quiet,
    },
  );
  return {
    served: results.filter((r) => r.status !== "refused").map((r) => BigInt(r.circuitId)),
    refused: new Map(results.flatMap((r) => (r.status === "refused" ? [[BigInt(r.circuitId), r.reason]] : []))),
  };
}
