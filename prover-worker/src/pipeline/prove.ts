/**
 * Prove: makes the proof of a claimed job (the witness, unless preflight already computed it, then the circuit's
 * backend within the time left before the deadline), checks it against the verification key whatever produced it,
 * and encodes it for the contract. A backend that fails or produces a proof that does not verify is reported as
 * such, so the worker can take it out of service and abandon the claim for the smaller slash.
 */
import { readFileSync } from "node:fs";
import { FatalError, RetryableError } from "../../../common/errors.ts";
import { parseInputsDocument } from "../../../common/inputs/document.ts";
import { encodeProof } from "../../../common/proofs/encoding.ts";
import { snarkjsProver } from "../../../common/proofs/prove.ts";
import type { ProverBackend } from "../backends/types.ts";
import type { ServedCircuit } from "../config.ts";
import type { ProverPool } from "../prover/pool.ts";

/** The backend failed to produce a proof (crash, timeout): it may work for the next job. */
export class BackendFailedError extends RetryableError {}

/** The backend produced a proof that does not verify: it must not be used again until the operator looks. */
export class InvalidProofError extends FatalError {}

export interface ProvedJob {
  proof: string;
  publicSignals: bigint[];
  /** Seconds the backend took. */
  seconds: number;
}

const vkeys = new Map<string, unknown>();

function verifyingKey(circuit: ServedCircuit): unknown {
  let vkey = vkeys.get(circuit.files.vkey);
  if (vkey === undefined) {
    vkey = JSON.parse(readFileSync(circuit.files.vkey, "utf8"));
    vkeys.set(circuit.files.vkey, vkey);
  }
  return vkey;
}

export async function proveJob(p: {
  jobId: bigint;
  circuit: ServedCircuit;
  /** The inputs document (JSON text) preflight checked. */
  inputs: string;
  witness?: Uint8Array;
  backend: ProverBackend;
  pool: ProverPool;
  /** The claim's deadline (chain time, seconds) and the ms left until it. */
  deadline: number;
  timeoutMs: number;
}): Promise<ProvedJob> {
  let witness = p.witness;
  if (witness === undefined) {
    const parsed = parseInputsDocument(p.circuit.manifestData, JSON.parse(p.inputs));
    witness = (await p.pool.run({ kind: "witness", wasm: p.circuit.files.wasm, inputs: parsed.signals }, p.deadline))
      .witness;
  }
  let reply;
  try {
    reply = await p.backend.prove({
      system: p.circuit.system,
      zkey: p.circuit.files.zkey,
      witness,
      deadline: p.deadline,
      timeoutMs: p.timeoutMs,
    });
  } catch (e) {
    throw new BackendFailedError("prove", "BACKEND_FAILED", `backend ${p.backend.name} failed`, {
      cause: e,
      details: { jobId: p.jobId, backend: p.backend.name },
    });
  }
  let valid: boolean;
  try {
    valid = await snarkjsProver(p.circuit.system).verify(verifyingKey(p.circuit), reply.publicSignals, reply.proof);
  } catch {
    valid = false;
  }
  if (!valid)
    throw new InvalidProofError("prove", "INVALID_PROOF", `backend ${p.backend.name} produced an invalid proof`, {
      details: { jobId: p.jobId, backend: p.backend.name },
    });
  const encoded = await encodeProof(p.circuit.system, reply.proof, reply.publicSignals);
  return { proof: encoded.proof, publicSignals: encoded.publicSignals, seconds: reply.seconds };
}
