/**
 * The shared Solidity compiler (common/contracts/solc.ts) makes what `hardhat build` makes: an example circuit's
 * generated verifiers compile to Hardhat's artifact runtime bytecode, metadata aside. Later checks that a deployed
 * verifier is exactly the project's rely on this.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { manifestPath, REPO_ROOT } from "../../common/circuits/catalog.ts";
import { artifactPath, readManifest } from "../../common/circuits/manifest.ts";
import { contractArtifact } from "../../common/contracts/artifacts.ts";
import { compileSolidity, SolidityCompileError, withoutMetadata } from "../../common/contracts/solc.ts";

describe("Solidity compiler (solc WASM, the project's settings)", function () {
  it("compiles poseidon_preimage's Groth16 verifier and batch verifier to Hardhat's runtime bytecode", function () {
    const file = manifestPath("poseidon_preimage");
    const groth16 = readManifest(file).systems.groth16!;
    for (const verifier of [groth16.verifier, groth16.batchVerifier!]) {
      const sourceFile = artifactPath(file, verifier);
      const started = Date.now();
      const compiled = compileSolidity({
        [path.relative(REPO_ROOT, sourceFile)]: readFileSync(sourceFile, "utf8"),
      }).get(verifier.contractName)!;
      console.log(`      ${verifier.contractName}: compiled in ${Date.now() - started} ms`);
      const hardhat = contractArtifact(verifier.contractName) as unknown as { deployedBytecode: string };
      expect(withoutMetadata(compiled.deployedBytecode)).to.equal(withoutMetadata(hardhat.deployedBytecode));
      // The metadata tail is really gone (it hashes source names, which differ from Hardhat's `project/` ones).
      expect(withoutMetadata(compiled.deployedBytecode).length).to.be.lessThan(compiled.deployedBytecode.length);
      expect(compiled.abi).to.deep.equal(contractArtifact(verifier.contractName).abi);
    }
  });

  it("reports solc's own message for a source that does not compile", function () {
    expect(() => compileSolidity({ "contracts/Broken.sol": "pragma solidity ^0.8.28; contract Broken { uint x = ; }" }))
      .to.throw(SolidityCompileError)
      .with.property("message")
      .that.matches(/ParserError/);
  });

  it("leaves bytecode without a metadata tail as it is", function () {
    expect(withoutMetadata("0x6080604052")).to.equal("0x6080604052");
  });
});
