/**
 * Checks a running `npm start` from its output, as a user following the README would (.ci/run):
 *
 *   node scripts/checkDevnet.ts proved <file with npm start's output> [timeout in seconds, 600]
 *     waits for the banner, asks the printed GraphiQL URL the printed query, and exits 0 once every demo job it
 *     posted shows Proved;
 *   node scripts/checkDevnet.ts stopped [devnet dir, .devnet]
 *     after `npm start` has exited: exits 0 if none of the processes in its pids.json still runs.
 */
import { readFileSync } from "node:fs";
import { type Banner, devnetPids, isRunning, parseBanner, waitForDemoJobsProved } from "./devnetBanner.ts";

async function proved(logFile: string, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let banner: Banner | undefined;
  while ((banner = parseBanner(readFileSync(logFile, "utf8"))) === undefined) {
    if (Date.now() > deadline) throw new Error(`npm start did not print "ready." within ${timeoutSeconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const answer = await waitForDemoJobsProved(banner, deadline - Date.now());
  console.log(`${banner.graphiql} answers the printed query: ${answer.jobs.length} demo jobs, all Proved`);
}

function stopped(devnetDir: string): void {
  const left = Object.entries(devnetPids(devnetDir)).filter(([, pid]) => isRunning(pid));
  if (left.length > 0)
    throw new Error(`still running: ${left.map(([name, pid]) => `${name} (pid ${pid})`).join(", ")}`);
  console.log(`npm start left no process running (${devnetDir}/pids.json)`);
}

const [command, target, timeout = "600"] = process.argv.slice(2);
try {
  if (command === "proved" && target !== undefined) await proved(target, Number(timeout));
  else if (command === "stopped") stopped(target ?? ".devnet");
  else {
    console.error("usage: node scripts/checkDevnet.ts proved <npm start's output file> [timeout s] | stopped [dir]");
    process.exit(2);
  }
} catch (e) {
  console.error(`quick start check failed: ${(e as Error).message}`);
  process.exit(1);
}
