/**
 * One proving slot: a child process that computes witnesses and proofs with snarkjs. (A child process rather than
 * a worker thread: snarkjs' own thread pool assumes any worker thread it finds itself in is one of its own.)
 * Circuit WASMs and proving keys are read once and kept in memory between tasks, not re-read per proof.
 */
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { snarkjsProver } from "../../../common/proofs/prove.ts";
import type { SlotReply, SlotTask } from "./tasks.ts";

const files = new Map<string, Uint8Array>();
function cached(file: string): { type: "mem"; data: Uint8Array } {
  let data = files.get(file);
  if (data === undefined) {
    data = new Uint8Array(readFileSync(file));
    files.set(file, data);
  }
  return { type: "mem", data };
}

async function run(task: SlotTask): Promise<SlotReply> {
  if (task.kind === "witness") {
    const witness: { type: "mem"; data?: Uint8Array } = { type: "mem" };
    await snarkjs.wtns.calculate(task.inputs, cached(task.wasm), witness);
    return { ok: true, kind: "witness", witness: witness.data! };
  }
  const prover = snarkjsProver(task.system);
  const started = performance.now();
  const { proof, publicSignals } = await prover.prove(cached(task.zkey), { type: "mem", data: task.witness });
  return { ok: true, kind: "prove", proof, publicSignals, seconds: (performance.now() - started) / 1000 };
}

// circom's witness calculator reports inputs that break a constraint or do not fit the circuit with these.
const CIRCUIT_REJECTION =
  /Assert Failed|Not all inputs have been set|Too many values for input signal|Signal not found|Error in template|Invalid witness length/i;

process.on("message", (task: SlotTask) => {
  run(task).then(
    (reply) => process.send!(reply),
    (error: Error) => {
      const message = error?.message ?? String(error);
      process.send!({
        ok: false,
        error: message,
        circuitRejected: task.kind === "witness" && CIRCUIT_REJECTION.test(message),
      } satisfies SlotReply);
    },
  );
});
process.on("disconnect", () => process.exit(0));
