/**
 * Reads a circuit's input signal names from circom's .sym file.
 *
 * circom lays out the witness as [1, outputs..., public inputs..., private inputs..., internals...]; the .sym file
 * maps each witness index to a name such as `main.pathElements[3]`. Collapsing the indices of the input range back
 * into array shapes gives the names and dimensions that job inputs are validated against.
 */
import { readFileSync } from "node:fs";
import type { InputSignal } from "../../common/circuits/manifest.ts";

export interface SignalCounts {
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
}

export function readInputSignals(symFile: string, counts: SignalCounts): InputSignal[] {
  const firstInput = 1 + counts.nOutputs;
  const firstPrivate = firstInput + counts.nPubInputs;
  const end = firstPrivate + counts.nPrvInputs;
  const byWire = new Map<number, string>();
  for (const line of readFileSync(symFile, "utf8").split("\n")) {
    const [, wire, , name] = line.split(",");
    const w = Number(wire);
    if (name?.startsWith("main.") && w >= firstInput && w < end && !name.slice(5).includes(".")) {
      byWire.set(w, name.slice(5));
    }
  }
  const signals: InputSignal[] = [];
  for (let w = firstInput; w < end; w++) {
    const full = byWire.get(w);
    if (full === undefined) throw new Error(`${symFile}: no name for input wire ${w}`);
    const base = full.replace(/\[.*$/, "");
    const index = [...full.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    const visibility = w < firstPrivate ? "public" : "private";
    const last = signals.at(-1);
    if (last?.name === base && last.visibility === visibility) {
      last.dims = last.dims.map((d, i) => Math.max(d, (index[i] ?? 0) + 1));
    } else {
      signals.push({ name: base, dims: index.map((i) => i + 1), visibility });
    }
  }
  return signals;
}
