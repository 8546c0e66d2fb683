/** The backends a configuration asks for, by name. */
import type { WorkerConfig } from "../config.ts";
import type { ProverPool } from "../prover/pool.ts";
import { commandBackend, rapidsnarkBackend } from "./external.ts";
import { snarkjsBackend } from "./snarkjs.ts";
import type { ProverBackend } from "./types.ts";

export function createBackends(config: WorkerConfig, pool: ProverPool): Map<string, ProverBackend> {
  const backends = new Map<string, ProverBackend>([["snarkjs", snarkjsBackend(pool)]]);
  if (config.backends.rapidsnark)
    backends.set("rapidsnark", rapidsnarkBackend(config.backends.rapidsnark.binary, config.slots));
  if (config.backends.command) backends.set("command", commandBackend(config.backends.command.template, config.slots));
  return backends;
}
