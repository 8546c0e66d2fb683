/**
 * The worker's claim decision (prover-worker/src/pipeline/decision.ts): one case per gate, each with its stable code,
 * whether it writes the job off (`final`), and a reason that names the numbers involved; the gates' order (a job
 * failing several gates reports the first); and the boundaries at which a job is claimed: the price of the block a
 * claim can first land in against the reservation price (not a second before the price reaches it, at that second).
 */
import { expect } from "chai";
import type { JobView } from "../../common/market/jobBook.ts";
import { firstSecondAtPrice, priceAt } from "../../common/market/price.ts";
import type { ServedCircuit } from "../../prover-worker/src/config.ts";
import {
  type Decision,
  type DecisionCode,
  type DecisionContext,
  decide,
} from "../../prover-worker/src/pipeline/decision.ts";

/** Chain time of every case (seconds). */
const NOW = 1_000_000;
const JOB_ID = 7n;

const served = { circuitId: 3, backend: "snarkjs" } as ServedCircuit;
const other = { circuitId: 4, backend: "rapidsnark" } as ServedCircuit;

/**
 * An Open job of the served circuit, its price rising from 10 (10 s ago) to 20 over 100 s, so 11 in the next block;
 * bond 2, a 300 s window, expiring in an hour: claimable.
 */
function openJob(): JobView {
  return {
    jobId: JOB_ID,
    status: "Open",
    attempt: 0n,
    terms: {
      requester: "0x" + "cc".repeat(20),
      circuitId: 3n,
      expiresAt: BigInt(NOW + 3600),
      provingWindow: 300n,
      minFee: 10n,
      maxFee: 20n,
      rampStart: BigInt(NOW - 10),
      rampDuration: 100n,
      bond: 2n,
      inputsCommitment: "0x00",
    },
  } as unknown as JobView;
}

/**
 * A context with every gate open: claiming, nothing held or seen, a reservation price of 5 for the served circuit, a
 * claim landing in the next second, maximum bond 50, 20 s to prove.
 */
function openContext(): DecisionContext {
  return {
    config: { policy: { maxBond: 50n, safetyMarginSeconds: 10, provingSecondsEstimate: 15 }, slots: 2 },
    circuits: [other, served],
    now: NOW,
    claimAt: NOW + 1,
    reservation: (c) => (c === served ? 5n : 1000n),
    claiming: true,
    freeStake: 100n,
    freeSlots: 2,
    provingSeconds: () => 20,
    inFlight: () => false,
    held: () => false,
    skipped: () => null,
    claimSeen: () => false,
    retryInMs: () => 0,
    backendOutOfService: () => undefined,
    circuitOutOfService: () => undefined,
  };
}

interface Gate {
  code: DecisionCode;
  final: boolean;
  /** Makes the job fail this gate (and only this one). The context's callbacks answer only for the job's own id
   *  (and the served circuit's backend and id), so a gate that asked about something else would stay open. */
  close(job: JobView, ctx: DecisionContext): void;
  /** What the reason must say: the numbers (and words) this gate's refusal is about. */
  reason: RegExp;
}

/** Every gate, in the order decide() checks them. */
const GATES: Gate[] = [
  {
    code: "STOPPING",
    final: false,
    close: (_job, ctx) => (ctx.claiming = false),
    reason: /stopping/,
  },
  {
    code: "NOT_OPEN",
    final: false,
    close: (job) => (job.status = "Claimed"),
    reason: /\bClaimed\b/,
  },
  {
    code: "IN_FLIGHT",
    final: false,
    close: (job, ctx) => (ctx.inFlight = (id) => id === job.jobId),
    reason: /already working/,
  },
  {
    code: "HELD",
    final: false,
    close: (job, ctx) => {
      job.attempt = 2n;
      ctx.held = (j) => j.jobId === job.jobId && j.attempt === 2n;
    },
    reason: /attempt 2\b/,
  },
  {
    code: "SKIPPED",
    final: false,
    close: (job, ctx) => (ctx.skipped = (id) => (id === job.jobId ? "inputs hash 0xab does not match" : null)),
    reason: /inputs hash 0xab does not match/,
  },
  {
    code: "CLAIM_SEEN",
    final: false,
    close: (job, ctx) => (ctx.claimSeen = (id) => id === job.jobId),
    reason: /another prover's claim/,
  },
  {
    code: "RETRY_LATER",
    final: false,
    close: (job, ctx) => (ctx.retryInMs = (id) => (id === job.jobId ? 2_500 : 0)),
    // 2.5 s rounds up.
    reason: /\b3 s\b/,
  },
  {
    code: "NOT_SERVED",
    final: true,
    close: (job) => (job.terms.circuitId = 99n),
    reason: /circuit 99\b/,
  },
  {
    code: "BACKEND_OUT_OF_SERVICE",
    final: false,
    close: (_job, ctx) =>
      (ctx.backendOutOfService = (b) => (b === "snarkjs" ? "produced an invalid proof for job 5" : undefined)),
    reason: /backend snarkjs .*produced an invalid proof for job 5/,
  },
  {
    code: "CIRCUIT_OUT_OF_SERVICE",
    final: false,
    close: (_job, ctx) =>
      (ctx.circuitOutOfService = (id) => (id === 3 ? "claim refused: VerifierCodeChanged(3)" : undefined)),
    reason: /circuit 3 .*VerifierCodeChanged\(3\)/,
  },
  {
    code: "BOND_ABOVE_MAXIMUM",
    final: true,
    close: (job) => (job.terms.bond = 51n),
    reason: /bond 51 .*maximum 50\b/,
  },
  {
    // Not final: a reassignment reopens the job with both ends of its ramp raised.
    code: "PRICE_NEVER_REACHES_RESERVATION",
    final: false,
    close: (job) => {
      job.terms.minFee = 2n;
      job.terms.maxFee = 4n;
    },
    reason: /rises to 4 at most, below .*reservation price 5\b/,
  },
  {
    // Before the wait for the price: time only runs out, so a job without enough of it now has none at its
    // crossing either (a claim then gets no longer a window), and is not waited for.
    code: "NOT_ENOUGH_TIME",
    final: false,
    // 30 s of window; 20 s proving + 10 s margin would fit, 25 s + 10 s does not.
    close: (job, ctx) => {
      job.terms.provingWindow = 30n;
      ctx.provingSeconds = (c) => (c === served ? 25 : 0);
    },
    reason: /\b30 s (to|before) the deadline[,;] 35 s needed/,
  },
  {
    // 11 now; 15 is reached 50 s into the ramp, at NOW + 40, 39 s after the second a claim could land in.
    code: "PRICE_BELOW_RESERVATION",
    final: false,
    close: (_job, ctx) => (ctx.reservation = (c) => (c === served ? 15n : 0n)),
    reason: new RegExp(`price 11 .*reservation price 15; it reaches it at second ${NOW + 40}, in 39 s`),
  },
  {
    code: "NO_FREE_SLOT",
    final: false,
    close: (_job, ctx) => {
      ctx.freeSlots = 0;
      ctx.config = { ...ctx.config, slots: 3 };
    },
    reason: /all 3 proving slots/,
  },
  {
    code: "NOT_ENOUGH_STAKE",
    final: false,
    close: (_job, ctx) => (ctx.freeStake = 1n),
    reason: /free stake 1 .*bond 2\b/,
  },
];

function refusal(d: Decision): Extract<Decision, { claim: false }> {
  if (d.claim) throw new Error(`expected a refusal, got a claim (${d.reason})`);
  return d;
}

describe("worker claim decision", function () {
  it("claims a job that passes every gate, with its served circuit", function () {
    const d = decide(openJob(), openContext());
    expect(d.claim).to.equal(true);
    expect(d.code).to.equal("CLAIM");
    expect(d.claim && d.circuit).to.equal(served);
  });

  describe("each gate, alone", function () {
    for (const gate of GATES)
      it(`${gate.code}${gate.final ? " (final: the job is written off)" : ""}`, function () {
        const job = openJob();
        const ctx = openContext();
        gate.close(job, ctx);
        const d = refusal(decide(job, ctx));
        expect(d.code).to.equal(gate.code);
        expect(d.final, "final").to.equal(gate.final);
        expect(d.reason).to.match(gate.reason);
      });
  });

  it("checks the gates in order: with several closed, the first reports, and opening it reveals the next", function () {
    for (let first = 0; first < GATES.length; first++) {
      const job = openJob();
      const ctx = openContext();
      for (const gate of GATES.slice(first)) gate.close(job, ctx);
      expect(refusal(decide(job, ctx)).code, `gates ${first}.. closed`).to.equal(GATES[first].code);
    }
    // Any two gates: the earlier one reports.
    for (let a = 0; a < GATES.length; a++)
      for (let b = a + 1; b < GATES.length; b++) {
        const job = openJob();
        const ctx = openContext();
        GATES[b].close(job, ctx);
        GATES[a].close(job, ctx);
        expect(refusal(decide(job, ctx)).code, `${GATES[a].code} and ${GATES[b].code}`).to.equal(GATES[a].code);
      }
  });

  it("claims at the boundaries: price equal to the reservation, bond equal to the maximum and to the free stake", function () {
    const job = openJob();
    const ctx = openContext();
    ctx.reservation = () => 11n;
    job.terms.bond = 50n;
    ctx.freeStake = 50n;
    expect(decide(job, ctx).code).to.equal("CLAIM");
    // No maximum bond in the policy: any bond the stake covers.
    job.terms.bond = 10n ** 24n;
    ctx.freeStake = 10n ** 24n;
    ctx.config = { ...ctx.config, policy: { ...ctx.config.policy, maxBond: undefined } };
    expect(decide(job, ctx).code).to.equal("CLAIM");
    ctx.freeSlots = 1;
    expect(decide(job, ctx).code).to.equal("CLAIM");
  });

  it("measures time to the earlier of the proving window's end and the job's expiry, with the margin", function () {
    const ctx = openContext();
    // Exactly enough: 30 s of window for 20 s of proving and a 10 s margin.
    const exact = openJob();
    exact.terms.provingWindow = 30n;
    expect(decide(exact, ctx).code).to.equal("CLAIM");
    // A 300 s window, but the job expires in 25 s.
    const expiring = openJob();
    expiring.terms.expiresAt = BigInt(NOW + 25);
    const d = refusal(decide(expiring, ctx));
    expect(d.code).to.equal("NOT_ENOUGH_TIME");
    expect(d.reason).to.match(/\b25 s to the deadline, 30 s needed/);
    // Already expired: no negative seconds in the reason.
    expiring.terms.expiresAt = BigInt(NOW - 100);
    expect(refusal(decide(expiring, ctx)).reason).to.match(/^0 s to the deadline/);
    // A fractional estimate is rounded up in the reason.
    ctx.provingSeconds = () => 20.2;
    expect(refusal(decide(exact, ctx)).reason).to.match(/\b31 s needed/);
  });

  describe("the price against the reservation price", function () {
    /** The served circuit's reservation R; T, the first second whose price is at least R. */
    const R = 15n;
    const T = Number(firstSecondAtPrice(openJob().terms, R));

    const at = (claimAt: number, job = openJob()) => {
      const ctx = openContext();
      ctx.reservation = () => R;
      ctx.claimAt = claimAt;
      ctx.now = claimAt - 1;
      return decide(job, ctx);
    };

    it("a claim that could land at T − 1 waits, one that lands at T is sent", function () {
      expect(priceAt(openJob().terms, BigInt(T - 1))).to.be.below(R);
      expect(priceAt(openJob().terms, BigInt(T))).to.be.at.least(R);
      const before = refusal(at(T - 1));
      expect(before.code).to.equal("PRICE_BELOW_RESERVATION");
      expect(before.crossesAt).to.equal(T);
      expect(before.reason).to.match(/\bin 1 s$/);
      expect(at(T).code).to.equal("CLAIM");
      // Later still (the price higher): claimed.
      expect(at(T + 30).code).to.equal("CLAIM");
    });

    it("a ramp that is not a whole number per second: T is the first second at or above R, never one below", function () {
      const job = openJob();
      // 10 to 17 over 100 s: 0.07 per second, 15 reached at 71.43 s, so at 72 s.
      job.terms.maxFee = 17n;
      const t = Number(firstSecondAtPrice(job.terms, R));
      expect(t).to.equal(NOW - 10 + 72);
      expect(refusal(at(t - 1, job)).crossesAt).to.equal(t);
      expect(at(t, job).code).to.equal("CLAIM");
    });

    it("before the ramp starts the price is minFee: claimed at once when that meets the reservation", function () {
      const job = openJob();
      job.terms.rampStart = BigInt(NOW + 500);
      job.terms.minFee = R;
      job.terms.maxFee = R + 10n;
      expect(at(NOW + 1, job).code).to.equal("CLAIM");
      // One below, rising by 1 a second: reached one second into the ramp.
      job.terms.minFee = R - 1n;
      job.terms.maxFee = R - 1n + 100n;
      const wait = refusal(at(NOW + 1, job));
      expect([wait.code, wait.crossesAt]).to.deep.equal(["PRICE_BELOW_RESERVATION", NOW + 501]);
    });

    it("a fixed price (minFee = maxFee): claimed when it meets the reservation, else never reaches it", function () {
      const job = openJob();
      job.terms.minFee = R;
      job.terms.maxFee = R;
      job.terms.rampDuration = 0n;
      expect(at(NOW + 1, job).code).to.equal("CLAIM");
      job.terms.minFee = R - 1n;
      job.terms.maxFee = R - 1n;
      const d = refusal(at(NOW + 1, job));
      expect([d.code, d.final, d.crossesAt]).to.deep.equal(["PRICE_NEVER_REACHES_RESERVATION", false, undefined]);
      expect(d.reason).to.match(new RegExp(`rises to ${R - 1n} at most, below .* ${R}$`));
    });

    it("a crossing too late to prove before the job expires is not waited for (nor preflighted): NOT_ENOUGH_TIME", function () {
      // T = NOW + 40 (price 15); 20 s proving and a 10 s margin need the job to last until T + 30 at least.
      expect(T).to.equal(NOW + 40);
      const job = openJob();
      job.terms.expiresAt = BigInt(T + 30);
      const enough = refusal(at(NOW + 1, job));
      expect([enough.code, enough.crossesAt]).to.deep.equal(["PRICE_BELOW_RESERVATION", T]);
      // A second less: the claim at T would have 29 s.
      job.terms.expiresAt = BigInt(T + 29);
      const short = refusal(at(NOW + 1, job));
      expect([short.code, short.final, short.crossesAt]).to.deep.equal(["NOT_ENOUGH_TIME", false, undefined]);
      expect(short.reason).to.equal(
        `its price reaches this worker's reservation price 15 at second ${T}, 29 s before the deadline; ` +
          "30 s needed (proving and margin)",
      );
      // Crossing at or after the expiry: no block of that second can take a claim at all, even with nothing to prove.
      const ctx = openContext();
      ctx.reservation = () => R;
      ctx.provingSeconds = () => 0;
      ctx.config = { ...ctx.config, policy: { ...ctx.config.policy, safetyMarginSeconds: 0 } };
      for (const expiresAt of [T, T - 5]) {
        job.terms.expiresAt = BigInt(expiresAt);
        const never = refusal(decide(job, ctx));
        expect(never.code, `expiring at T ${expiresAt - T}`).to.equal("NOT_ENOUGH_TIME");
        expect(never.reason).to.match(/, 0 s before the deadline; 0 s needed/);
      }
      job.terms.expiresAt = BigInt(T + 1);
      expect(refusal(decide(job, ctx)).code).to.equal("PRICE_BELOW_RESERVATION");
      // The proving window counts too: a claim at T gets T + window.
      const narrow = openJob();
      narrow.terms.provingWindow = 29n;
      expect(refusal(at(NOW + 1, narrow)).code).to.equal("NOT_ENOUGH_TIME");
    });

    it("maxFee exactly the reservation is reached (at the ramp's end); one below never is", function () {
      const job = openJob();
      job.terms.maxFee = R;
      const end = NOW - 10 + 100;
      expect(refusal(at(end - 1, job)).crossesAt).to.equal(end);
      expect(at(end, job).code).to.equal("CLAIM");
      job.terms.maxFee = R - 1n;
      expect(refusal(at(end + 100, job)).code).to.equal("PRICE_NEVER_REACHES_RESERVATION");
    });
  });

  it("does not wait out a retry whose time has come", function () {
    const ctx = openContext();
    ctx.retryInMs = () => 0;
    expect(decide(openJob(), ctx).code).to.equal("CLAIM");
    ctx.retryInMs = () => -500;
    expect(decide(openJob(), ctx).code).to.equal("CLAIM");
    ctx.retryInMs = () => 1;
    expect(refusal(decide(openJob(), ctx)).reason).to.match(/\b1 s\b/);
  });
});
