/**
 * `npm run bench` (prover part): on poseidon_chain (about 33k constraints, DESIGN.md's benchmark circuit), in one
 * run on this machine:
 *   - `snarkjs groth16 fullprove` as a CLI, one process per proof (the baseline);
 *   - the worker's snarkjs backend (witness + proof in a warm slot that keeps the proving key loaded);
 *   - the worker's rapidsnark backend (witness in a warm slot, proof by the binary), when PM_RAPIDSNARK_BINARY
 *     names one;
 *   - proofs per minute with all slots busy, and the peak memory of the slots and the parent.
 * Ratios are of medians measured in the same run, the provers taking turns proof by proof so that the machine's
 * load changes weigh on all alike; the machine is shared and noisy, so compare ratios, not seconds.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { loadManifest, manifestPath } from "../common/circuits/catalog.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { artifactPath } from "../common/circuits/manifest.ts";
import { rapidsnarkBackend } from "../prover-worker/src/backends/external.ts";
import { snarkjsBackend } from "../prover-worker/src/backends/snarkjs.ts";
import type { ProverBackend } from "../prover-worker/src/backends/types.ts";
import { createProverPool } from "../prover-worker/src/prover/pool.ts";

const PROOFS = Number(process.env.BENCH_PROOFS ?? 4);
const SLOTS = Number(process.env.BENCH_SLOTS ?? 2);
const CIRCUIT = "poseidon_chain";
const RAPIDSNARK = process.env.PM_RAPIDSNARK_BINARY;

const manifest = loadManifest(CIRCUIT);
const file = manifestPath(CIRCUIT);
const wasm = artifactPath(file, manifest.wasm);
const zkey = artifactPath(file, manifest.systems.groth16!.zkey);
const snarkjsCli = path.join(path.dirname(createRequire(import.meta.url).resolve("snarkjs")), "cli.cjs");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peakKiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

console.log(
  `circuit ${CIRCUIT}: ${manifest.constraints} constraints; ${PROOFS} proofs per measurement; ${os.cpus().length} cores\n`,
);
const inputs = await Promise.all(Array.from({ length: PROOFS + 1 }, (_, i) => exampleInputs(CIRCUIT, `bench-${i}`)));

if (RAPIDSNARK === undefined)
  console.log("rapidsnark: not measured; set PM_RAPIDSNARK_BINARY=/path/to/prover to include it\n");

// 1. The baseline: one `snarkjs groth16 fullprove` process per proof.
const dir = mkdtempSync(path.join(os.tmpdir(), "pm-bench-"));
let cliPeakKiB = 0;
function proveWithCli(i: number): void {
  const inputFile = path.join(dir, `input${i}.json`);
  writeFileSync(inputFile, JSON.stringify(inputs[i]));
  const argv = [
    process.execPath,
    snarkjsCli,
    "groth16",
    "fullprove",
    inputFile,
    wasm,
    zkey,
    path.join(dir, "proof.json"),
    path.join(dir, "public.json"),
  ];
  // GNU time, where installed, reports the CLI's peak memory (it adds no measurable time).
  const timed = existsSync("/usr/bin/time");
  const run = timed
    ? spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { encoding: "utf8" })
    : spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`snarkjs CLI failed: ${run.stderr}`);
  if (timed) cliPeakKiB = Math.max(cliPeakKiB, Number(run.stderr.trim().split("\n").at(-1)));
}

// 2. The worker's backends, each proof's witness in a warm slot (the first proof loads the keys and is not counted).
const single = createProverPool(1);
const backends: ProverBackend[] = [snarkjsBackend(single)];
if (RAPIDSNARK !== undefined) backends.push(rapidsnarkBackend(RAPIDSNARK, 1));
async function proveWithWorker(backend: ProverBackend, i: number): Promise<void> {
  const { witness } = await single.run({ kind: "witness", wasm, inputs: inputs[i] }, 0);
  await backend.prove({ system: "groth16", zkey, witness, deadline: 0, timeoutMs: 600_000 });
}

const secondsOf = async (work: () => unknown) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};
const cliTimes: number[] = [];
const backendTimes = new Map<ProverBackend, number[]>(backends.map((b) => [b, []]));
for (let i = 0; i <= PROOFS; i++) {
  if (i > 0) cliTimes.push(await secondsOf(() => proveWithCli(i)));
  for (const backend of backends) {
    const seconds = await secondsOf(() => proveWithWorker(backend, i));
    if (i > 0) backendTimes.get(backend)!.push(seconds);
  }
}
await single.close();

// 3. All slots busy: throughput and peak memory.
const pool = createProverPool(SLOTS);
const busy = snarkjsBackend(pool);
const tasks = Array.from({ length: SLOTS * 2 }, (_, i) => inputs[i % inputs.length]);
await Promise.all(pool.pids().map(() => pool.run({ kind: "witness", wasm, inputs: inputs[0] }, 0))); // spawn + load
const started = performance.now();
await Promise.all(
  tasks.map(async (input) => {
    const { witness } = await pool.run({ kind: "witness", wasm, inputs: input }, 0);
    await busy.prove({ system: "groth16", zkey, witness, deadline: 0, timeoutMs: 600_000 });
  }),
);
const elapsed = (performance.now() - started) / 1000;
const slotPeakKiB = pool.pids().reduce((sum, pid) => sum + peakKiB(pid), 0);
const parentPeakKiB = peakKiB(process.pid);
await pool.close();

const cli = median(cliTimes);
const rows: [string, string][] = [["snarkjs groth16 fullprove CLI, s/proof (median)", cli.toFixed(3)]];
for (const [backend, times] of backendTimes) {
  const worker = median(times);
  rows.push([`worker ${backend.name} backend, s/proof (median, warm)`, worker.toFixed(3)]);
  // DESIGN.md's goal is for the best backend on the machine (rapidsnark on CPU).
  const goal = backend.name === "rapidsnark" ? " (goal <= 0.2, DESIGN.md)" : "";
  rows.push([`ratio worker ${backend.name} / CLI${goal}`, (worker / cli).toFixed(3)]);
}
rows.push(
  [`proofs per minute, ${SLOTS} slots busy (snarkjs)`, ((tasks.length / elapsed) * 60).toFixed(1)],
  [`peak memory, ${SLOTS} slots + parent, MiB (goal <= 1024)`, ((slotPeakKiB + parentPeakKiB) / 1024).toFixed(0)],
  ["peak memory, snarkjs CLI one proof, MiB", cliPeakKiB > 0 ? (cliPeakKiB / 1024).toFixed(0) : "n/a"],
);
for (const [k, v] of rows) console.log(`${k.padEnd(76)} ${v.padStart(9)}`);
process.exit(0);
