/**
 * The few on-chain facts that the ABI does not carry (enum names and orders) are written once in common/; these
 * tests fail when the Solidity source and that copy part ways.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { PROOF_SYSTEM_ID } from "../../common/circuits/manifest.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";

function enumMembers(file: string, name: string): string[] {
  const source = readFileSync(path.join(REPO_ROOT, "contracts", "types", file), "utf8");
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) throw new Error(`enum ${name} not found in ${file}`);
  return body
    .split("\n")
    .map((l) => l.replace(/\/\/.*$/, "").trim())
    .join("")
    .split(",")
    .filter((m) => m !== "");
}

describe("Mirrors of on-chain enums in common/", function () {
  it("JOB_STATUS matches JobStatus in JobState.sol", function () {
    expect(enumMembers("JobState.sol", "JobStatus")).to.deep.equal(Object.keys(JOB_STATUS));
    expect(Object.values(JOB_STATUS)).to.deep.equal(Object.keys(JOB_STATUS).map((_, i) => BigInt(i)));
  });

  it("PROOF_SYSTEM_ID matches ProofSystem in Circuit.sol", function () {
    const members = enumMembers("Circuit.sol", "ProofSystem").map((m) => m.toLowerCase());
    expect(members).to.deep.equal(Object.keys(PROOF_SYSTEM_ID));
    expect(Object.values(PROOF_SYSTEM_ID)).to.deep.equal(members.map((_, i) => i));
  });
});
