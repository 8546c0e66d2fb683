/**
 * The proving slots: `size` child processes fed from one queue ordered earliest-deadline-first, so a job close to
 * its deadline is proven before one with time to spare. A slot that dies is replaced.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SlotReply, SlotTask } from "./tasks.ts";

/** A task failed; `circuitRejected` when the circuit itself refused the inputs (not worth retrying). */
export class SlotError extends Error {
  readonly circuitRejected: boolean;
  constructor(message: string, circuitRejected: boolean) {
    super(message);
    this.name = "SlotError";
    this.circuitRejected = circuitRejected;
  }
}

type Worker = ChildProcess;

interface Queued {
  deadline: number;
  seq: number;
  task: SlotTask;
  resolve(reply: SlotReply & { ok: true }): void;
  reject(error: Error): void;
}

export interface ProverPool {
  /** Runs a task; `deadline` (unix seconds) orders the queue. */
  run<K extends SlotTask["kind"]>(
    task: SlotTask & { kind: K },
    deadline: number,
  ): Promise<Extract<SlotReply, { ok: true; kind: K }>>;
  queueDepth(): number;
  busy(): number;
  /** Process ids of the slots (for memory measurements). */
  pids(): number[];
  close(): Promise<void>;
}

export function createProverPool(size: number): ProverPool {
  const queue: Queued[] = [];
  const idle: Worker[] = [];
  const running = new Map<Worker, Queued>();
  let seq = 0;
  let closed = false;

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      queue.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
      const next = queue.shift()!;
      const worker = idle.pop()!;
      running.set(worker, next);
      worker.send(next.task);
    }
  };

  const spawn = () => {
    const worker = fork(fileURLToPath(new URL("./slot.ts", import.meta.url)), [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    worker.on("message", (reply: SlotReply) => {
      const job = running.get(worker);
      running.delete(worker);
      idle.push(worker);
      if (job) {
        if (reply.ok) job.resolve(reply);
        else job.reject(new SlotError(reply.error, reply.circuitRejected));
      }
      dispatch();
    });
    worker.on("exit", (code, signal) => {
      const job = running.get(worker);
      running.delete(worker);
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
      job?.reject(new SlotError(`proving slot exited (${signal ?? code})`, false));
      if (!closed) {
        spawn(); // a crashed slot is replaced
        dispatch();
      }
    });
    idle.push(worker);
  };
  for (let i = 0; i < size; i++) spawn();

  return {
    run(task, deadline) {
      if (closed) return Promise.reject(new Error("prover pool is closed"));
      return new Promise((resolve, reject) => {
        queue.push({ deadline, seq: seq++, task, resolve: resolve as Queued["resolve"], reject });
        dispatch();
      });
    },
    queueDepth: () => queue.length,
    pids: () => [...idle, ...running.keys()].map((w) => w.pid!).filter((p) => p !== undefined),
    busy: () => running.size,
    async close() {
      closed = true;
      for (const q of queue.splice(0)) q.reject(new Error("prover pool closed"));
      await Promise.all(
        [...idle, ...running.keys()].map(
          (w) => new Promise((r) => (w.exitCode !== null ? r(null) : (w.once("exit", r), w.kill()))),
        ),
      );
    },
  };
}
