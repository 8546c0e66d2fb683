/**
 * Errors as types, shared by every component. A failure says what it is by its class, not by its message text:
 * `RetryableError` (trying again later may work: a provider that rate-limits, a server that is down, a timeout) or
 * `FatalError` (it will fail the same way again: the job, the configuration or the chain is at fault). Each carries
 * a stable `code` (SCREAMING_SNAKE, documented where it is thrown, safe to match on in scripts and dashboards), the
 * `stage` that raised it (chain, preflight, claim, prove, submit, ...) and the error it wraps as `cause`, so that
 * the whole chain is printed and walked, the way viem's and ponder's errors are.
 */

export interface ErrorOptions {
  /** What failed underneath (another ProofMarketError, an ethers error, a Node system error). */
  cause?: unknown;
  /** Facts that help whoever reads the log (a job id, a block range, an URL). */
  details?: Record<string, unknown>;
}

export abstract class ProofMarketError extends Error {
  /** Whether the same operation may succeed if tried again later. */
  abstract readonly retryable: boolean;
  readonly code: string;
  readonly stage: string;
  readonly details: Record<string, unknown>;

  constructor(stage: string, code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.stage = stage;
    this.code = code;
    this.details = options.details ?? {};
    this.name = new.target.name;
  }

  /** This error and its causes, outermost first. */
  *chain(): Generator<unknown> {
    yield this;
    const seen = new Set<unknown>([this]);
    for (let e = this.cause; e !== undefined && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
      seen.add(e);
      yield e;
    }
  }

  /** The messages of the whole chain in one line: "what failed: why: why underneath". */
  fullMessage(): string {
    return [...this.chain()]
      .map((e) => (e instanceof Error ? e.message : String(e)))
      .filter((m, i, all) => m.length > 0 && all.indexOf(m) === i)
      .join(": ");
  }
}

/** Trying again later may work. */
export class RetryableError extends ProofMarketError {
  readonly retryable = true;
}

/** Trying again will fail the same way: someone must change the input, the configuration or the chain. */
export class FatalError extends ProofMarketError {
  readonly retryable = false;
}

/**
 * Whether a failure is worth retrying: a ProofMarketError says so itself; anything else (an error no component has
 * classified) is taken as retryable, since an unknown failure of a network call is most often a passing one.
 */
export function isRetryable(error: unknown): boolean {
  return error instanceof ProofMarketError ? error.retryable : true;
}

/** The stable code of a ProofMarketError, or "UNCLASSIFIED". */
export function errorCode(error: unknown): string {
  return error instanceof ProofMarketError ? error.code : "UNCLASSIFIED";
}

/** A one-line message for logs: a ProofMarketError's whole cause chain, or any error's message. */
export function messageOf(error: unknown): string {
  if (error instanceof ProofMarketError) return error.fullMessage();
  return error instanceof Error ? error.message : String(error);
}
