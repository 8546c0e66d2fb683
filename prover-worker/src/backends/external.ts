/**
 * Provers that run as external programs: `rapidsnark` (the binary given by path, called as
 * `prover <zkey> <witness.wtns> <proof.json> <public.json>`) and `command` (a template for GPU provers such as
 * icicle-snark or rapidsnark-gpu, with {zkey} {witness} {proof} {public} placeholders). The witness goes to a
 * temporary file; the proof and public signals come back as snarkjs JSON. At most `concurrency` run at once.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROOF_SYSTEMS, type ProofSystem } from "../../../common/circuits/manifest.ts";
import type { ProveRequest, ProverBackend, ProveResult } from "./types.ts";

function limiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Splits a command template into words (double quotes group), then fills the placeholders. */
export function expandTemplate(template: string, values: Record<string, string>): string[] {
  const words = template.match(/"[^"]*"|\S+/g) ?? [];
  return words.map((w) => w.replace(/^"|"$/g, "").replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m));
}

function run(argv: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], timeout: timeoutMs });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
    child.once("error", (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.once("exit", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} exited with ${signal ?? code}: ${stderr.trim().split("\n").at(-1) ?? ""}`)),
    );
  });
}

function externalBackend(
  name: string,
  systems: readonly ProofSystem[],
  argvFor: (files: Record<string, string>) => string[],
  concurrency: number,
): ProverBackend {
  const limit = limiter(concurrency);
  return {
    name,
    systems,
    prove: (request: ProveRequest) =>
      limit(async (): Promise<ProveResult> => {
        const dir = mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
        try {
          const files = {
            zkey: request.zkey,
            witness: path.join(dir, "witness.wtns"),
            proof: path.join(dir, "proof.json"),
            public: path.join(dir, "public.json"),
          };
          writeFileSync(files.witness, request.witness);
          const started = performance.now();
          await run(argvFor(files), Math.max(1000, request.timeoutMs));
          const seconds = (performance.now() - started) / 1000;
          return {
            proof: JSON.parse(readFileSync(files.proof, "utf8")),
            publicSignals: JSON.parse(readFileSync(files.public, "utf8")),
            seconds,
          };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  };
}

export function rapidsnarkBackend(binary: string, concurrency: number): ProverBackend {
  return externalBackend("rapidsnark", ["groth16"], (f) => [binary, f.zkey, f.witness, f.proof, f.public], concurrency);
}

export function commandBackend(template: string, concurrency: number): ProverBackend {
  return externalBackend("command", [...PROOF_SYSTEMS], (f) => expandTemplate(template, f), concurrency);
}
