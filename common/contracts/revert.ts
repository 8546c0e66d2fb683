/**
 * The market's custom error (e.g. `ExpiryTooSoon(now, earliest)`) out of a failed call, whichever way ethers
 * reports it: decoded already, as raw revert data (decoded here with the market's ABI), or only in a node's message.
 */
import { Interface } from "ethers";
import { contractArtifact } from "./artifacts.ts";

let marketInterface: Interface | undefined;
const market = () => (marketInterface ??= new Interface(contractArtifact("ProofMarket").abi));

/** The error with its arguments, e.g. `JobNotOpen(7, 2)`; null if the failure was not a market refusal. */
export function describeRevert(error: unknown, iface: Interface = market()): string | null {
  const e = error as {
    revert?: { name?: string; args?: unknown[] };
    data?: string;
    info?: { error?: { message?: string; data?: string } };
    shortMessage?: string;
  };
  const format = (name: string, args: readonly unknown[] = []) => `${name}(${args.map(String).join(", ")})`;
  if (e?.revert?.name) return format(e.revert.name, e.revert.args);
  for (const data of [e?.data, e?.info?.error?.data]) {
    if (typeof data !== "string" || data.length < 10) continue;
    try {
      const parsed = iface.parseError(data);
      if (parsed) return format(parsed.name, [...parsed.args]);
    } catch {
      // not one of the market's errors
    }
  }
  const match = /reverted with custom error '([^']+)'/.exec(
    `${e?.shortMessage ?? ""} ${e?.info?.error?.message ?? ""}`,
  );
  return match ? match[1] : null;
}

/** Just the error's name (e.g. "JobNotOpen"), for logs and for telling a final refusal from a transient failure. */
export function revertName(error: unknown): string | null {
  return describeRevert(error)?.split("(")[0] ?? null;
}
