/**
 * The committed circuit artifacts are what their manifests say, and each circuit's verification key, zkey and
 * Solidity verifiers agree: a verifier contract depends on its zkey, so artifacts are never rebuilt in CI.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
// snarkjs keeps worker threads after zKey exports: released after the tests, so that the process exits.
import "../helpers/releaseSnarkjs.ts";
import { loadManifest, manifestPath, readCatalog } from "../../common/circuits/catalog.ts";
import { artifactPath, type ProofSystem, sha256File } from "../../common/circuits/manifest.ts";
import { renderGroth16BatchVerifier } from "../../circuits/tool/batchVerifier.ts";
import { verifierTemplate } from "../../circuits/tool/verifier.ts";

describe("Circuit artifacts", function () {
  for (const spec of readCatalog()) {
    describe(spec.name, function () {
      const file = manifestPath(spec.name);
      const manifest = loadManifest(spec.name);

      it("every artifact matches its manifest hash and size", function () {
        const files = [manifest.source, manifest.wasm, manifest.r1cs];
        for (const s of Object.values(manifest.systems)) {
          files.push(s.zkey, s.vkey, s.verifier);
          if (s.batchVerifier) files.push(s.batchVerifier);
        }
        for (const a of files) {
          expect(sha256File(artifactPath(file, a)), a.path).to.equal(a.sha256);
        }
        expect(Object.keys(manifest.systems).sort()).to.deep.equal([...spec.systems].sort());
      });

      it("signal counts agree with the R1CS", async function () {
        const info = await snarkjs.r1cs.info(artifactPath(file, manifest.r1cs));
        expect(info.nOutputs).to.equal(manifest.nPublicOutputs);
        expect(info.nPubInputs).to.equal(manifest.nPublicInputs);
        expect(info.nPrvInputs).to.equal(manifest.nPrivateInputs);
        expect(info.nConstraints).to.equal(manifest.constraints);
        const size = (v: "public" | "private") =>
          manifest.inputs.filter((s) => s.visibility === v).reduce((n, s) => n + s.dims.reduce((a, b) => a * b, 1), 1) -
          1;
        expect(size("public")).to.equal(manifest.nPublicInputs);
        expect(size("private")).to.equal(manifest.nPrivateInputs);
      });

      for (const [system, artifacts] of Object.entries(manifest.systems)) {
        it(`${system}: the vkey is the zkey's, and the Solidity verifiers are the ones that zkey exports`, async function () {
          const zkey = artifactPath(file, artifacts.zkey);
          const fromZkey = await snarkjs.zKey.exportVerificationKey(zkey);
          const committed = JSON.parse(readFileSync(artifactPath(file, artifacts.vkey), "utf8"));
          expect(JSON.parse(JSON.stringify(fromZkey))).to.deep.equal(committed);

          const template = verifierTemplate(system as ProofSystem);
          const exported: string = await snarkjs.zKey.exportSolidityVerifier(zkey, { [system]: template });
          const source = readFileSync(artifactPath(file, artifacts.verifier), "utf8");
          const body = (s: string) => s.slice(s.indexOf("pragma solidity")).replace(/contract \w+ \{/, "contract _ {");
          expect(body(source)).to.equal(body(exported));

          if (artifacts.batchVerifier) {
            const batch = readFileSync(artifactPath(file, artifacts.batchVerifier), "utf8");
            const rendered = renderGroth16BatchVerifier(
              artifacts.batchVerifier.contractName,
              committed,
              path.basename(artifacts.vkey.path),
            );
            expect(batch).to.equal(rendered);
          }
        });
      }
    });
  }
});
