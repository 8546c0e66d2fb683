/**
 * Compiles a circom circuit with the npm `circom2` package (circom built to WASM: no native binary, nothing
 * downloaded) into its R1CS, witness-generator WASM and symbol file.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";

export interface CompiledCircuit {
  r1cs: string;
  wasm: string;
  sym: string;
}

export function compileCircuit(
  sourceFile: string,
  outDir: string,
  optimization: "O0" | "O1" | "O2" = "O1",
): CompiledCircuit {
  const name = path.basename(sourceFile, ".circom");
  mkdirSync(outDir, { recursive: true });
  const circom2 = createRequire(import.meta.url).resolve("circom2/cli.js");
  execFileSync(
    process.execPath,
    [
      circom2,
      sourceFile,
      "--r1cs",
      "--wasm",
      "--sym",
      `--${optimization}`,
      "-l",
      path.join(REPO_ROOT, "node_modules"),
      "-o",
      outDir,
    ],
    { stdio: "inherit" },
  );
  return {
    r1cs: path.join(outDir, `${name}.r1cs`),
    wasm: path.join(outDir, `${name}_js`, `${name}.wasm`),
    sym: path.join(outDir, `${name}.sym`),
  };
}
