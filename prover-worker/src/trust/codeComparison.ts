/**
 * Compares a contract's code on chain with the runtime bytecode the project's compiler makes, metadata aside (solc's
 * CBOR tail hashes the source files' names and comments, which differ between builds of the same contract; the
 * code before it is what runs).
 */
import { withoutMetadata } from "../../../common/contracts/solc.ts";

export type CodeComparison =
  | { same: true }
  | {
      same: false;
      /** Byte offset of the first difference (the shorter one's length when one is a prefix of the other). */
      offset: number;
      onChainBytes: number;
      expectedBytes: number;
    };

export function compareRuntimeCode(onChain: string, expected: string): CodeComparison {
  const a = withoutMetadata(onChain).slice(2).toLowerCase();
  const b = withoutMetadata(expected).slice(2).toLowerCase();
  if (a === b) return { same: true };
  let hexDigit = 0;
  while (hexDigit < a.length && hexDigit < b.length && a[hexDigit] === b[hexDigit]) hexDigit++;
  return { same: false, offset: Math.floor(hexDigit / 2), onChainBytes: a.length / 2, expectedBytes: b.length / 2 };
}

/** The comparison in words, for a refusal message. */
export function describeDifference(comparison: Exclude<CodeComparison, { same: true }>): string {
  if (comparison.onChainBytes === 0) return "there is no contract code there";
  return (
    `they differ from byte ${comparison.offset} on (${comparison.onChainBytes} bytes on chain, ` +
    `${comparison.expectedBytes} expected, metadata aside)`
  );
}
