/**
 * The circuit-specific setup of one proof system from a ptau. snarkjs reports a ptau too small for the circuit
 * only in its log (and returns -1) or, for FFLONK, as a plain Error; both become a BuildError naming the power
 * the circuit needs.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import type { ProofSystem } from "../../common/circuits/manifest.ts";
import { BuildError } from "./buildError.ts";
import { progressLogger } from "./logger.ts";

/** Smallest power of two above `n`, as snarkjs sizes its evaluation domain (its log2 is floor(log2 n)). */
const powerAbove = (n: number) => Math.floor(Math.log2(n)) + 1;

export interface R1csCounts {
  nConstraints: number;
  nPubInputs: number;
  nOutputs: number;
}

export async function setupSystem(
  system: ProofSystem,
  r1cs: string,
  ptau: string,
  zkey: string,
  label: string,
  counts: R1csCounts,
): Promise<void> {
  const logger = progressLogger(`[${label} ${system}]`);
  const errors: string[] = [];
  // snarkjs' errors are kept, not printed: they come back in the one-line BuildError.
  const recording = { ...logger, error: (msg: string) => void errors.push(msg) };
  const tooSmall = (needed: string) =>
    new BuildError(
      `ptau ${ptau} is too small for ${label} (${counts.nConstraints} constraints): ${system} needs ${needed}; ` +
        `use a larger ptau (--ptau FILE, or --dev-ptau POWER for an insecure development one)`,
    );
  let result: unknown;
  try {
    if (system === "groth16") {
      // Phase 2 needs at least one contribution; a random one makes the circuit-specific toxic waste unknown
      // (the ptau's own insecurity, if it is a development file, remains).
      const initial = `${zkey}.0`;
      result = await snarkjs.zKey.newZKey(r1cs, ptau, initial, recording);
      if (result !== -1) {
        await snarkjs.zKey.contribute(initial, zkey, "ProofMarket build", crypto.randomUUID(), recording);
        rmSync(initial);
      }
    } else if (system === "plonk") {
      result = await snarkjs.plonk.setup(r1cs, ptau, zkey, recording);
    } else {
      await snarkjs.fflonk.setup(r1cs, ptau, zkey, recording);
    }
  } catch (e) {
    if (/not big enough/.test((e as Error).message)) throw tooSmall("a ptau of a larger power");
    throw e;
  }
  if (result !== -1) return;
  const message = errors.join("; ") || "snarkjs failed without a message";
  if (!/too big/.test(message))
    throw new BuildError(`${system} setup of ${label} with ${path.basename(ptau)}: ${message}`);
  // groth16's domain holds the constraints and one row per public signal (plus one); PLONK's, its gates, which
  // snarkjs counts only during setup and reports in the message ("<gates> > 2**<power>").
  const gates = Number(/(\d+) > 2\*\*/.exec(message)?.[1]);
  const power =
    system === "groth16"
      ? powerAbove(counts.nConstraints + counts.nPubInputs + counts.nOutputs)
      : Math.max(3, powerAbove(gates - 1));
  throw tooSmall(`a ptau of power ${power} or more (2^${power})`);
}
