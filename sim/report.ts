/**
 * The simulation's report: figures per strategy, per requester and for the market (`summarize`), written as a
 * markdown summary with its charts (SVG, drawn by Vega-Lite in Node, no browser) and the raw result as JSON.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatEther } from "ethers";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RequesterResult, SimResult } from "./engine.ts";
import { brokenPromises } from "./properties.ts";

/** Token base units as PMT, and as PMT to the cent. */
export const tokens = (x: bigint) => Number(formatEther(x));
export const fmt = (x: bigint) => tokens(x).toFixed(2);
const GRIEFS = { "unprovable-inputs": "unprovable inputs", "rug-pull": "rug-pull verifier" } as const;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export interface Summary {
  strategies: {
    strategy: string;
    agents: string;
    claims: number;
    proofs: number;
    fees: bigint;
    slashed: bigint;
    gas: bigint;
    provingCost: bigint;
    profit: bigint;
  }[];
  requesters: {
    name: string;
    griefer: boolean;
    griefs: RequesterResult["griefs"];
    /** Its change of wealth less its gas: minus what it paid, plus what slashes credited it. */
    net: bigint;
    jobs: number;
    proved: number;
    /** Price paid over the maximum offered, for its proved jobs. */
    paidOverMax: number | null;
    medianSecondsToProof: number | null;
    p90SecondsToProof: number | null;
  }[];
  /** Provable jobs proved before expiry over provable jobs posted (a griefer's are not provable). */
  provedShare: number;
  /** Honest first claims made at the crossing (the price below every capable honest reservation a block
   *  earlier) of jobs on a ramp of at most 2% of the maximum a block: locked price over the cheapest capable honest
   *  prover's reservation at that block. */
  priceOverReservation: { median: number | null; max: number | null; count: number };
  /** The same on steeper ramps (what the requester CLI warns of), where one block's step may be more. */
  steepPriceOverReservation: { median: number | null; max: number | null; count: number };
  /** Honest first claims made after the job waited for a prover to be free. */
  waitedForCapacity: number;
  /** Requesters' escrow lost to stalls: jobs whose requester got neither a proof nor its escrow back. */
  stranded: number;
}

export function summarize(r: SimResult): Summary {
  const byStrategy = new Map<string, Summary["strategies"][number]>();
  for (const a of r.agents) {
    const s = byStrategy.get(a.strategy) ?? {
      strategy: a.strategy,
      agents: "",
      claims: 0,
      proofs: 0,
      fees: 0n,
      slashed: 0n,
      gas: 0n,
      provingCost: 0n,
      profit: 0n,
    };
    s.agents = s.agents ? `${s.agents}, ${a.name}` : a.name;
    s.claims += a.claims;
    s.proofs += a.proofs;
    s.fees += a.fees;
    s.slashed += a.slashed;
    s.gas += a.gasTokens;
    s.provingCost += a.provingCost;
    s.profit += a.profit;
    byStrategy.set(a.strategy, s);
  }
  const honestFirst = r.claims.filter((c) => c.strategy === "honest" && c.attempt === 0 && c.cheapestCapable !== null);
  const atCrossing = honestFirst.filter((c) => c.atCrossing);
  const ratio = (c: (typeof atCrossing)[number]) => tokens(c.price) / tokens(c.cheapestCapable!);
  const ratios = atCrossing.filter((c) => !c.steepRamp).map(ratio);
  const steepRatios = atCrossing.filter((c) => c.steepRamp).map(ratio);
  return {
    strategies: [...byStrategy.values()],
    requesters: r.requesters.map((q) => ({
      name: q.name,
      griefer: q.griefer,
      griefs: q.griefs,
      net: -q.spent - q.gasTokens,
      jobs: q.jobs,
      proved: q.proved,
      paidOverMax: q.maxOffered > 0n ? tokens(q.paid) / tokens(q.maxOffered) : null,
      medianSecondsToProof: quantile(q.timesToProof, 0.5),
      p90SecondsToProof: quantile(q.timesToProof, 0.9),
    })),
    provedShare:
      r.jobs.filter((j) => j.provable && j.status === "Proved").length /
      Math.max(1, r.jobs.filter((j) => j.provable).length),
    priceOverReservation: { median: quantile(ratios, 0.5), max: quantile(ratios, 1), count: ratios.length },
    steepPriceOverReservation: {
      median: quantile(steepRatios, 0.5),
      max: quantile(steepRatios, 1),
      count: steepRatios.length,
    },
    waitedForCapacity: honestFirst.length - atCrossing.length,
    stranded: r.jobs.filter((j) => j.status !== "Proved" && j.status !== "Expired").length,
  };
}

/** A Vega-Lite chart as SVG, drawn in Node (no browser, no canvas). */
export async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The charts: price over time, profit per strategy, time to proof. */
export async function charts(r: SimResult, s: Summary): Promise<Record<string, string>> {
  const start = Math.min(...r.jobs.map((j) => j.postedAt));
  return {
    "price-over-time.svg": await svg({
      $schema: SCHEMA,
      title: "Locked price of each claim",
      width: 640,
      height: 300,
      data: {
        values: r.claims.map((c) => ({
          minutes: (c.at - start) / 60,
          price: tokens(c.price),
          strategy: c.strategy,
          attempt: c.attempt === 0 ? "first claim" : "re-opened",
        })),
      },
      mark: { type: "point", filled: true, opacity: 0.6 },
      encoding: {
        x: { field: "minutes", type: "quantitative", title: "minutes into the run" },
        y: { field: "price", type: "quantitative", title: "price (PMT)" },
        color: { field: "strategy", type: "nominal" },
        shape: { field: "attempt", type: "nominal" },
      },
    }),
    "profit-per-strategy.svg": await svg({
      $schema: SCHEMA,
      title: "Net profit per strategy (after gas and proving costs)",
      width: 480,
      height: 280,
      data: { values: s.strategies.map((x) => ({ strategy: x.strategy, profit: tokens(x.profit) })) },
      mark: "bar",
      encoding: {
        x: { field: "strategy", type: "nominal", sort: "-y" },
        y: { field: "profit", type: "quantitative", title: "PMT" },
        color: { condition: { test: "datum.profit < 0", value: "#c0392b" }, value: "#2e86c1" },
      },
    }),
    "time-to-proof.svg": await svg({
      $schema: SCHEMA,
      title: "Time from posting to proof",
      width: 480,
      height: 280,
      data: {
        values: r.jobs
          .filter((j) => j.provedAt !== null)
          .map((j) => ({ requester: j.requester, seconds: j.provedAt! - j.postedAt })),
      },
      mark: "bar",
      encoding: {
        x: { field: "seconds", type: "quantitative", bin: { maxbins: 30 }, title: "seconds" },
        y: { aggregate: "count", type: "quantitative", title: "jobs" },
        color: { field: "requester", type: "nominal" },
      },
    }),
  };
}

export function markdown(r: SimResult, s: Summary): string {
  const broken = brokenPromises(r);
  const lines = [
    `# Simulated market (seed ${r.scenario.seed})`,
    "",
    `${r.jobs.length} jobs over ${r.blocks} blocks (${(r.seconds / 3600).toFixed(1)} h of chain time), on the real ` +
      `contracts with real Groth16 proofs. Shares: keeper ${r.scenario.market.keeperShareBps} bps, reward ` +
      `${r.scenario.market.rewardShareBps} bps, treasury ${r.scenario.market.treasuryShareBps} bps, abandon ` +
      `${r.scenario.market.abandonSlashBps} bps. Amounts in PMT; gas at ${Number(r.scenario.gasPrice) / 1e9} gwei ` +
      `and ${fmt(r.scenario.tokensPerEth)} PMT per ETH.`,
    "",
    "## Per strategy",
    "",
    "Claims are the jobs each strategy won (a job claimed again after a lapse counts again). Net profit: the change of " +
      "its tokens, withdrawable balance and stake, less its gas and what its proofs cost it to compute (proving " +
      "seconds times its price per proving second, the cost its reservation price is made of).",
    "",
    "| strategy | agents | claims | proofs | fees earned | bonds slashed | gas | proving cost | net profit |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...s.strategies.map(
      (x) =>
        `| ${x.strategy} | ${x.agents} | ${x.claims} | ${x.proofs} | ${fmt(x.fees)} | ${fmt(x.slashed)} | ${fmt(x.gas)} | ${fmt(x.provingCost)} | ${fmt(x.profit)} |`,
    ),
    "",
    "![profit per strategy](profit-per-strategy.svg)",
    "",
    "## Per requester",
    "",
    "| requester | jobs | proved | paid / max offered | time to proof, median | p90 | net (after gas) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...s.requesters.map(
      (q) =>
        `| ${q.name}${q.griefs === null ? "" : ` (griefer: ${GRIEFS[q.griefs]})`} | ${q.jobs} | ${q.proved} | ` +
        `${q.paidOverMax === null ? "-" : pct(q.paidOverMax)} | ${q.medianSecondsToProof ?? "-"} s | ` +
        `${q.p90SecondsToProof ?? "-"} s | ${fmt(q.net)} |`,
    ),
    "",
    "![time to proof](time-to-proof.svg)",
    "",
    "## Market",
    "",
    `- Provable jobs proved before expiry: ${pct(s.provedShare)}.`,
    `- Honest first claims at the crossing, on ramps rising at most 2% of the maximum a block ` +
      `(${s.priceOverReservation.count}): locked price over the cheapest capable honest prover's reservation at ` +
      `that block, median ${s.priceOverReservation.median?.toFixed(3) ?? "-"}, max ` +
      `${s.priceOverReservation.max?.toFixed(3) ?? "-"}. On steeper ramps (${s.steepPriceOverReservation.count}, ` +
      `which the requester CLI warns of): median ${s.steepPriceOverReservation.median?.toFixed(3) ?? "-"}, max ` +
      `${s.steepPriceOverReservation.max?.toFixed(3) ?? "-"}.`,
    `- Honest first claims after the job waited for a free prover (its price past every reservation by then): ` +
      `${s.waitedForCapacity}.`,
    `- Jobs left neither proved nor refunded: ${s.stranded}.`,
    `- Circuits the provers' start-up check refused (trust.checkVerifierBytecode ` +
      `${r.scenario.checkVerifierBytecode ? "on" : "off"}): ` +
      (r.refusedCircuits.length === 0
        ? "none."
        : r.refusedCircuits.map((c) => `circuit ${c.circuitId}: ${c.reason}`).join("; ")),
    "",
    "![price over time](price-over-time.svg)",
    "",
    "## What the incentives promise (sim/properties.ts)",
    "",
    ...(broken.length === 0 ? ["Every promise held."] : broken.map((b) => `- Broken: ${b}`)),
    "",
  ];
  return lines.join("\n");
}

/** A result as JSON: amounts (bigints) as decimal strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), indent);
}

export async function writeReport(r: SimResult, folder: string): Promise<Summary> {
  mkdirSync(folder, { recursive: true });
  const s = summarize(r);
  for (const [name, content] of Object.entries(await charts(r, s))) writeFileSync(path.join(folder, name), content);
  writeFileSync(path.join(folder, "summary.md"), markdown(r, s));
  writeFileSync(path.join(folder, "result.json"), toJson(r, 2));
  return s;
}
