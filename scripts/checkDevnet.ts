/**
 * Checks a running `npm start` from its output, as a user following the README would: waits for its banner, asks
 * the printed GraphiQL URL the printed query, and exits 0 once every demo job it posted shows Proved (.ci/run).
 *
 *   node scripts/checkDevnet.ts <file with npm start's output> [timeout in seconds, 600]
 */
import { readFileSync } from "node:fs";
import { type Banner, parseBanner, waitForDemoJobsProved } from "./devnetBanner.ts";

const [logFile, timeoutArg = "600"] = process.argv.slice(2);
if (logFile === undefined) {
  console.error("usage: node scripts/checkDevnet.ts <file with npm start's output> [timeout in seconds]");
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutArg) * 1000;

try {
  let banner: Banner | undefined;
  while ((banner = parseBanner(readFileSync(logFile, "utf8"))) === undefined) {
    if (Date.now() > deadline) throw new Error(`npm start did not print "ready." within ${timeoutArg} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const answer = await waitForDemoJobsProved(banner, deadline - Date.now());
  console.log(`${banner.graphiql} answers the printed query: ${answer.jobs.nodes.length} demo jobs, all Proved`);
} catch (e) {
  console.error(`quick start check failed: ${(e as Error).message} (npm start's output: ${logFile})`);
  process.exit(1);
}
