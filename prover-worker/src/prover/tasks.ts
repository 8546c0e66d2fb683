/** What flows between the worker and its proving slots. */
import type { ProofSystem } from "../../../common/circuits/manifest.ts";

export type SlotTask =
  | { kind: "witness"; wasm: string; inputs: Record<string, unknown> }
  | { kind: "prove"; system: ProofSystem; zkey: string; witness: Uint8Array };

export type SlotReply =
  | { ok: true; kind: "witness"; witness: Uint8Array }
  | { ok: true; kind: "prove"; proof: Record<string, unknown>; publicSignals: string[]; seconds: number }
  | { ok: false; error: string; circuitRejected: boolean };
