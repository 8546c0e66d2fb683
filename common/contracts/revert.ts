/**
 * Why a transaction or call reverted, named with its arguments (e.g. `ERC20InsufficientBalance(0x…, 0, 5e18)`),
 * wherever the node or ethers put the revert data: on a CALL_EXCEPTION from gas estimation or a call, nested in an
 * UNKNOWN_ERROR ("could not coalesce error") when a node refuses a transaction it mined reverted, or nowhere but a
 * receipt (then `explainRevert` replays the call at the block before it, or after it). One Interface knows every
 * error a call into the market can surface: the market's own (with OpenZeppelin's Ownable and SafeERC20 errors,
 * which its ABI carries), the ERC-20 token's (IERC20Errors, from TestToken's ABI), Panic(uint256) and Error(string).
 */
import { Interface, isError, type JsonFragment, type Provider } from "ethers";
import { contractArtifact } from "./artifacts.ts";

/** Solidity's panic codes in words (the language documentation's list). */
const PANIC_MEANINGS: Record<number, string> = {
  0x00: "generic compiler panic",
  0x01: "assertion failed",
  0x11: "arithmetic overflow or underflow",
  0x12: "division or modulo by zero",
  0x21: "invalid enum value",
  0x22: "corrupt storage byte array",
  0x31: "pop on an empty array",
  0x32: "array index out of bounds",
  0x41: "too much memory allocated",
  0x51: "call to an uninitialized function",
};

/** Contracts whose ABIs bring the errors a call into the market can revert with. */
const ERROR_SOURCES = ["ProofMarket", "TestToken"];

let errorsInterface: Interface | undefined;

/** Every known error fragment once (the same error in two ABIs has one selector). */
function knownErrors(): Interface {
  if (errorsInterface === undefined) {
    const bySignature = new Map<string, JsonFragment>();
    for (const name of ERROR_SOURCES) {
      for (const fragment of contractArtifact(name).abi as JsonFragment[]) {
        if (fragment.type !== "error") continue;
        const signature = `${fragment.name}(${(fragment.inputs ?? []).map((i) => i.type).join(",")})`;
        bySignature.set(signature, fragment);
      }
    }
    errorsInterface = new Interface([...bySignature.values()]);
  }
  return errorsInterface;
}

const REVERT_DATA = /^0x[0-9a-f]{8}([0-9a-f]{64})*$/i;

/**
 * The strings under `key` at every depth of an error, outermost first (ethers nests a node's error in `info`,
 * `error`, `cause`... several levels down).
 */
function nestedStrings(error: unknown, key: "data" | "message"): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== "object" || seen.has(node) || depth > 6) return;
    seen.add(node);
    const value = (node as Record<string, unknown>)[key];
    if (typeof value === "string") found.push(value);
    for (const child of Object.values(node)) walk(child, depth + 1);
  };
  walk(error, 0);
  return found;
}

/** The first ABI-shaped revert data under a `data` key anywhere in the error. */
export function findRevertData(error: unknown): string | null {
  return nestedStrings(error, "data").find((data) => REVERT_DATA.test(data)) ?? null;
}

function format(name: string, args: readonly unknown[]): string {
  if (name === "Panic") {
    const code = Number(args[0]);
    return `Panic(0x${code.toString(16).padStart(2, "0")}: ${PANIC_MEANINGS[code] ?? "unknown panic code"})`;
  }
  if (name === "Error") return `Error(${JSON.stringify(String(args[0]))})`;
  return `${name}(${args.map(String).join(", ")})`;
}

/** Revert data decoded with the known errors (including Panic and Error(string)), or null if none matches. */
export function decodeRevertData(data: string, iface: Interface = knownErrors()): string | null {
  try {
    const parsed = iface.parseError(data);
    return parsed ? format(parsed.name, [...parsed.args]) : null;
  } catch {
    return null;
  }
}

/** The error with its arguments, e.g. `JobNotOpen(7, 2)`; null if the failure carries no recognisable revert. */
export function describeRevert(error: unknown, iface: Interface = knownErrors()): string | null {
  const e = error as { revert?: { name?: string; args?: unknown[] }; shortMessage?: string; message?: string };
  if (e?.revert?.name) return format(e.revert.name, e.revert.args ?? []);
  const data = findRevertData(error);
  if (data !== null) {
    const decoded = decodeRevertData(data, iface);
    if (decoded !== null) return decoded;
  }
  // Some nodes only name the error in their message (Hardhat: "reverted with custom error 'X(1, 2)'").
  const nested = nestedStrings(error, "message").join(" ");
  const match = /reverted with custom error '([^']+)'/.exec(nested);
  return match ? match[1] : null;
}

/**
 * Whether the failure is a contract's refusal, named or not: ethers' CALL_EXCEPTION (a call or gas estimation that
 * reverted, or the receipt of a mined transaction with status 0), or a node that would not take a transaction
 * because it reverted (ethers' UNKNOWN_ERROR "could not coalesce error", with the node's "... reverted ..." inside).
 * An RPC or network failure is not one: those are worth retrying, a refusal is not.
 */
export function isContractRevert(error: unknown): boolean {
  if (isError(error, "CALL_EXCEPTION")) return true;
  if ((error as { receipt?: { status?: number | null } })?.receipt?.status === 0) return true;
  return nestedStrings(error, "message").some((m) => /\breverted\b/i.test(m));
}

/** Just the error's name (e.g. "JobNotOpen"), for logs and for telling a final refusal from a transient failure. */
export function revertName(error: unknown): string | null {
  const described = describeRevert(error);
  return described === null ? null : refusalName(described);
}

/** The error's name in a refusal as describeRevert/explainRevert word it (`WrongStatus(1, 2)` → `WrongStatus`). */
export function refusalName(described: string): string {
  return described.split("(")[0];
}

/**
 * Like describeRevert, and where ethers gives only the receipt of a mined transaction that reverted (a
 * CALL_EXCEPTION without data), replays the transaction as a call on the state before its block, then (when that
 * passes) on the state after it, to get the data.
 */
export async function explainRevert(error: unknown, provider: Provider): Promise<string | null> {
  const known = describeRevert(error);
  if (known !== null) return known;
  const receipt = (error as { receipt?: { hash: string; blockNumber: number } })?.receipt;
  if (!receipt) return null;
  const tx = await provider.getTransaction(receipt.hash);
  if (tx === null) return null;
  // On the state before its block; then on the state after it, for a refusal caused by a transaction mined before
  // it in the same block (a lost race: the other claim went first).
  for (const blockTag of [receipt.blockNumber - 1, receipt.blockNumber]) {
    try {
      await provider.call({
        from: tx.from,
        to: tx.to,
        data: tx.data,
        value: tx.value,
        gasLimit: tx.gasLimit,
        blockTag,
      });
    } catch (replayed) {
      return describeRevert(replayed);
    }
  }
  return null;
}
