/**
 * Supervisor: runs each of the worker's long-lived stages (discovery, scheduling, keeping, reconciliation) as a loop,
 * and restarts a stage whose pass throws, after a backoff that doubles from `initialMs` to `maxMs` (±20%) and resets
 * after a pass that succeeds. One stage failing (the RPC down for discovery) never stops the others (proving and
 * submitting what is held). Each pass ends with a pause that `wake()` cuts short.
 */
import { backoffDelay } from "../../../common/backoff.ts";
import { errorCode, messageOf } from "../../../common/errors.ts";
import type { Logger } from "../../../common/log.ts";

export interface StageSpec {
  name: string;
  /** One pass of the stage. */
  pass(): Promise<void>;
  /** Pause between passes (ms). */
  intervalMs: number;
}

export interface Supervisor {
  /** Runs every stage until `running()` turns false; resolves once all have ended. */
  run(): Promise<void>;
  /** Cuts the named stage's pause short (or every stage's). */
  wake(stage?: string): void;
  /** When each stage last finished a pass (ms since the epoch; 0: never). */
  lastPass(): Record<string, number>;
}

export function createSupervisor(
  stages: StageSpec[],
  o: {
    running(): boolean;
    logger: Logger;
    onRestart?(stage: string, error: unknown): void;
    initialMs?: number;
    maxMs?: number;
  },
): Supervisor {
  const initialMs = o.initialMs ?? 500;
  const maxMs = o.maxMs ?? 30_000;
  const last: Record<string, number> = Object.fromEntries(stages.map((s) => [s.name, 0]));
  const wakers = new Map<string, { woken: boolean; cut: (() => void) | null }>(
    stages.map((s) => [s.name, { woken: false, cut: null }]),
  );

  const pause = (name: string, ms: number) => {
    const w = wakers.get(name)!;
    if (w.woken) {
      w.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        w.cut = null;
        w.woken = false;
        resolve();
      }
      w.cut = done;
    });
  };

  async function loop(stage: StageSpec): Promise<void> {
    let failures = 0;
    while (o.running()) {
      try {
        await stage.pass();
        failures = 0;
        last[stage.name] = Date.now();
        await pause(stage.name, stage.intervalMs);
      } catch (e) {
        failures++;
        const delayMs = backoffDelay(failures, { initialMs, maxMs });
        o.onRestart?.(stage.name, e);
        o.logger.warn("stage failed; restarting after a backoff", {
          stage: stage.name,
          error: messageOf(e),
          code: errorCode(e),
          failures,
          delayMs,
        });
        await pause(stage.name, delayMs);
      }
    }
  }

  return {
    run: async () => {
      await Promise.all(stages.map(loop));
    },
    wake(name) {
      for (const [stage, w] of wakers) {
        if (name !== undefined && stage !== name) continue;
        w.woken = true;
        w.cut?.();
      }
    },
    lastPass: () => ({ ...last }),
  };
}
