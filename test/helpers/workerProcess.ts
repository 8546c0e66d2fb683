/**
 * Runs the prover-worker CLI as a real process (so tests can SIGTERM or SIGKILL it) and collects its JSON logs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { type Ran, runProcess } from "./runProcess.ts";

const CLI = path.join(REPO_ROOT, "prover-worker", "src", "cli.ts");

export function writeWorkerConfig(config: Record<string, unknown>): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pm-worker-"));
  const file = path.join(dir, "worker.json");
  // The tests' coordinators serve inputs from 127.0.0.1, which a worker refuses unless its config allows loopback.
  const defaults = { dataDir: path.join(dir, "data"), inputsFetch: { allowLoopback: true } };
  writeFileSync(file, JSON.stringify({ ...defaults, ...config }, null, 2));
  return { file, dir };
}

/** Runs a one-shot command (stake, status, ...) and returns its output. */
export function workerCommand(args: string[], privateKey: string): Promise<Ran> {
  return runProcess(process.execPath, [CLI, ...args], { env: { PM_PRIVATE_KEY: privateKey } });
}

export interface LoggedProcess {
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves with the first log line that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

export type WorkerProcess = LoggedProcess;

export function startWorker(
  configFile: string,
  privateKey: string,
  extraEnv: Record<string, string> = {},
): WorkerProcess {
  return spawnLogged([CLI, "run", "--config", configFile], { PM_PRIVATE_KEY: privateKey, ...extraEnv });
}

/** Runs `node <args>` from the repository root and collects its JSON log lines (stderr). */
export function spawnLogged(args: string[], env: Record<string, string>): LoggedProcess {
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let buffer = "";
  proc.stderr!.on("data", (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = { msg: line, level: "raw" };
      }
      logs.push(parsed);
      for (const w of waiters.splice(0)) {
        if (w.match(parsed)) w.resolve(parsed);
        else waiters.push(w);
      }
    }
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return {
    proc,
    logs,
    exited,
    waitForLog(match, timeoutMs = 120_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching worker log within ${timeoutMs} ms; last logs:\n${logs
                  .slice(-10)
                  .map((l) => JSON.stringify(l))
                  .join("\n")}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

/** Writes a worker config for `account` and stakes 50 tokens through the worker's own CLI. */
export async function stakedWorkerConfig(
  account: { privateKey: string },
  config: Record<string, unknown>,
): Promise<{ file: string; dir: string }> {
  const written = writeWorkerConfig(config);
  const staked = await workerCommand(["stake", "50", "--config", written.file], account.privateKey);
  if (staked.code !== 0) throw new Error(`prover-worker stake failed (${staked.code}): ${staked.stderr}`);
  return written;
}

/** The value of each sample of a metric in a Prometheus text exposition, keyed by its labels ("" for none). */
export function metricSamples(exposition: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of exposition.split("\n")) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/);
    if (m !== null && m[1] === name) found.set(m[2] ?? "", Number(m[3]));
  }
  return found;
}
