/**
 * `prover-worker bench`: times each served circuit with its configured backend (witness + proof, proving keys
 * warm, the first proof not counted) and stores the median, which the policy then uses to judge whether a job's
 * window leaves enough time.
 */
import { readFileSync } from "node:fs";
import { EXAMPLE_CIRCUITS, type ExampleCircuit, exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { parseInputsDocument } from "../../common/inputs/document.ts";
import type { ProverBackend } from "./backends/types.ts";
import { ConfigError, type ServedCircuit } from "./config.ts";
import type { ProverPool } from "./prover/pool.ts";
import type { WorkerStore } from "./store.ts";

export interface BenchResult {
  circuitId: number;
  circuit: string;
  backend: string;
  secondsPerProof: number;
  runs: number;
}

async function inputsFor(circuit: ServedCircuit, index: number, run: number): Promise<Record<string, unknown>> {
  if (circuit.benchInputs !== undefined) {
    const document = JSON.parse(readFileSync(circuit.benchInputs, "utf8"));
    return parseInputsDocument(circuit.manifestData, document).signals;
  }
  const name = circuit.manifestData.name;
  if ((EXAMPLE_CIRCUITS as readonly string[]).includes(name))
    return exampleInputs(name as ExampleCircuit, `bench-${run}`);
  throw new ConfigError(
    `circuits.${index}.benchInputs: ${name} is not an example circuit; give a valid inputs file to benchmark it`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchCircuits(
  circuits: ServedCircuit[],
  backends: Map<string, ProverBackend>,
  pool: ProverPool,
  store: WorkerStore,
  runs = 3,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const [index, circuit] of circuits.entries()) {
    const backend = backends.get(circuit.backend)!;
    const { wasm, zkey } = circuit.files;
    const times: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const inputs = await inputsFor(circuit, index, run);
      const started = performance.now();
      const { witness } = await pool.run({ kind: "witness", wasm, inputs }, 0);
      await backend.prove({ system: circuit.system, zkey, witness, deadline: 0, timeoutMs: 600_000 });
      if (run > 0) times.push((performance.now() - started) / 1000); // run 0 loads the keys
    }
    const secondsPerProof = median(times);
    store.putBench(circuit.circuitId, circuit.backend, secondsPerProof);
    results.push({
      circuitId: circuit.circuitId,
      circuit: circuit.manifestData.name,
      backend: backend.name,
      secondsPerProof,
      runs,
    });
  }
  return results;
}
