/**
 * The worker's stage supervisor (prover-worker/src/pipeline/supervisor.ts) with real timers kept short: a stage whose
 * pass throws is restarted after a backoff that doubles up to its cap and starts over after a pass that succeeds;
 * one failing stage does not hold up another; wake() cuts a stage's pause (or backoff) short; run() ends once
 * running() turns false; lastPass() says when each stage last succeeded. Timings are asserted as orderings and
 * lower bounds only, so a loaded machine makes the tests slower, not red.
 */
import { expect } from "chai";
import { createSupervisor, type StageSpec, type Supervisor } from "../../prover-worker/src/pipeline/supervisor.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";

/** Resolves once `condition` holds (checked every few ms); rejects after `timeoutMs` saying what it waited for. */
async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A stage that records when each of its passes started and ended, running `body` (which may throw) as the pass. */
function recordingStage(name: string, intervalMs: number, body: (n: number) => void | Promise<void> = () => {}) {
  const starts: number[] = [];
  const ends: number[] = [];
  const spec: StageSpec = {
    name,
    intervalMs,
    pass: async () => {
      starts.push(Date.now());
      await body(starts.length);
      ends.push(Date.now());
    },
  };
  return { spec, starts, ends };
}

describe("worker stage supervisor", function () {
  this.timeout(5_000);

  let stop: () => void;
  let ended: Promise<void> | null;

  /** Starts the stages; `stop()` (called after each test too) ends them and waits for run() to resolve. */
  function start(stages: StageSpec[], options: { initialMs?: number; maxMs?: number } = {}) {
    let running = true;
    const { logger, lines } = capturingLogger();
    const restarts: { stage: string; error: unknown }[] = [];
    const supervisor: Supervisor = createSupervisor(stages, {
      running: () => running,
      logger,
      onRestart: (stage, error) => restarts.push({ stage, error }),
      ...options,
    });
    const run = supervisor.run();
    stop = () => {
      running = false;
      supervisor.wake();
    };
    ended = run;
    return { supervisor, run, restarts, lines, stop };
  }

  afterEach(async function () {
    stop?.();
    await ended;
    ended = null;
  });

  it("restarts a failing stage after a backoff that doubles to its cap, and starts over after a success", async function () {
    // Passes 1-4 fail, 5 succeeds, 6-7 fail, 8 succeeds.
    const failing = new Set([1, 2, 3, 4, 6, 7]);
    const flaky = recordingStage("flaky", 5, (n) => {
      if (failing.has(n)) throw new Error(`pass ${n} failed`);
    });
    const { restarts, lines } = start([flaky.spec], { initialMs: 20, maxMs: 80 });
    await until(() => flaky.starts.length >= 8, "eight passes");

    const failures = lines.filter((l) => l.msg === "stage failed; restarting after a backoff").slice(0, 6);
    expect(failures.map((l) => l.fields.failures)).to.deep.equal([1, 2, 3, 4, 1, 2]);
    expect(failures.map((l) => l.fields.error)).to.deep.equal([1, 2, 3, 4, 6, 7].map((n) => `pass ${n} failed`));
    const delays = failures.map((l) => l.fields.delayMs as number);
    // 20, 40, 80, then capped at 80; after the success, 20 and 40 again: each within its ±20% jitter.
    const bases = [20, 40, 80, 80, 20, 40];
    delays.forEach((d, i) => expect(d, `delay ${i + 1}`).to.be.within(bases[i] * 0.8, bases[i] * 1.2));
    expect(delays[2], "the backoff grows").to.be.greaterThan(delays[0]);
    expect(delays[4], "a success resets it").to.be.lessThan(delays[3]);

    // Each restart waited at least its backoff (timers fire late, not early; 2 ms for the clocks' granularity).
    // From the start of pass n to the start of pass n + 1.
    const gap = (n: number) => flaky.starts[n] - flaky.starts[n - 1];
    for (const [i, failed] of [1, 2, 3, 4, 6, 7].entries())
      expect(gap(failed), `wait after failed pass ${failed}`).to.be.at.least(delays[i] - 2);

    expect(restarts.slice(0, 6).map((r) => r.stage)).to.deep.equal(Array(6).fill("flaky"));
    expect((restarts[0].error as Error).message).to.equal("pass 1 failed");
  });

  it("keeps the other stages running while one fails at every pass", async function () {
    const broken = recordingStage("broken", 5, () => {
      throw new Error("RPC down");
    });
    const steady = recordingStage("steady", 1);
    const { supervisor, restarts } = start([broken.spec, steady.spec], { initialMs: 20, maxMs: 40 });
    await until(() => broken.starts.length >= 4, "four failed passes of the broken stage");
    // The broken stage's backoff (20, 40, 40 ms) spans many passes of the steady one.
    expect(steady.starts.length).to.be.greaterThan(broken.starts.length);
    const afterFirstFailure = steady.starts.filter((t) => t > broken.starts[0]).length;
    expect(afterFirstFailure, "steady passes after the first failure").to.be.at.least(3);
    expect(new Set(restarts.map((r) => r.stage))).to.deep.equal(new Set(["broken"]));
    const passes = supervisor.lastPass();
    expect(passes.broken, "a stage that never succeeded").to.equal(0);
    expect(passes.steady).to.be.at.least(steady.starts[0]);
  });

  it("wake(name) cuts that stage's pause short, and only that stage's", async function () {
    const sleepy = recordingStage("sleepy", 60_000);
    const other = recordingStage("other", 60_000);
    const { supervisor } = start([sleepy.spec, other.spec]);
    await until(() => sleepy.starts.length === 1 && other.starts.length === 1, "a first pass of each");
    await until(() => supervisor.lastPass().sleepy > 0, "the first pass recorded");

    supervisor.wake("other");
    await until(() => other.starts.length === 2, "a second pass of the woken stage (not a minute later)");
    expect(sleepy.starts.length, "the stage not woken still sleeps").to.equal(1);

    supervisor.wake("sleepy");
    await until(() => sleepy.starts.length === 2, "a second pass of the sleepy stage once woken");
    expect(other.starts.length).to.equal(2);

    // No name: every stage.
    supervisor.wake();
    await until(() => sleepy.starts.length === 3 && other.starts.length === 3, "a third pass of both");
  });

  it("a wake that comes during a pass skips the pause after it; a wake during a backoff retries at once", async function () {
    // Wakes itself during its first pass: the one-minute pause that follows is skipped.
    const selfWaking = recordingStage("self", 60_000, async (n) => {
      await Promise.resolve(); // the first pass starts inside start(), before `supervisor` below is set
      if (n === 1) supervisor.wake("self");
    });
    // Fails its first pass: a one-minute backoff, which a wake cuts short.
    const failing = recordingStage("failing", 60_000, (n) => {
      if (n === 1) throw new Error("first pass fails");
    });
    const { supervisor } = start([selfWaking.spec, failing.spec], { initialMs: 60_000, maxMs: 60_000 });
    await until(() => selfWaking.starts.length === 2, "a second pass right after the self-wake");

    await until(() => failing.starts.length === 1, "the failing stage's first pass");
    expect(supervisor.lastPass().failing).to.equal(0);
    supervisor.wake("failing");
    await until(() => failing.starts.length === 2, "a retry once woken, not a minute later");
    await until(() => supervisor.lastPass().failing > 0, "the retry's success recorded");
    expect(selfWaking.starts.length, "the self-wake was used once, not kept").to.equal(2);
  });

  it("run() resolves once running() turns false, and no pass starts after that", async function () {
    const a = recordingStage("a", 60_000);
    const b = recordingStage("b", 1);
    const { run, stop: end } = start([a.spec, b.spec]);
    let resolved = false;
    void run.then(() => (resolved = true));
    await until(() => b.starts.length >= 3, "three passes of b");
    expect(resolved, "still running").to.equal(false);
    end();
    await run;
    const passes = [a.starts.length, b.starts.length];
    // A few more timer turns: nothing runs any more.
    await new Promise((r) => setTimeout(r, 20));
    expect([a.starts.length, b.starts.length]).to.deep.equal(passes);
  });

  it("run() waits for a pass in progress to end", async function () {
    let finish!: () => void;
    const inPass = new Promise<void>((r) => (finish = r));
    let passEnded = false;
    const slow = recordingStage("slow", 1, async () => {
      await inPass;
      passEnded = true;
    });
    const { run, stop: end } = start([slow.spec]);
    await until(() => slow.starts.length === 1, "the pass started");
    let resolved = false;
    void run.then(() => (resolved = true));
    end();
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved, "run() while a pass is still running").to.equal(false);
    finish();
    await run;
    expect(passEnded).to.equal(true);
    expect(slow.starts.length).to.equal(1);
  });

  it("lastPass() reports when each stage last finished a pass, 0 before its first", async function () {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const gated = recordingStage("gated", 60_000, () => held);
    const quick = recordingStage("quick", 60_000);
    const before = Date.now();
    const { supervisor } = start([gated.spec, quick.spec]);
    await until(() => supervisor.lastPass().quick > 0, "quick's first pass recorded");
    const first = supervisor.lastPass();
    expect(first.gated, "a pass still running is not reported").to.equal(0);
    expect(first.quick).to.be.within(before, Date.now());
    expect(Object.keys(first).sort()).to.deep.equal(["gated", "quick"]);

    const releasedAt = Date.now();
    release();
    await until(() => supervisor.lastPass().gated > 0, "gated's pass recorded");
    expect(supervisor.lastPass().gated, "recorded when the pass ended").to.be.at.least(releasedAt);

    supervisor.wake("quick");
    await until(() => quick.ends.length === 2, "quick's second pass");
    await until(() => supervisor.lastPass().quick >= quick.ends[1], "quick's second pass recorded");
    // A copy: changing it changes nothing in the supervisor.
    const copy = supervisor.lastPass();
    copy.quick = -1;
    expect(supervisor.lastPass().quick).to.be.at.least(quick.ends[1]);
  });
});
