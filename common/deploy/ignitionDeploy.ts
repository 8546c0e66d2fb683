/**
 * Runs `hardhat ignition deploy` for one of the modules in ignition/modules against a chain given by RPC URL
 * (the `custom` network of hardhat.config.ts), the same path a testnet deployment takes, and reads the result.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../circuits/catalog.ts";
import { type IgnitionDeployment, readIgnitionDeployment } from "./ignitionDeployment.ts";
import { describeIgnitionFailure } from "./ignitionFailure.ts";

export const HARDHAT_CLI = path.join(REPO_ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");

export interface IgnitionDeployOptions {
  rpcUrl: string;
  deployerKey: string;
  /** A module file name in ignition/modules, without extension: "Devnet", "ProofMarket", "ExampleCircuits". */
  module: string;
  deploymentId: string;
  /** Ignition parameters file (JSON). */
  parameters?: string;
}

export async function deployWithIgnition(options: IgnitionDeployOptions): Promise<IgnitionDeployment> {
  const args = [
    HARDHAT_CLI,
    "ignition",
    "deploy",
    path.join(REPO_ROOT, "ignition", "modules", `${options.module}.ts`),
    "--network",
    "custom",
    "--deployment-id",
    options.deploymentId,
    // The default and production profiles have the same compiler settings (same bytecode); this one is already
    // built by tests and `npm run build`.
    "--build-profile",
    "default",
  ];
  if (options.parameters) args.push("--parameters", options.parameters);
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, PM_RPC_URL: options.rpcUrl, PM_DEPLOYER_KEY: options.deployerKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((r) => proc.once("exit", r));
  if (code !== 0) throw new Error(describeIgnitionFailure(options.module, code, output));
  return readIgnitionDeployment(ignitionDeploymentDir(options.deploymentId));
}

export function ignitionDeploymentDir(deploymentId: string): string {
  return path.join(REPO_ROOT, "ignition", "deployments", deploymentId);
}
