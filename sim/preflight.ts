/**
 * The worker's own preflight (prover-worker/src/pipeline/preflight.ts: fetch the inputs, check their hash and their
 * commitment, compute the witness) for the simulated provers. Every prover that preflights the same inputs reaches
 * the same verdict, so it is computed once per inputs document and shared: a job whose inputs are unprovable is never
 * claimed by a prover that preflights, as with the real worker.
 */
import { CIRCUITS_DIR } from "../common/circuits/catalog.ts";
import { artifactPath } from "../common/circuits/manifest.ts";
import type { JobView } from "../common/market/jobBook.ts";
import { configDefault, resolveManifest, type ServedCircuit } from "../prover-worker/src/config.ts";
import { preflight } from "../prover-worker/src/pipeline/preflight.ts";
import type { CircuitPrice } from "../prover-worker/src/pricing.ts";
import { createProverPool } from "../prover-worker/src/prover/pool.ts";

/** Verdicts by inputs document, kept for the process: the sweep's markets post the same documents again. */
const verdicts = new Map<string, Promise<string | null>>();

/** The simulated market's circuit as a worker serving it at `price` sees it (its config, manifest and files). */
export function servedCircuit(circuitId: bigint, price: CircuitPrice): ServedCircuit {
  const resolved = resolveManifest("poseidon_preimage", CIRCUITS_DIR);
  const system = resolved.manifestData.systems.groth16!;
  const at = (a: Parameters<typeof artifactPath>[1]) => artifactPath(resolved.manifestFile, a);
  return {
    circuitId: Number(circuitId),
    manifest: "poseidon_preimage",
    system: "groth16",
    backend: "snarkjs",
    price,
    ...resolved,
    files: { wasm: at(resolved.manifestData.wasm), zkey: at(system.zkey), vkey: at(system.vkey) },
  };
}

export function createSharedPreflight(circuitId: bigint) {
  const circuit = servedCircuit(circuitId, { floor: 0n, perProvingSecond: 0n });
  const limits = {
    maxInputBytes: configDefault("maxInputBytes") as number,
    inputsFetch: configDefault("inputsFetch") as Parameters<typeof preflight>[3]["inputsFetch"],
  };
  // Slots for the witness, started only when a document has no verdict yet.
  let pool: ReturnType<typeof createProverPool> | null = null;
  return {
    circuit,
    /** Why the job is not to be claimed (the preflight's refusal), or null when its inputs are provable. */
    verdict(job: JobView): Promise<string | null> {
      const key = `${job.inputsURI}|${job.inputsHash}|${job.terms.inputsCommitment}`;
      let v = verdicts.get(key);
      if (v === undefined) {
        pool ??= createProverPool(1);
        v = preflight(job, circuit, pool, limits).then((p) => (p.ok ? null : p.error.message));
        verdicts.set(key, v);
      }
      return v;
    },
    close: async () => {
      await pool?.close();
      pool = null;
    },
  };
}
export type SharedPreflight = ReturnType<typeof createSharedPreflight>;
