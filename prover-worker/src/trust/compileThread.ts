/**
 * Compiles verifier sources (trust/expectedVerifiers.ts) in a worker thread of its own: the compiler (soljson, WASM)
 * takes some 200 MB once loaded and blocks its thread for seconds, so it runs where neither lasts. The thread ends
 * when it has answered, releasing the compiler's heap, and the worker's event loop (health, metrics) keeps answering
 * meanwhile.
 */
import { createHash } from "node:crypto";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { compileAsGeneratedVerifiers } from "../../../common/deploy/circuitRegistration.ts";

export interface VerifierSource {
  contractName: string;
  source: string;
}

/** One set's compilation: the runtime bytecode of each source's contract, or the compiler's error. */
export type CompiledVerifiers =
  | {
      ok: true;
      /** Project source unit name -> sha256 of the contents the compiler read (what the sources import). */
      imports: Record<string, string>;
      /** Runtime bytecode (metadata included) of each source's contract, in the order given. */
      deployedBytecode: string[];
    }
  | { ok: false; error: string };

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function compile(verifiers: VerifierSource[]): CompiledVerifiers {
  const imports: Record<string, string> = {};
  try {
    const compiled = compileAsGeneratedVerifiers(verifiers, {
      onImport: (sourceName, contents) => (imports[sourceName] = sha256(contents)),
    });
    return { ok: true, imports, deployedBytecode: compiled.map((c) => c.deployedBytecode) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/**
 * Compiles each set of sources (one circuit's verifiers) on its own, all in one new thread (the compiler loads
 * once), and resolves with the outcome of each, in order.
 */
export function compileInThread(sets: VerifierSource[][]): Promise<CompiledVerifiers[]> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL(import.meta.url), { workerData: { compileVerifierSets: sets } });
    thread.once("message", (compiled: CompiledVerifiers[]) => resolve(compiled));
    thread.once("error", reject);
    thread.once("exit", (code) => reject(new Error(`the compiler thread exited (${code}) without an answer`)));
  });
}

// In the thread compileInThread starts (and no other that happens to import this module).
const asked = (workerData as { compileVerifierSets?: VerifierSource[][] } | null)?.compileVerifierSets;
if (!isMainThread && parentPort !== null && asked !== undefined) parentPort.postMessage(asked.map(compile));
