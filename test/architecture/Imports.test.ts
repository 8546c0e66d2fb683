/**
 * The seams between the project's parts, read from the source: every import (`from "..."`, `import "..."`,
 * `import("...")`) of every TypeScript and JavaScript file, resolved to a path in the repository.
 *   - The GraphQL API and the HTTP server do not import the indexer: what a commit changed reaches them through
 *     coordinator/commitChanges.ts.
 *   - Production code (common/, coordinator/, prover-worker/src/, requester/, bin/, ignition/) imports neither the
 *     development scaffolding (dev/) nor the tests (test/).
 *   - Nothing outside test/ imports test/.
 *   - The market's events are read through the one chain reader (common/chain/logReader.ts): no other production
 *     code, script or bench calls eth_getLogs or ethers' getLogs/queryFilter (a bench measuring the node alone says
 *     so where it does).
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";

/** Folders that hold no source of the project's own (installed, built or generated). */
const SKIPPED = new Set([
  ".git",
  ".tools",
  ".devnet",
  "node_modules",
  "artifacts",
  "cache",
  "types",
  "generated",
  "build",
  "test-artifacts",
]);
const SOURCE = /\.(ts|js|mjs|cjs)$/;
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;
/** The backfill bench times raw eth_getLogs to show what the node alone costs, beside the reader. */
const BENCH_OF_THE_NODE_ALONE = "bench/backfill.ts";
const PRODUCTION = ["common/", "coordinator/", "prover-worker/src/", "requester/", "bin/", "ignition/"];

interface Import {
  /** The importing file, relative to the repository root (with "/"). */
  file: string;
  /** What it imports, resolved the same way (a relative specifier) or as written (a package). */
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(full);
    return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

function importsOf(full: string): Import[] {
  const file = path.relative(REPO_ROOT, full).split(path.sep).join("/");
  return [...readFileSync(full, "utf8").matchAll(IMPORT)].map(([, specifier]) => ({
    file,
    target: specifier.startsWith(".")
      ? path
          .relative(REPO_ROOT, path.resolve(path.dirname(full), specifier))
          .split(path.sep)
          .join("/")
      : specifier,
  }));
}

const IMPORTS = sourceFiles(REPO_ROOT).flatMap(importsOf);
const under = (folders: string[]) => (p: string) => folders.some((folder) => p.startsWith(folder));
const shown = (found: Import[]) => found.map((i) => `${i.file} -> ${i.target}`);

describe("architecture: imports", function () {
  it("the scan sees the imports it judges", function () {
    const seen = (file: string, target: string) => IMPORTS.some((i) => i.file === file && i.target === target);
    expect(seen("coordinator/coordinator.ts", "coordinator/indexer/indexer.ts")).to.equal(true);
    expect(seen("coordinator/graphql/reads.ts", "coordinator/commitChanges.ts")).to.equal(true);
    expect(seen("test/helpers/market.ts", "dev/devnet.ts"), "a re-export").to.equal(true);
    expect(seen("test/contracts/helpers/fixture.ts", "test/helpers/releaseSnarkjs.ts"), "a bare import").to.equal(true);
    expect(seen("bin/proofmarket-worker.js", "prover-worker/src/cli.ts"), "a dynamic import").to.equal(true);
  });

  it("the GraphQL API and the HTTP server do not import the indexer", function () {
    const found = IMPORTS.filter(
      (i) => under(["coordinator/graphql/", "coordinator/http/"])(i.file) && under(["coordinator/indexer/"])(i.target),
    );
    expect(shown(found)).to.deep.equal([]);
  });

  it("production code imports neither dev/ nor test/", function () {
    const found = IMPORTS.filter((i) => under(PRODUCTION)(i.file) && under(["dev/", "test/"])(i.target));
    expect(shown(found)).to.deep.equal([]);
  });

  it("only the chain reader reads logs: no eth_getLogs, getLogs or queryFilter elsewhere outside the tests", function () {
    const READS = /\bqueryFilter\s*\(|\.getLogs\s*\(|["']eth_getLogs["']/;
    // The provider imitation answers eth_getLogs (it imitates a provider); it reads no market events.
    const allowed = new Set(["common/chain/logReader.ts", BENCH_OF_THE_NODE_ALONE, "dev/rpcProxy.ts"]);
    const found = sourceFiles(REPO_ROOT)
      .map((full) => path.relative(REPO_ROOT, full).split(path.sep).join("/"))
      .filter((file) => !file.startsWith("test/") && !allowed.has(file))
      .filter((file) => READS.test(readFileSync(path.join(REPO_ROOT, file), "utf8")));
    expect(found).to.deep.equal([]);
    // The pattern does find what it looks for.
    expect(READS.test(readFileSync(path.join(REPO_ROOT, "common/chain/logReader.ts"), "utf8"))).to.equal(true);
  });

  it("nothing outside test/ imports test/", function () {
    const found = IMPORTS.filter((i) => !under(["test/"])(i.file) && under(["test/"])(i.target));
    expect(shown(found)).to.deep.equal([]);
  });
});
