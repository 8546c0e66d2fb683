/**
 * `npm run circuits:build`: builds example circuits (circuits/circuits.json) or any .circom file into its keys,
 * verifiers and manifest (buildCircuit.ts). See circuits/README.md. A mistake the user can fix is one line on
 * stderr and exit code 2.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import {
  ARTIFACTS_DIR,
  CIRCUITS_DIR,
  type CircuitSpec,
  GENERATED_VERIFIERS_DIR,
  readCatalog,
  REPO_ROOT,
} from "../../common/circuits/catalog.ts";
import { PROOF_SYSTEMS, type ProofSystem } from "../../common/circuits/manifest.ts";
import { BuildError } from "./buildError.ts";
import { buildCircuit, type CircuitBuild } from "./buildCircuit.ts";
import { makeDevPtau } from "./devPtau.ts";

interface Options {
  include?: string[];
  out?: string;
  systems?: ProofSystem[];
  ptau?: string;
  devPtau?: number;
}

const HOW_TO_GET_A_PTAU =
  "for development make an INSECURE one with --dev-ptau POWER (or `npm run circuits:dev-ptau -- <power> <dir>`); " +
  "for real use a public ceremony's file such as powersOfTau28_hez_final_NN.ptau";

function parseSystems(list: string): ProofSystem[] {
  const systems = list.split(",").map((s) => s.trim());
  const unknown = systems.filter((s) => !(PROOF_SYSTEMS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown ${unknown.join(", ")}; use ${PROOF_SYSTEMS.join(", ")}`);
  return systems as ProofSystem[];
}

function parsePower(value: string): number {
  const power = Number(value);
  if (!Number.isInteger(power) || power < 8 || power > 28) throw new InvalidArgumentError("an integer from 8 to 28");
  return power;
}

// `npm run` starts scripts in the repository root; paths the user typed are relative to where they typed them.
const userPath = (p: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);

const isCircomPath = (arg: string) => arg.endsWith(".circom") || arg.includes("/") || arg.includes(path.sep);

/**
 * What to build for one argument: an example by name, or a .circom file with its out folder beside it.
 * @param devPtau the development ptau --dev-ptau makes, if given
 */
function planFor(arg: string, catalog: CircuitSpec[], options: Options, devPtau?: string): CircuitBuild {
  const example = isCircomPath(arg) ? undefined : catalog.find((c) => c.name === arg);
  let build: Omit<CircuitBuild, "ptau">;
  let ptau = options.ptau === undefined ? devPtau : userPath(options.ptau);
  if (example !== undefined) {
    ptau ??= path.resolve(REPO_ROOT, example.ptau);
    build = {
      name: example.name,
      description: example.description,
      sourceFile: path.join(CIRCUITS_DIR, "src", `${example.name}.circom`),
      outDir: options.out ? userPath(options.out) : path.join(ARTIFACTS_DIR, example.name),
      // Given --out, the example is built like any circuit (Hardhat's sources stay as committed).
      verifiersDir: options.out ? userPath(options.out) : GENERATED_VERIFIERS_DIR,
      systems: options.systems ?? example.systems,
      optimization: example.optimization,
    };
  } else {
    if (!isCircomPath(arg))
      throw new BuildError(
        `unknown circuit ${arg}: give the path of a .circom file or an example's name (${catalog.map((c) => c.name).join(", ")})`,
      );
    const sourceFile = userPath(arg);
    if (!existsSync(sourceFile) || !statSync(sourceFile).isFile())
      throw new BuildError(`no circuit file ${sourceFile}: give the path of an existing .circom file`);
    const name = path.basename(sourceFile, ".circom");
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name))
      throw new BuildError(
        `${sourceFile}: the file name names the circuit and its verifier contracts; rename it to letters, digits, _ or -`,
      );
    if (ptau === undefined)
      throw new BuildError(
        `${name} is not an example circuit: give --ptau FILE or --dev-ptau POWER (${HOW_TO_GET_A_PTAU})`,
      );
    const outDir = options.out ? userPath(options.out) : path.join(path.dirname(sourceFile), name);
    build = {
      name,
      description: name,
      sourceFile,
      outDir,
      verifiersDir: outDir,
      systems: options.systems ?? ["groth16"],
    };
  }
  // A development ptau is made just before the builds (devPtau); any other must exist now.
  if (ptau !== devPtau) checkPtauFile(ptau);
  return { ...build, ptau, includePaths: options.include };
}

async function main(args: string[], options: Options): Promise<void> {
  if (options.ptau !== undefined && options.devPtau !== undefined)
    throw new BuildError("give either --ptau FILE or --dev-ptau POWER, not both");
  const catalog = readCatalog();
  const targets = args.length > 0 ? args : catalog.map((c) => c.name);
  if (options.out !== undefined && targets.length !== 1)
    throw new BuildError("--out takes one circuit: build the others one at a time");
  options.include = options.include?.map(userPath);
  for (const dir of options.include ?? []) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new BuildError(`include folder ${dir} not found: give -l an existing folder`);
  }
  // Every argument is checked before the (slow) development ptau or any build starts.
  const pendingDevPtau = options.devPtau === undefined ? undefined : "the development ptau to be made";
  for (const arg of targets) planFor(arg, catalog, options, pendingDevPtau);
  const devPtau =
    options.devPtau === undefined ? undefined : await makeDevPtau(options.devPtau, path.join(CIRCUITS_DIR, ".ptau"));
  for (const arg of targets) await buildCircuit(planFor(arg, catalog, options, devPtau));
}

const program = new Command()
  .name("npm run circuits:build --")
  .description("Build circom circuits: compile, set up each proof system from a ptau, export verifiers and a manifest.")
  .argument(
    "[circuits...]",
    "example circuit names (circuits/circuits.json) or paths of .circom files; none: every example",
  )
  .option("-l, --include <dir>", "a circom include folder (repeatable); circomlib is always found", collect)
  .option(
    "-o, --out <dir>",
    "the artifacts' folder, one circuit only (default: circuits/artifacts/<name> for an example, " +
      "a folder named after the circuit beside a .circom file; verifiers go into it, except for an example " +
      "built without --out: contracts/verifiers/generated/)",
  )
  .option(
    "--systems <list>",
    "proof systems, comma-separated: groth16,plonk,fflonk (default: the example's, else groth16)",
    parseSystems,
  )
  .option("--ptau <file>", "powers-of-tau file (default: the example's in circuits/circuits.json)")
  .option("--dev-ptau <power>", "make and use an INSECURE development ptau of 2^POWER (circuits/.ptau/)", parsePower)
  .addHelpText(
    "after",
    "\nA development ptau's toxic waste is known: never let a circuit set up with one guard value.\n" +
      "Example: npm run circuits:build -- ./my.circom -l ./lib --dev-ptau 12 --out ./my-build",
  )
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(message) });

/** A ptau must exist and be one (snarkjs' binary files open with their type, here "ptau"), before any work. */
function checkPtauFile(ptau: string): void {
  if (!existsSync(ptau)) throw new BuildError(`ptau file ${ptau} not found: ${HOW_TO_GET_A_PTAU}`);
  const magic = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(ptau, "r");
    readSync(fd, magic, 0, 4, 0);
  } catch (e) {
    throw new BuildError(`cannot read ptau file ${ptau} (${(e as NodeJS.ErrnoException).code}): ${HOW_TO_GET_A_PTAU}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (magic.toString("latin1") !== "ptau")
    throw new BuildError(`${ptau} is not a powers-of-tau file: ${HOW_TO_GET_A_PTAU}`);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await program.parseAsync(process.argv);
    await main(program.args, program.opts<Options>());
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2); // commander printed it
    // A user's mistake is one line (exit 2); anything else is a failure, also one line unless PM_DEBUG asks for more.
    console.error(`error: ${(e as Error).message}`);
    if (!(e instanceof BuildError) && process.env.PM_DEBUG) console.error((e as Error).stack);
    process.exit(e instanceof BuildError ? 2 : 1);
  }
  process.exit(0); // snarkjs keeps worker threads alive
}
