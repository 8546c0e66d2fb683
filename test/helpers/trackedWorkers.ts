/**
 * The worker processes a test file starts: after each test, those still running are killed, and when the test failed
 * their last log lines are printed (the workers' own account of what went wrong). Call it inside `describe`, before
 * any hook that stops the chain they use.
 */
import { startWorker, type WorkerProcess } from "./workerProcess.ts";

export function trackedWorkers(): (
  configFile: string,
  privateKey: string,
  extraEnv?: Record<string, string>,
) => WorkerProcess {
  const running: WorkerProcess[] = [];
  afterEach(function () {
    if (this.currentTest?.state === "failed")
      for (const w of running)
        console.error(
          w.logs
            .slice(-30)
            .map((l) => JSON.stringify(l))
            .join("\n"),
        );
    for (const w of running.splice(0)) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  });
  return (configFile, privateKey, extraEnv = {}) => {
    const worker = startWorker(configFile, privateKey, extraEnv);
    running.push(worker);
    return worker;
  };
}
