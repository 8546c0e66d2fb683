/**
 * What both CLIs share: a commander program with the package's version, suggestions on typos, help that shows
 * the program's options under each command, and one way to end: exit 0, exit 2 for anything the user gave wrong
 * (usage, input, config, key: commander's own usage errors included, which it would end with 1), exit 1 for a
 * failure that is not the user's input (the chain refused, the node went away). Never a stack trace.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { parseUnits, type Provider } from "ethers";
import { REPO_ROOT } from "../circuits/catalog.ts";
import { explainRevert } from "../contracts/revert.ts";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad usage or input that the message explains. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

export function createProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .version(VERSION)
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
}

export interface RunOptions {
  /** Error classes whose message is a user's mistake (exit 2). UsageError always is. */
  userErrors: (abstract new (...args: never[]) => Error)[];
  /** The provider the command connected, to replay a mined transaction that reverted. */
  provider: () => Provider | undefined;
}

/** Runs the program on argv and exits the process with the code the outcome calls for. */
export async function runProgram(program: Command, argv: string[], options: RunOptions): Promise<never> {
  let code: number;
  try {
    await program.parseAsync(argv, { from: "user" });
    code = typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    code = await reportFailure(e, options);
  }
  options.provider()?.destroy();
  process.exit(code);
}

/** What to do about the refusals a newcomer meets first (amounts in the message are in the token's base units). */
const REFUSAL_HINTS: Record<string, string> = {
  ERC20InsufficientBalance:
    " (the account holds fewer tokens than that, in base units: on a devnet, `faucet` mints test tokens)",
  InsufficientStake: " (stake more first: `proofmarket-worker stake AMOUNT`)",
};

async function reportFailure(e: unknown, options: RunOptions): Promise<number> {
  // commander has printed its message already; help and --version end with 0.
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
  const error = e instanceof Error ? e : new Error(String(e));
  if (error instanceof UsageError || options.userErrors.some((kind) => error instanceof kind)) {
    console.error(error.message);
    return EXIT_USAGE;
  }
  const provider = options.provider();
  const refusal = provider ? await explainRevert(error, provider).catch(() => null) : null;
  if (refusal === null) console.error(`error: ${(error as { shortMessage?: string }).shortMessage ?? error.message}`);
  else console.error(`refused on chain: ${refusal}${REFUSAL_HINTS[refusal.split("(")[0]] ?? ""}`);
  return EXIT_FAILURE;
}

const TOKEN_AMOUNT = /^\d+(\.\d+)?$/;

/** Refuses an amount that is not a decimal number of tokens, before anything touches the chain. */
export function checkAmount(label: string, text: string): void {
  if (!TOKEN_AMOUNT.test(text))
    throw new UsageError(`${label}: expected a token amount, got ${text} (a decimal number of tokens, e.g. 25 or 2.5)`);
}

/** A checked amount in the token's base units. */
export function toBaseUnits(text: string, decimals: number): bigint {
  try {
    return parseUnits(text, decimals);
  } catch {
    throw new UsageError(`${text}: the token has ${decimals} decimals; give at most that many digits after the point`);
  }
}
