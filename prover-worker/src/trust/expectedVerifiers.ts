/**
 * The verifiers a circuit must have on chain for this worker to trust it with a bond: what the project's generators
 * make from the zkey the worker proves with (circuits/tool/verifier.ts: snarkjs' exporter, and for Groth16 the batch
 * verifier template), compiled as the build compiles them (common/deploy/circuitRegistration.ts, with the pinned
 * compiler and settings of common/contracts/solc.ts).
 *
 * Compiling takes seconds per circuit (all of them in one thread of their own: compileThread.ts), so the bytecode is
 * cached in the worker's data folder. The key is everything the compiler reads: the rendered sources (which embed the
 * zkey's verification key, so a different zkey is a different key), the compiler's version and settings; the project
 * sources they import (the batch verifier's base contract) are recorded with their hashes and checked on every hit.
 * A hit is therefore the compiler's output for the same input.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ProofSystem } from "../../../common/circuits/manifest.ts";
import { readImport, SOLC_SETTINGS, SOLC_VERSION } from "../../../common/contracts/solc.ts";
import { type RenderedVerifier, type RenderedVerifiers, renderVerifiers } from "../../../circuits/tool/verifier.ts";
import { compileInThread, sha256 } from "./compileThread.ts";

export interface ExpectedCode {
  contractName: string;
  /** Runtime bytecode as the compiler makes it, metadata included (compareRuntimeCode sets it aside). */
  deployedBytecode: string;
}

export interface ExpectedVerifiers {
  /** The zkey's verification key, as the build writes it to `<system>.vkey.json`. */
  vkey: Record<string, unknown>;
  verifier: ExpectedCode;
  /** Groth16 only. */
  batchVerifier: ExpectedCode | null;
  /** Whether the bytecode came from the cache rather than the compiler. */
  cached: boolean;
}

export interface VerifiersOf {
  system: ProofSystem;
  zkey: string;
  /** The manifest's name: the verifier contracts are named after it (which changes their metadata only). */
  circuitName: string;
}

interface CacheEntry {
  /** Project source unit name -> sha256 of the contents the compiler read. */
  imports: Record<string, string>;
  verifier: ExpectedCode;
  batchVerifier: ExpectedCode | null;
}

const sourcesOf = (r: RenderedVerifiers): RenderedVerifier[] => [
  r.verifier,
  ...(r.batchVerifier ? [r.batchVerifier] : []),
];

function cacheKey(verifiers: RenderedVerifier[]): string {
  const sources = verifiers.map((v) => ({ contractName: v.contractName, source: v.source }));
  return sha256(JSON.stringify({ solc: SOLC_VERSION, settings: SOLC_SETTINGS, sources }));
}

/** The entry, if there is one and every project source it was compiled with still reads the same. */
function readCacheEntry(file: string): CacheEntry | null {
  let entry: CacheEntry;
  try {
    entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
  } catch {
    return null; // none yet, or unreadable: compile again
  }
  for (const [sourceName, hash] of Object.entries(entry.imports ?? {})) {
    const now = readImport(sourceName);
    if (!("contents" in now) || sha256(now.contents) !== hash) return null;
  }
  return entry;
}

function writeCacheEntry(file: string, entry: CacheEntry): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Written beside and renamed: a worker killed mid-write leaves no half entry for the next start to trust.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify(entry));
  renameSync(partial, file);
}

/** Compiles the sets the cache lacks (each once, however many circuits share it) and caches them. */
async function compileMissing(missing: Map<string, RenderedVerifier[]>, cacheDir: string) {
  const keys = [...missing.keys()];
  const sets = keys.map((key) => missing.get(key)!);
  const toCompile = sets.map((set) => set.map(({ contractName, source }) => ({ contractName, source })));
  // A thread that dies (out of memory, say) fails each set with its error, as a compiler error would.
  const outcomes =
    keys.length === 0
      ? []
      : await compileInThread(toCompile).catch((e: Error) =>
          sets.map(() => ({ ok: false as const, error: e.message })),
        );
  const compiled = new Map<string, CacheEntry | Error>();
  outcomes.forEach((outcome, i) => {
    if (!outcome.ok) return compiled.set(keys[i], new Error(outcome.error));
    const [verifier, batchVerifier] = sets[i].map((v, j) => ({
      contractName: v.contractName,
      deployedBytecode: outcome.deployedBytecode[j],
    }));
    const entry = { imports: outcome.imports, verifier, batchVerifier: batchVerifier ?? null };
    writeCacheEntry(path.join(cacheDir, `${keys[i]}.json`), entry);
    compiled.set(keys[i], entry);
  });
  return compiled;
}

/**
 * @param cacheDir where compiled expectations are kept
 * @returns for each request in order, its expected verifiers, or the Error that kept them from being made (an
 *   unreadable zkey, a source the compiler refuses)
 */
export async function expectedVerifiers(
  requests: VerifiersOf[],
  cacheDir: string,
): Promise<(ExpectedVerifiers | Error)[]> {
  const rendered: (RenderedVerifiers | Error)[] = [];
  for (const r of requests)
    rendered.push(await renderVerifiers(r.system, r.zkey, r.circuitName).catch((e: Error) => e));
  const keys = rendered.map((r) => (r instanceof Error ? null : cacheKey(sourcesOf(r))));
  const hits = new Map<string, CacheEntry>();
  const missing = new Map<string, RenderedVerifier[]>();
  rendered.forEach((r, i) => {
    const key = keys[i];
    if (key === null || r instanceof Error || hits.has(key) || missing.has(key)) return;
    const entry = readCacheEntry(path.join(cacheDir, `${key}.json`));
    if (entry === null) missing.set(key, sourcesOf(r));
    else hits.set(key, entry);
  });
  const compiled = await compileMissing(missing, cacheDir);
  return rendered.map((r, i) => {
    if (r instanceof Error) return r;
    const key = keys[i]!;
    const entry = hits.get(key) ?? compiled.get(key)!;
    if (entry instanceof Error) return entry;
    return { vkey: r.vkey, verifier: entry.verifier, batchVerifier: entry.batchVerifier, cached: hits.has(key) };
  });
}
