/**
 * What a failed `hardhat ignition deploy` says, made readable for the Error that deployWithIgnition throws: the
 * failed futures' lines first (Ignition prints them after pages of progress), and any revert Ignition could not
 * name, named. Ignition decodes a revert with the ABI of the contract it called only, so an error raised deeper
 * (a token's ERC20InsufficientBalance inside the token check's probe, say) comes out as "unknown custom error
 * (signature 0x…)"; the selector is looked up in the project's ABIs.
 */
import { type ErrorFragment, Interface, type InterfaceAbi } from "ethers";
import { contractArtifact } from "../contracts/artifacts.ts";

/** Contracts a deployment calls into whose ABIs carry the errors a nested call can raise. */
const ERROR_SOURCES = ["ProofMarket", "TokenTransferProbe", "TestToken"];

const UNKNOWN_ERROR = /unknown custom error \(signature (0x[0-9a-fA-F]{8})\)/g;
/** Ignition's line for each failed future: " - Module#future: why". */
const FAILED_FUTURE = /^ - \S+#\S+: .*$/gm;

function errorBySelector(selector: string): ErrorFragment | null {
  for (const name of ERROR_SOURCES) {
    const found = new Interface(contractArtifact(name).abi as InterfaceAbi).getError(selector);
    if (found) return found;
  }
  return null;
}

/** `output` with every unnamed custom error followed by its signature from the project's ABIs, where known. */
export function nameUnknownErrors(output: string): string {
  return output.replace(UNKNOWN_ERROR, (text, selector: string) => {
    const fragment = errorBySelector(selector);
    return fragment ? `${text}: ${fragment.format("sighash")}` : text;
  });
}

/** The failed futures' lines (each once: Ignition may print a line twice), or "" if the output names none. */
export function failedFutures(output: string): string {
  return [...new Set(nameUnknownErrors(output).match(FAILED_FUTURE) ?? [])].join("\n");
}

/** The message for a failed deploy: what failed, then the end of the output for context. */
export function describeIgnitionFailure(module: string, exitCode: number | null, output: string): string {
  const failed = failedFutures(output);
  const summary = failed === "" ? "" : `\n${failed}\n`;
  return `ignition deploy of ${module} failed (exit ${exitCode}):${summary}\n${nameUnknownErrors(output).slice(-4000)}`;
}
