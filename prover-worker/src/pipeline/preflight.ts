/**
 * Preflight, before any claim: fetch the job's inputs, check them against the hash on chain, check that their
 * public part is what the job committed to, and compute the witness. A job that fails any step is never claimed,
 * so an unprovable job cannot get an honest prover slashed.
 */
import { FatalError, RetryableError } from "../../../common/errors.ts";
import { parseInputsDocument, sha256Hex } from "../../../common/inputs/document.ts";
import { fetchInputs, InputsFetchError } from "../../../common/inputs/fetch.ts";
import type { JobView } from "../../../common/market/jobBook.ts";
import type { ServedCircuit, WorkerConfig } from "../config.ts";
import { type ProverPool, SlotError } from "../prover/pool.ts";

/** The job itself is at fault (its inputs are missing for good, wrong or unprovable): never claim it. */
export class JobUnprovableError extends FatalError {}

/** The worker could not check the job now (its inputs host is down, the witness computation failed): try later. */
export class PreflightDeferredError extends RetryableError {}

export type PreflightError = JobUnprovableError | PreflightDeferredError;

export type Preflight = { ok: true; inputs: string; witness: Uint8Array } | { ok: false; error: PreflightError };

const unprovable = (code: string, message: string, cause?: unknown): Preflight => ({
  ok: false,
  error: new JobUnprovableError("preflight", code, message, { cause }),
});
const deferred = (code: string, message: string, cause?: unknown): Preflight => ({
  ok: false,
  error: new PreflightDeferredError("preflight", code, message, { cause }),
});

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
    const message = `inputs unavailable: ${(e as Error).message}`;
    return e instanceof InputsFetchError && !e.retryable
      ? unprovable("INPUTS_REFUSED", message, e)
      : deferred("INPUTS_UNAVAILABLE", message, e);
  }
  const hash = sha256Hex(bytes);
  if (hash !== job.inputsHash.toLowerCase())
    return unprovable("INPUTS_HASH_MISMATCH", `inputs hash ${hash} does not match the job's ${job.inputsHash}`);
  const text = new TextDecoder().decode(bytes);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return unprovable("INPUTS_NOT_JSON", "inputs are not valid JSON");
  }
  let parsed;
  try {
    parsed = parseInputsDocument(circuit.manifestData, document);
  } catch (e) {
    return unprovable("INPUTS_DO_NOT_FIT", `inputs do not fit the circuit: ${(e as Error).message}`, e);
  }
  if (parsed.inputsCommitment !== job.terms.inputsCommitment) {
    return unprovable("COMMITMENT_MISMATCH", "public inputs do not match the job's on-chain commitment");
  }
  try {
    const { witness } = await pool.run({ kind: "witness", wasm: circuit.files.wasm, inputs: parsed.signals }, 0);
    return { ok: true, inputs: text, witness };
  } catch (e) {
    if (e instanceof SlotError && e.circuitRejected) {
      return unprovable("INPUTS_UNSATISFIABLE", `inputs do not satisfy the circuit: ${e.message.split("\n")[0]}`, e);
    }
    return deferred("WITNESS_FAILED", `witness computation failed: ${(e as Error).message}`, e);
  }
}
