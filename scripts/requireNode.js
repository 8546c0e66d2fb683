/**
 * Loaded before `npm start` (`node --import ./scripts/requireNode.js scripts/start.ts`, one process, so that
 * signals reach it directly): an older Node.js would otherwise fail on the first .ts import with
 * ERR_UNKNOWN_FILE_EXTENSION. Plain JavaScript with no dependencies, so that it runs on
 * any Node.js, before or without `npm install`. The required version is package.json's "engines" (">=MAJOR.MINOR"),
 * which `npm install` enforces through engine-strict in .npmrc.
 */
import { readFileSync } from "node:fs";
import { exit, stderr, versions } from "node:process";
import { URL } from "node:url";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// A full semver range parser would need node_modules, which may not exist yet; engines is one ">=X.Y" bound.
const [needMajor, needMinor] = /^>=(\d+)\.(\d+)$/.exec(engines.node).slice(1).map(Number);
const [major, minor] = versions.node.split(".").map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  stderr.write(
    `ProofMarket needs Node.js ${engines.node} (this is ${versions.node}): install Node.js 24 ` +
      "(nvm install, which reads .nvmrc, or https://nodejs.org) and run `npm install` again\n",
  );
  exit(1);
}
