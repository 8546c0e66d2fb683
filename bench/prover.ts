/**
 * `npm run bench` (prover part): on poseidon_chain (about 33k constraints, DESIGN.md's benchmark circuit), in one
 * run on this machine:
 *   - `snarkjs groth16 fullprove` as a CLI, one process per proof (the baseline);
 *   - the worker's snarkjs backend (witness + proof in a warm slot that keeps the proving key loaded);
 *   - proofs per minute with all slots busy, and the peak memory of the slots and the parent.
 * Ratios are of medians measured in the same run; the machine is shared and noisy, so compare ratios, not seconds.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { loadManifest, manifestPath } from "../common/circuits/catalog.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { artifactPath } from "../common/circuits/manifest.ts";
import { snarkjsBackend } from "../prover-worker/src/backends/snarkjs.ts";
import { createProverPool } from "../prover-worker/src/prover/pool.ts";

const PROOFS = Number(process.env.BENCH_PROOFS ?? 4);
const SLOTS = Number(process.env.BENCH_SLOTS ?? 2);
const CIRCUIT = "poseidon_chain";

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

// 1. The baseline: one `snarkjs groth16 fullprove` process per proof.
const dir = mkdtempSync(path.join(os.tmpdir(), "pm-bench-"));
const cliTimes: number[] = [];
let cliPeakKiB = 0;
for (const [i, input] of inputs.slice(1).entries()) {
  const inputFile = path.join(dir, `input${i}.json`);
  writeFileSync(inputFile, JSON.stringify(input));
  const started = performance.now();
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
  cliTimes.push((performance.now() - started) / 1000);
  if (run.status !== 0) throw new Error(`snarkjs CLI failed: ${run.stderr}`);
  if (timed) cliPeakKiB = Math.max(cliPeakKiB, Number(run.stderr.trim().split("\n").at(-1)));
}

// 2. The worker's snarkjs backend, one slot, keys warm (the first proof loads them and is not counted).
const single = createProverPool(1);
const backend = snarkjsBackend(single);
const workerTimes: number[] = [];
for (const [i, input] of inputs.entries()) {
  const started = performance.now();
  const { witness } = await single.run({ kind: "witness", wasm, inputs: input }, 0);
  await backend.prove({ system: "groth16", zkey, witness, deadline: 0, timeoutMs: 600_000 });
  if (i > 0) workerTimes.push((performance.now() - started) / 1000);
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
const worker = median(workerTimes);
const rows: [string, string][] = [
  ["snarkjs groth16 fullprove CLI, s/proof (median)", cli.toFixed(3)],
  ["worker snarkjs backend, s/proof (median, warm)", worker.toFixed(3)],
  ["ratio worker / CLI (goal <= 0.7 in DESIGN.md, <= 0.5 in issue #3)", (worker / cli).toFixed(3)],
  [`proofs per minute, ${SLOTS} slots busy`, ((tasks.length / elapsed) * 60).toFixed(1)],
  [`peak memory, ${SLOTS} slots + parent, MiB (goal <= 1024)`, ((slotPeakKiB + parentPeakKiB) / 1024).toFixed(0)],
  ["peak memory, snarkjs CLI one proof, MiB", cliPeakKiB > 0 ? (cliPeakKiB / 1024).toFixed(0) : "n/a"],
];
for (const [k, v] of rows) console.log(`${k.padEnd(70)} ${v.padStart(9)}`);
process.exit(0);
