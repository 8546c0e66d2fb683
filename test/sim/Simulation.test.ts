/**
 * The simulated market (sim/), on a smaller seeded run than `npm run sim`'s: the real contracts and proofs, the
 * worker's own decision and pricing. Who wins and who loses, as the incentives are meant to make it: honest provers
 * net a profit; stallers, abandoners, self-reassigners and a requester posting unprovable jobs lose money; no
 * requester's escrow is stranded by a stall; every provable job is proved before expiry; a claim at the crossing locks a price within 10% of the cheapest capable
 * prover's reservation. The run is repeatable from its seed, and its report links charts that exist.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseEther } from "ethers";
import { network } from "hardhat";
import { deployMarket } from "../../dev/marketFixture.ts";
import { runSimulation, type SimResult } from "../../sim/engine.ts";
import { brokenPromises } from "../../sim/properties.ts";
import { summarize, toJson, writeReport } from "../../sim/report.ts";
import { DEFAULT_MARKET, defaultScenario, type Scenario } from "../../sim/scenario.ts";
import {
  ATTACKERS_CORNER,
  margins,
  runSweep,
  SWEEP,
  type SweepRow,
  writeSweepReport,
  zeroCrossings,
} from "../../sim/sweep.ts";

/** 80 jobs from requesters on the CLI's default ramp (600 s: a rise of under 2% of the maximum per block), two of
 *  them griefers: one posting unprovable inputs, one on a circuit of its own with a rug-pull verifier. */
function smallScenario(): Scenario {
  const base = defaultScenario({ seed: 7, jobs: 80, meanArrivalSeconds: 30 });
  return {
    ...base,
    requesters: [
      { name: "thrifty", maxFee: [parseEther("15"), parseEther("25")], rampSeconds: 600, weight: 2 },
      { name: "generous", maxFee: [parseEther("30"), parseEther("50")], rampSeconds: 600, weight: 1 },
      {
        name: "griefer",
        maxFee: [parseEther("20"), parseEther("30")],
        rampSeconds: 600,
        weight: 0.5,
        griefs: "unprovable-inputs",
      },
      {
        name: "rug-puller",
        maxFee: [parseEther("30"), parseEther("50")],
        rampSeconds: 600,
        weight: 0.5,
        griefs: "rug-pull",
      },
    ],
  };
}

describe("the simulated market: who wins and who loses", function () {
  let result: SimResult;

  before(async function () {
    result = await runSimulation(smallScenario());
  });

  const profitOf = (strategy: string) =>
    result.agents.filter((a) => a.strategy === strategy).reduce((sum, a) => sum + a.profit, 0n);

  it("keeps every promise the incentives make (sim/properties.ts)", function () {
    expect(brokenPromises(result)).to.deep.equal([]);
  });

  it("honest provers net a profit; stallers, abandoners and self-reassigners lose money", function () {
    const s = summarize(result);
    const table = toJson(s.strategies);
    expect(profitOf("honest") > 0n, table).to.equal(true);
    for (const strategy of ["staller", "abandoner", "self-reassigner"]) {
      expect(
        result.agents.some((a) => a.strategy === strategy && a.claims > 0),
        `${strategy} took part`,
      ).to.equal(true);
      expect(profitOf(strategy) < 0n, `${strategy}: ${table}`).to.equal(true);
    }
    // The self-reassigner claimed jobs back behind its own reassignments (the same block), and proved them, each at
    // the price its lapsed claim had locked plus the reward share: the ramp paused while it held the job.
    expect(result.agents.find((a) => a.strategy === "self-reassigner")!.proofs).to.be.greaterThan(0);
    const reward = (result.scenario.bond * result.scenario.market.rewardShareBps) / 10_000n;
    const ours = result.claims.filter((c) => c.strategy === "self-reassigner");
    const claimedBack = ours.filter((c) => c.attempt > 0);
    expect(claimedBack.length).to.be.greaterThan(0);
    for (const back of claimedBack) {
      const lapsed = ours.find((c) => c.jobId === back.jobId && c.attempt === back.attempt - 1)!;
      expect(back.price, `job ${back.jobId}`).to.equal(lapsed.price + reward);
    }
    // The stallers' and abandoners' claims were slashed, each of them.
    const staller = result.agents.find((a) => a.strategy === "staller")!;
    expect(staller.slashed).to.equal(BigInt(staller.claims) * result.scenario.bond);
  });

  it("griefers' jobs are never claimed (unprovable inputs: the worker's preflight; a rug-pull verifier: its start-up bytecode check), and griefing costs them their gas", function () {
    for (const griefer of ["griefer", "rug-puller"]) {
      const theirs = new Set(result.jobs.filter((j) => j.requester === griefer).map((j) => j.jobId));
      expect(theirs.size, griefer).to.be.greaterThan(2);
      expect(result.claims.filter((c) => theirs.has(c.jobId))).to.deep.equal([]);
      for (const jobId of theirs) expect(result.jobs.find((j) => j.jobId === jobId)!.status).to.equal("Expired");
      expect(summarize(result).requesters.find((q) => q.name === griefer)!.net < 0n, griefer).to.equal(true);
    }
    // The rug pull's circuit was refused by the check, for its verifier not being the project's build.
    expect(result.refusedCircuits).to.have.length(1);
    expect(result.refusedCircuits[0].reason).to.contain("is not the verifier snarkjs exports from");
  });

  it("the checks can fail: with the worker's verifier bytecode check off, a rug-pull verifier gets honest provers slashed and pays its griefer", async function () {
    const market = await runSimulation({ ...smallScenario(), checkVerifierBytecode: false });
    expect(market.refusedCircuits).to.deep.equal([]);
    const broken = brokenPromises(market);
    expect(
      broken.some((b) => /^honest prover .* was slashed/.test(b)),
      broken.join("\n"),
    ).to.equal(true);
    expect(
      broken.some((b) => b.startsWith("rug-puller (a griefer) nets")),
      broken.join("\n"),
    ).to.equal(true);
    // The worker's defence that is left, its reaction to a refused valid proof (pipeline/refusal.ts): each honest
    // prover abandons at once, for the abandon fraction, and takes the circuit out of service after its first loss.
    const fraction = (market.scenario.bond * market.scenario.market.abandonSlashBps) / 10_000n;
    const honest = market.agents.filter((x) => x.strategy === "honest");
    expect(honest.some((a) => a.slashed > 0n)).to.equal(true);
    for (const a of honest) {
      const slots = BigInt(market.scenario.provers.find((p) => p.name === a.name)!.slots);
      expect(a.slashed % fraction, a.name).to.equal(0n);
      expect(a.slashed <= slots * fraction, `${a.name}: slashed ${a.slashed}`).to.equal(true);
    }
  });

  it("every provable job is proved before expiry, and no requester pays more than its proofs' prices", function () {
    expect(result.jobs).to.have.length(80);
    const provable = result.jobs.filter((j) => j.provable);
    const proved = provable.filter((j) => j.status === "Proved").length;
    expect(proved / provable.length).to.be.at.least(0.99);
    expect(summarize(result).stranded).to.equal(0);
    for (const r of result.requesters.filter((q) => !q.griefer)) {
      // What a requester's wealth fell by is what its proofs cost, less the slashes' requester shares it received.
      expect(r.spent <= r.paid, `${r.name}: spent ${r.spent}, paid ${r.paid}`).to.equal(true);
      expect(r.spent > 0n).to.equal(true);
    }
  });

  it("a claim at the crossing locks a price within 10% of the cheapest capable prover's reservation", function () {
    const { priceOverReservation } = summarize(result);
    expect(priceOverReservation.count).to.be.greaterThan(20);
    expect(priceOverReservation.max!).to.be.at.most(1.1);
    expect(priceOverReservation.median!).to.be.at.least(1);
  });

  it("the checks can fail: with no keeper, the stallers' claims are never reassigned and provable jobs expire unproved", async function () {
    const base = smallScenario();
    const market = await runSimulation({ ...base, keepers: 0, requesters: base.requesters.filter((r) => !r.griefs) });
    const broken = brokenPromises(market);
    expect(
      broken.some((b) => /of provable jobs proved before expiry, under 99%/.test(b)),
      broken.join("\n"),
    ).to.equal(true);
  });

  it("repeats exactly from its seed, and writes a summary that links its charts", async function () {
    const again = await runSimulation(smallScenario());
    expect(toJson(again)).to.equal(toJson(result));

    const folder = mkdtempSync(path.join(os.tmpdir(), "pm-sim-"));
    await writeReport(result, folder);
    const summary = readFileSync(path.join(folder, "summary.md"), "utf8");
    const linked = [...summary.matchAll(/\]\(([^)]+\.svg)\)/g)].map((m) => m[1]);
    expect(linked).to.have.members(["profit-per-strategy.svg", "time-to-proof.svg", "price-over-time.svg"]);
    for (const file of linked) {
      const svg = readFileSync(path.join(folder, file), "utf8");
      expect(svg.startsWith("<svg")).to.equal(true);
      expect(svg).to.match(/<path|<rect/);
    }
    expect(existsSync(path.join(folder, "result.json"))).to.equal(true);
  });

  it("the sweep runs a market for every value of every parameter, charts each strategy's profit, and finds where it crosses zero", async function () {
    const base = { ...smallScenario(), jobs: 8 };
    const rows = await runSweep(base);
    // Every value of every parameter, then the attacker's corner.
    const expected = Object.values(SWEEP).reduce((n, values) => n + values.length, 0) + 1;
    // Each parameter runs up to the contract's cap (the reward share: up to what the others' defaults leave of 100%).
    const { market } = await deployMarket((await network.create()).ethers);
    const last = (values: bigint[]) => values[values.length - 1];
    expect(last(SWEEP.keeperShareBps)).to.equal(await market.MAX_KEEPER_SHARE_BPS());
    expect(last(SWEEP.treasuryShareBps)).to.equal(await market.MAX_TREASURY_SHARE_BPS());
    expect(last(SWEEP.abandonSlashBps)).to.equal(await market.MAX_ABANDON_SLASH_BPS());
    const recoverable = (await market.MAX_RECOVERABLE_SHARE_BPS()) - DEFAULT_MARKET.keeperShareBps;
    const rest = 10_000n - DEFAULT_MARKET.keeperShareBps - DEFAULT_MARKET.treasuryShareBps;
    expect(last(SWEEP.rewardShareBps)).to.equal(recoverable < rest ? recoverable : rest);
    expect(ATTACKERS_CORNER.keeperShareBps + ATTACKERS_CORNER.rewardShareBps).to.equal(
      await market.MAX_RECOVERABLE_SHARE_BPS(),
    );
    expect(rows).to.have.length(expected);
    expect(rows[rows.length - 1].parameter).to.equal("corner");
    for (const row of rows)
      expect(Object.keys(row.profit)).to.include.members(["honest", "staller", "self-reassigner"]);
    // The abandon fraction is what an abandoner loses: the more, the worse for it.
    const abandoner = rows.filter((r) => r.parameter === "abandonSlashBps").map((r) => r.profit.abandoner);
    expect(abandoner[abandoner.length - 1] < abandoner[0]).to.equal(true);

    const folder = mkdtempSync(path.join(os.tmpdir(), "pm-sweep-"));
    const markdown = await writeSweepReport(rows, base, folder);
    expect(markdown).to.include("![sweep](sweep.svg)");
    expect(readFileSync(path.join(folder, "sweep.svg"), "utf8").startsWith("<svg")).to.equal(true);

    // Interpolated between the values run: -10 at 0 bps and +10 at 1000 bps cross at 500.
    const synthetic: SweepRow[] = [0n, 1_000n, 2_000n].map((value, i) => ({
      parameter: "keeperShareBps",
      value,
      profit: { "self-reassigner": parseEther(String([-10, 10, 30][i])) },
    }));
    expect(zeroCrossings(synthetic, "keeperShareBps", "self-reassigner")).to.deep.equal([500]);
    expect(zeroCrossings(synthetic, "rewardShareBps", "self-reassigner")).to.deep.equal([]);
    // The margin: where the attack came nearest to paying, and what it made at the defaults (keeper share 1000 bps).
    expect(margins(synthetic).find((m) => m.strategy === "self-reassigner")).to.deep.equal({
      strategy: "self-reassigner",
      best: parseEther("30"),
      parameter: "keeperShareBps",
      value: 2_000n,
      atDefaults: parseEther("10"),
    });
    expect(markdown).to.include("Margin: each attack's best result");
  });
});
