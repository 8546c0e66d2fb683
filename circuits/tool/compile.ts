/**
 * Compiles a circom circuit with the npm `circom2` package (circom built to WASM: no native binary, nothing
 * downloaded) into its R1CS, witness-generator WASM and symbol file. This repository's node_modules is always an
 * include path, so `include "circomlib/circuits/..."` resolves wherever the circuit lives.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { BuildError } from "./buildError.ts";

export interface CompiledCircuit {
  r1cs: string;
  wasm: string;
  sym: string;
}

export type Optimization = "O0" | "O1" | "O2";

/** circom's first error as one line: `error[P1012]: illegal expression at "x.circom":3:32 (hint)`. */
function firstCircomError(output: string): string {
  const lines = stripVTControlCharacters(output)
    .split("\n")
    .map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith("error"));
  if (start < 0) return lines.filter((l) => l.length > 0).join(" ") || "no message";
  const following = lines.slice(start + 1, start + 3);
  const location = following
    .find((l) => l.startsWith("┌─"))
    ?.slice(2)
    .trim();
  const hint = following
    .find((l) => l.startsWith("="))
    ?.slice(1)
    .trim();
  return `${lines[start].replace(/\s+/g, " ")}${location ? ` at ${location}` : ""}${hint ? ` (${hint})` : ""}`;
}

export function compileCircuit(
  sourceFile: string,
  outDir: string,
  optimization: Optimization = "O1",
  includePaths: string[] = [],
): CompiledCircuit {
  const name = path.basename(sourceFile, ".circom");
  mkdirSync(outDir, { recursive: true });
  const circom2 = createRequire(import.meta.url).resolve("circom2/cli.js");
  const includes = [...includePaths, path.join(REPO_ROOT, "node_modules")].flatMap((dir) => ["-l", dir]);
  const run = spawnSync(
    process.execPath,
    [circom2, sourceFile, "--r1cs", "--wasm", "--sym", `--${optimization}`, ...includes, "-o", outDir],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  process.stdout.write(run.stdout ?? "");
  if (run.status !== 0) {
    throw new BuildError(`circom could not compile ${sourceFile}: ${firstCircomError(`${run.stderr}\n${run.stdout}`)}`);
  }
  return {
    r1cs: path.join(outDir, `${name}.r1cs`),
    wasm: path.join(outDir, `${name}_js`, `${name}.wasm`),
    sym: path.join(outDir, `${name}.sym`),
  };
}
