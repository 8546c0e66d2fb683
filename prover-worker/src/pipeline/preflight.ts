/**
 * Preflight, before any claim: fetch the job's inputs, check them against the hash on chain, check that their
 * public part is what the job committed to, and compute the witness. A job that fails any step is never claimed,
 * so an unprovable job cannot get an honest prover slashed.
 */
import { parseInputsDocument, sha256Hex } from "../../../common/inputs/document.ts";
import { fetchInputs, InputsFetchError } from "../../../common/inputs/fetch.ts";
import type { JobView } from "../../../common/market/jobBook.ts";
import type { ServedCircuit, WorkerConfig } from "../config.ts";
import { type ProverPool, SlotError } from "../prover/pool.ts";

/** `final`: the job itself is at fault (never claim it); otherwise the worker failed and may try again later. */
export type Preflight =
  { ok: true; inputs: string; witness: Uint8Array } | { ok: false; reason: string; final: boolean };

export async function preflight(
  job: JobView,
  circuit: ServedCircuit,
  pool: ProverPool,
  limits: Pick<WorkerConfig, "maxInputBytes" | "inputsFetch">,
): Promise<Preflight> {
  let bytes: Uint8Array;
  try {
    bytes = await fetchInputs(job.inputsURI, { maxBytes: limits.maxInputBytes, ...limits.inputsFetch });
  } catch (e) {
    // A malformed, refused or oversized URI is the job's fault; a server that does not answer may answer later.
    const final = e instanceof InputsFetchError && !e.retryable;
    return { ok: false, reason: `inputs unavailable: ${(e as Error).message}`, final };
  }
  const hash = sha256Hex(bytes);
  if (hash !== job.inputsHash.toLowerCase())
    return { ok: false, reason: `inputs hash ${hash} does not match the job's ${job.inputsHash}`, final: true };
  const text = new TextDecoder().decode(bytes);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, reason: "inputs are not valid JSON", final: true };
  }
  let parsed;
  try {
    parsed = parseInputsDocument(circuit.manifestData, document);
  } catch (e) {
    return { ok: false, reason: `inputs do not fit the circuit: ${(e as Error).message}`, final: true };
  }
  if (parsed.inputsCommitment !== job.terms.inputsCommitment) {
    return { ok: false, reason: "public inputs do not match the job's on-chain commitment", final: true };
  }
  try {
    const { witness } = await pool.run({ kind: "witness", wasm: circuit.files.wasm, inputs: parsed.signals }, 0);
    return { ok: true, inputs: text, witness };
  } catch (e) {
    if (e instanceof SlotError && e.circuitRejected) {
      return { ok: false, reason: `inputs do not satisfy the circuit: ${e.message.split("\n")[0]}`, final: true };
    }
    return { ok: false, reason: `witness computation failed: ${(e as Error).message}`, final: false };
  }
}
