/**
 * The market's custom error (e.g. `ExpiryTooSoon(now, earliest)`) out of a failed call, whichever way ethers
 * reports it: decoded already, as raw revert data (decoded here with the market's ABI), or only in a node's message.
 */
import type { Interface } from "ethers";

export function describeRevert(error: unknown, iface: Interface): string | null {
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
