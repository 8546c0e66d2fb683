/**
 * `npm run sim`: an agent-based simulation of the market on the real contracts (sim/engine.ts), seeded so that a
 * run can be repeated exactly, with its report written to a folder (sim/report.ts).
 */
import { InvalidArgumentError } from "commander";
import { createProgram, runProgram } from "../common/cli/program.ts";
import path from "node:path";
import { releaseSnarkjs } from "../dev/releaseSnarkjs.ts";
import { runSimulation } from "./engine.ts";
import { fmt, writeReport } from "./report.ts";
import { runSweep, writeSweepReport } from "./sweep.ts";
import { defaultScenario } from "./scenario.ts";

const wholeNumber = (what: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expected ${what} (a whole number of at least 1), got ${value}`);
  return Number(value);
};

const program = createProgram(
  "npm run sim --",
  "simulate the market with honest and dishonest provers and requesters on the real contracts, and report who wins",
)
  .option("--seed <n>", "the random seed: the same seed repeats the run exactly", wholeNumber("a seed"), 1)
  .option("--jobs <n>", "jobs to post", wholeNumber("a job count"), 500)
  .option("--out <folder>", "where the report goes", "sim-report")
  .option(
    "--sweep",
    "run the market again for each value of the slash shares and the abandon fraction (one at a time, then at the attacker's corner: keeper and reward shares at their joint cap) and chart each strategy's profit against them",
  )
  .showHelpAfterError()
  .action(async (opts: { seed: number; jobs: number; out: string; sweep?: boolean }) => {
    const started = Date.now();
    const scenario = defaultScenario({ seed: opts.seed, jobs: opts.jobs });
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
    // The witness calculator prints its own refusal, which would otherwise read as the simulation failing.
    if (scenario.requesters.some((r) => r.griefs === "unprovable-inputs"))
      console.error(
        "note: a griefer posts jobs whose inputs have no valid witness; the worker's preflight refuses them, and the " +
          'witness calculator prints that once as "ERROR: ... Error in template PoseidonPreimage": expected',
      );
    if (opts.sweep) {
      const rows = await runSweep(scenario, (line) => console.error(`${elapsed()}: ${line}`));
      const folder = path.resolve(opts.out);
      console.log(await writeSweepReport(rows, scenario, folder));
      console.log(`${rows.length} markets in ${elapsed()}; report: ${path.join(folder, "sweep.md")}`);
      return;
    }
    const result = await runSimulation(scenario, (line) => console.error(line));
    const folder = path.resolve(opts.out);
    const summary = await writeReport(result, folder);
    console.log(`${result.jobs.length} jobs, ${result.blocks} blocks, in ${elapsed()}`);
    console.table(
      summary.strategies.map((s) => ({
        strategy: s.strategy,
        claims: s.claims,
        proofs: s.proofs,
        "fees earned": fmt(s.fees),
        slashed: fmt(s.slashed),
        gas: fmt(s.gas),
        "proving cost": fmt(s.provingCost),
        "net profit": fmt(s.profit),
      })),
    );
    console.log(`report: ${path.join(folder, "summary.md")}`);
  });

// snarkjs keeps worker threads: released before the process exits with the outcome's code.
program.hook("postAction", () => releaseSnarkjs());
await runProgram(program, process.argv.slice(2), { userErrors: [], provider: () => undefined });
