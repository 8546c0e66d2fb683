/**
 * The README's walkthrough as a script: every fenced block whose info string is `sh walkthrough`, in order, joined
 * into one bash script. The README is the one place these commands live; the walkthrough test runs them as written,
 * with only the machine-specific parts moved (ports, the deployment folder, the scratch folder) so that a test run
 * cannot collide with a devnet someone already has on the default ports.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";

const README = path.join(REPO_ROOT, "README.md");

/** The bodies of the README's fenced blocks whose info string is exactly `<language> <tag>`. */
export function readmeBlocks(tag: string, language = "sh"): string[] {
  const text = readFileSync(README, "utf8");
  const blocks: string[] = [];
  const fence = new RegExp("^```" + language + " " + tag + "\\s*\\n([\\s\\S]*?)^```\\s*$", "gm");
  for (const match of text.matchAll(fence)) blocks.push(match[1]);
  return blocks;
}

/** What the README writes -> what this run uses instead. Applied to whole tokens only. */
export type Substitutions = Record<string, string>;

export function walkthroughScript(substitutions: Substitutions): string {
  const blocks = readmeBlocks("walkthrough");
  if (blocks.length === 0) throw new Error("README.md has no ```sh walkthrough blocks");
  let script = blocks.join("\n");
  for (const [written, used] of Object.entries(substitutions)) {
    if (!script.includes(written)) throw new Error(`the README's walkthrough no longer mentions ${written}`);
    script = script.replaceAll(written, used);
  }
  // -x echoes each command before it runs, so a failure's output says which README line broke.
  return `set -euxo pipefail\n${script}\nwait\n`;
}
