/** snarkjs in the worker's proving slots (child processes that keep proving keys loaded). */
import { PROOF_SYSTEMS } from "../../../common/circuits/manifest.ts";
import type { ProverPool } from "../prover/pool.ts";
import type { ProverBackend } from "./types.ts";

export function snarkjsBackend(pool: ProverPool): ProverBackend {
  return {
    name: "snarkjs",
    systems: PROOF_SYSTEMS,
    async prove({ system, zkey, witness, deadline }) {
      const { proof, publicSignals, seconds } = await pool.run({ kind: "prove", system, zkey, witness }, deadline);
      return { proof, publicSignals, seconds };
    },
  };
}
