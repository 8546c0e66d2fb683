/**
 * A stand-in for an external prover program, with rapidsnark's command line:
 *   standInProver.ts <zkey> <witness.wtns> <proof.json> <public.json>
 * It proves with snarkjs (Groth16) in its own process. STANDIN_MODE=bad writes a proof that does not verify;
 * STANDIN_CALLS=<file> appends a line per call, so a test can see that it ran. STANDIN_DELAY_MS=<ms> holds the
 * proof back that long after it is made, as a slow machine would: the worker's slot stays busy meanwhile.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { releaseSnarkjs } from "../../dev/releaseSnarkjs.ts";

async function main(): Promise<number> {
  const [zkey, witness, proofFile, publicFile] = process.argv.slice(2);
  if (publicFile === undefined) {
    // rapidsnark's own usage line, word for word: `proofmarket-worker init` recognises rapidsnark by it.
    console.error("Usage: prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>");
    return 2;
  }
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, witness);
  const delayMs = Number(process.env.STANDIN_DELAY_MS ?? 0);
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (process.env.STANDIN_MODE === "bad") [proof.pi_a, proof.pi_c] = [proof.pi_c, proof.pi_a];
  writeFileSync(proofFile, JSON.stringify(proof));
  writeFileSync(publicFile, JSON.stringify(publicSignals));
  if (process.env.STANDIN_CALLS) appendFileSync(process.env.STANDIN_CALLS, `${zkey}\n`);
  await releaseSnarkjs();
  return 0;
}

// Only when run as a program (the test runner also loads every file under test/).
if (import.meta.url === `file://${process.argv[1]}`) process.exit(await main());
