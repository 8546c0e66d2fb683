/**
 * `npm run sim -- --sweep`: the slash shares and the abandon fraction, one at a time around the deployed defaults,
 * each value a whole simulated market (sim/engine.ts) on the same seed, to show where each attack's profit turns
 * negative. The report: a chart of profit per strategy against each parameter, and for each attack and parameter
 * the value where its profit crosses zero (by linear interpolation between the values run), if it does.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatEther } from "ethers";
import { runSimulation } from "./engine.ts";
import { LOSING_STRATEGIES } from "./properties.ts";
import { svg, toJson } from "./report.ts";
import { DEFAULT_MARKET, type MarketSettings, type Scenario } from "./scenario.ts";

/** The values each parameter is run at (basis points), up to the market's caps (ProofMarket.sol `_setParams`; the
 *  simulation test checks the last values against the contract's). */
export const SWEEP: Record<keyof MarketSettings, bigint[]> = {
  keeperShareBps: [0n, 500n, 1_000n, 1_500n, 2_000n],
  rewardShareBps: [0n, 1_500n, 3_000n, 4_500n, 6_000n, 8_000n],
  treasuryShareBps: [0n, 500n, 1_000n, 1_500n, 2_000n],
  abandonSlashBps: [0n, 1_250n, 2_500n, 3_750n, 5_000n],
};

/**
 * Beyond one parameter at a time: the market the caps allow that is kindest to a self-reassigner, every share it can
 * win back (the keeper's, and the reward share in the price it claims back at) at its largest: together at
 * MAX_RECOVERABLE_SHARE_BPS (90%), so that each lapse costs it a tenth of the bond, its gas and the keeper races it
 * loses.
 */
export const ATTACKERS_CORNER: MarketSettings = {
  ...DEFAULT_MARKET,
  keeperShareBps: 2_000n,
  rewardShareBps: 7_000n,
  treasuryShareBps: 0n,
};

export interface SweepRow {
  /** The parameter moved, or `corner`: ATTACKERS_CORNER. */
  parameter: keyof MarketSettings | "corner";
  value: bigint;
  /** Net profit per strategy (token base units). */
  profit: Record<string, bigint>;
}

export async function runSweep(base: Scenario, log: (line: string) => void = () => {}): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  const run = async (parameter: SweepRow["parameter"], value: bigint, market: MarketSettings) => {
    const result = await runSimulation({ ...base, market });
    const profit: Record<string, bigint> = {};
    for (const a of result.agents) profit[a.strategy] = (profit[a.strategy] ?? 0n) + a.profit;
    rows.push({ parameter, value, profit });
    log(`${parameter} = ${value}: ${LOSING_STRATEGIES.map((s) => `${s} ${formatEther(profit[s] ?? 0n)}`).join(", ")}`);
  };
  for (const [parameter, values] of Object.entries(SWEEP) as [keyof MarketSettings, bigint[]][])
    for (const value of values) await run(parameter, value, { ...DEFAULT_MARKET, [parameter]: value });
  await run("corner", 0n, ATTACKERS_CORNER);
  return rows;
}

/** Where a strategy's profit crosses zero as `parameter` rises: the interpolated values, in order. */
export function zeroCrossings(rows: SweepRow[], parameter: keyof MarketSettings, strategy: string): number[] {
  const points = rows
    .filter((r) => r.parameter === parameter)
    .map((r) => ({ x: Number(r.value), y: Number(formatEther(r.profit[strategy] ?? 0n)) }));
  const out: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (a.y < 0 !== b.y < 0) out.push(a.x + ((b.x - a.x) * (0 - a.y)) / (b.y - a.y));
  }
  return out;
}

/** Each attack's highest profit over the sweep (where it came nearest to paying), and its profit at the defaults. */
export function margins(rows: SweepRow[]) {
  const isDefault = (r: SweepRow) => r.parameter !== "corner" && DEFAULT_MARKET[r.parameter] === r.value;
  return LOSING_STRATEGIES.map((strategy) => {
    const profitOf = (r: SweepRow) => r.profit[strategy] ?? 0n;
    const best = rows.reduce((a, b) => (profitOf(b) > profitOf(a) ? b : a));
    return {
      strategy,
      best: profitOf(best),
      parameter: best.parameter,
      value: best.value,
      atDefaults: profitOf(rows.find(isDefault) ?? rows[0]),
    };
  });
}

export async function writeSweepReport(rows: SweepRow[], base: Scenario, folder: string): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const values = rows
    .filter((r) => r.parameter !== "corner")
    .flatMap((r) =>
      Object.entries(r.profit).map(([strategy, profit]) => ({
        parameter: r.parameter,
        bps: Number(r.value),
        strategy,
        profit: Number(formatEther(profit)),
      })),
    );
  writeFileSync(
    path.join(folder, "sweep.svg"),
    await svg({
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Net profit per strategy as each parameter moves (the others at their defaults)",
      data: { values },
      facet: { field: "parameter", type: "nominal", title: null },
      columns: 2,
      resolve: { scale: { x: "independent" } },
      spec: {
        width: 300,
        height: 200,
        layer: [
          {
            mark: { type: "line", point: true },
            encoding: {
              x: { field: "bps", type: "quantitative", title: "basis points" },
              y: { field: "profit", type: "quantitative", title: "PMT" },
              color: { field: "strategy", type: "nominal" },
            },
          },
          { mark: { type: "rule", color: "black" }, encoding: { y: { datum: 0 } } },
        ],
      },
    }),
  );
  const corner = `keeper ${ATTACKERS_CORNER.keeperShareBps}, reward ${ATTACKERS_CORNER.rewardShareBps}, treasury ${ATTACKERS_CORNER.treasuryShareBps} bps`;
  const lines = [
    `# Parameter sweep (seed ${base.seed}, ${base.jobs} jobs a run)`,
    "",
    `Each parameter moved alone, the others at the deployed defaults (${Object.entries(DEFAULT_MARKET)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}); then the attacker's corner, ${corner}. Net profit after gas and proving costs, PMT.`,
    "",
    "![sweep](sweep.svg)",
    "",
    `| parameter | bps | ${LOSING_STRATEGIES.join(" | ")} | honest |`,
    `| --- | --- | ${LOSING_STRATEGIES.map(() => "---").join(" | ")} | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.parameter} | ${r.parameter === "corner" ? corner : r.value} | ${LOSING_STRATEGIES.map((s) => Number(formatEther(r.profit[s] ?? 0n)).toFixed(2)).join(" | ")} | ` +
        `${Number(formatEther(r.profit.honest ?? 0n)).toFixed(2)} |`,
    ),
    "",
    "Where an attack's profit crosses zero:",
    "",
    ...(Object.keys(SWEEP) as (keyof MarketSettings)[]).flatMap((p) =>
      LOSING_STRATEGIES.map((s) => {
        const at = zeroCrossings(rows, p, s);
        return `- ${s} against ${p}: ${at.length === 0 ? "never in the range run" : at.map((x) => `${Math.round(x)} bps`).join(", ")}`;
      }),
    ),
    "",
    "Margin: each attack's best result over every market run (the least it lost), and where:",
    "",
    ...margins(rows).map(
      (m) =>
        `- ${m.strategy}: ${Number(formatEther(m.best)).toFixed(2)} PMT at ` +
        `${m.parameter === "corner" ? `the attacker's corner (${corner})` : `${m.parameter} = ${m.value} bps`} ` +
        `(${Number(formatEther(m.atDefaults)).toFixed(2)} PMT at the defaults)`,
    ),
    "",
  ];
  const markdown = lines.join("\n");
  writeFileSync(path.join(folder, "sweep.md"), markdown);
  writeFileSync(path.join(folder, "sweep.json"), toJson(rows, 2));
  return markdown;
}
