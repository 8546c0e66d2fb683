/** One interface for every way of turning a witness into a proof. */
import type { ProofSystem } from "../../../common/circuits/manifest.ts";

export interface ProveRequest {
  system: ProofSystem;
  /** Path of the circuit's proving key. */
  zkey: string;
  /** The witness, in snarkjs' .wtns format. */
  witness: Uint8Array;
  /** Unix seconds: orders the queue (earliest first). */
  deadline: number;
  /** How long the prover may take: the time left to the claim's deadline, by the chain's clock. */
  timeoutMs: number;
}

export interface ProveResult {
  proof: Record<string, unknown>;
  publicSignals: string[];
  seconds: number;
}

export interface ProverBackend {
  readonly name: string;
  readonly systems: readonly ProofSystem[];
  prove(request: ProveRequest): Promise<ProveResult>;
}
