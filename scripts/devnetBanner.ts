/**
 * What `npm start` prints, read back the way a user reads it: the GraphiQL URL and the query to paste, and the
 * demo jobs it posted; and the processes it leaves behind (none, once stopped). `npm start` prints with these
 * labels; .ci/run (through checkDevnet.ts) and test/e2e/Start.test.ts parse with them, so the quick start is
 * checked exactly as it is printed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const READY_LINE = "[devnet] ready.";
export const POSTED_PREFIX = "[devnet] posted job ";
/** In npm start's folder (.devnet/): the pid of `npm start` and of each component, by name. */
export const PIDS_FILE = "pids.json";
export const LABELS = { graphiql: "GraphiQL:", query: "Try:", chain: "Chain:" } as const;

export interface Banner {
  graphiql: string;
  query: string;
  /** How many demo jobs `npm start` said it posted. */
  postedJobs: number;
}

/** The banner in `npm start`'s output, or undefined while it has not printed "ready." yet. */
export function parseBanner(output: string): Banner | undefined {
  if (!output.includes(READY_LINE)) return undefined;
  const graphiql = new RegExp(`^\\s*${LABELS.graphiql}\\s+(\\S+)\\s*$`, "m").exec(output)?.[1];
  const query = new RegExp(`^\\s*${LABELS.query}\\s+([\\s\\S]*?)\\n\\s*${LABELS.chain}`, "m").exec(output)?.[1];
  if (graphiql === undefined || query === undefined) throw new Error(`npm start printed no GraphiQL URL and query`);
  const postedJobs = output.split("\n").filter((line) => line.startsWith(POSTED_PREFIX)).length;
  return { graphiql, query, postedJobs };
}

interface DemoAnswer {
  jobs: { id: string; status: string }[];
  marketStats: { proved: number };
}

/** Asks the printed URL the printed query; throws on a GraphQL error. */
export async function askBanner(banner: Banner): Promise<DemoAnswer> {
  const response = await fetch(banner.graphiql, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: banner.query }),
  });
  const { data, errors } = (await response.json()) as { data?: DemoAnswer; errors?: unknown[] };
  if (errors !== undefined || data === undefined)
    throw new Error(`the printed query failed at ${banner.graphiql}: ${JSON.stringify(errors)}`);
  return data;
}

/** Waits until the printed query shows every posted demo job Proved. */
export async function waitForDemoJobsProved(banner: Banner, timeoutMs: number): Promise<DemoAnswer> {
  const started = Date.now();
  for (;;) {
    const answer = await askBanner(banner);
    const proved = answer.jobs.filter((job) => job.status === "Proved").length;
    if (banner.postedJobs > 0 && proved === banner.postedJobs && answer.marketStats.proved === proved) return answer;
    if (Date.now() - started > timeoutMs)
      throw new Error(`after ${timeoutMs / 1000} s, ${proved} of ${banner.postedJobs} demo jobs are Proved`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The pids `npm start` wrote to <devnet dir>/pids.json, by component name. */
export function devnetPids(devnetDir: string): Record<string, number> {
  return JSON.parse(readFileSync(path.join(devnetDir, PIDS_FILE), "utf8"));
}

/** Whether a process is still running (a zombie, exited but not yet reaped by its parent, is not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}
