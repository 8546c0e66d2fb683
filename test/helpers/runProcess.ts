/**
 * Runs a program to its end as a user would from a shell, and hands back what it printed and how it ended: the
 * CLI tests read exactly the lines and the exit code a user sees.
 */
import { spawn } from "node:child_process";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** @param env added to this process's environment */
export function runProcess(
  command: string,
  args: string[],
  { cwd = REPO_ROOT, env = {} }: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const proc = spawn(command, args, { cwd, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d) => (stdout += d));
  proc.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, stdout, stderr })));
}
