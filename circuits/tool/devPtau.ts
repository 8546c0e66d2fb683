/**
 * Makes an INSECURE powers-of-tau file for development: one contribution whose entropy is printed in the file's
 * name history, so anyone can rebuild the toxic waste. Named `insecure_dev_potNN.ptau` so it is never mistaken
 * for a ceremony file. 2^12 takes about a minute and a half on two cores, 2^16 about 25 minutes.
 *
 *   node circuits/tool/devPtau.ts <power> <output-dir>
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { progressLogger } from "./logger.ts";

export async function makeDevPtau(power: number, outDir: string): Promise<string> {
  if (!Number.isInteger(power) || power < 8 || power > 28) {
    throw new Error(`ptau power must be an integer from 8 to 28, got ${power}`);
  }
  mkdirSync(outDir, { recursive: true });
  const name = `insecure_dev_pot${String(power).padStart(2, "0")}`;
  const stage0 = path.join(outDir, `${name}.0.ptau`);
  const stage1 = path.join(outDir, `${name}.1.ptau`);
  const final = path.join(outDir, `${name}.ptau`);
  const logger = progressLogger(`[ptau 2^${power}]`);
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  try {
    await snarkjs.powersOfTau.newAccumulator(curve, power, stage0, logger);
    await snarkjs.powersOfTau.contribute(
      stage0,
      stage1,
      "insecure development contribution",
      randomBytes(32).toString("hex"),
      logger,
    );
    await snarkjs.powersOfTau.preparePhase2(stage1, final, logger);
  } finally {
    rmSync(stage0, { force: true });
    rmSync(stage1, { force: true });
    await curve.terminate();
  }
  return final;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [power, outDir] = process.argv.slice(2);
  if (power === undefined || outDir === undefined) {
    console.error("usage: node circuits/tool/devPtau.ts <power> <output-dir>");
    process.exit(2);
  }
  const file = await makeDevPtau(Number(power), outDir);
  console.log(`wrote ${file} (INSECURE: development only)`);
  process.exit(0);
}
