/**
 * The proof a requester gets back: the words the market receives (snarkjs' Solidity call-data order) turned back
 * into snarkjs' JSON verify with snarkjs, for each proof system, and equal the proof as snarkjs wrote it.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { AbiCoder } from "ethers";
import { loadManifest, manifestPath } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { artifactPath, PROOF_SYSTEMS } from "../../common/circuits/manifest.ts";
import { proveWithSnarkjs, snarkjsProver } from "../../common/proofs/prove.ts";
import { snarkjsJson } from "../../requester/proofs.ts";

describe("requester: proofs rebuilt from the market's encoding", function () {
  for (const system of PROOF_SYSTEMS) {
    it(`${system}: the rebuilt proof.json verifies and matches snarkjs' own`, async function () {
      const manifest = loadManifest("poseidon_preimage");
      const proved = await proveWithSnarkjs(
        manifest,
        system,
        await exampleInputs("poseidon_preimage", `json-${system}`),
      );
      const n = system === "groth16" ? 8 : 24;
      const words = AbiCoder.defaultAbiCoder().decode(
        Array.from({ length: n }, () => "uint256"),
        proved.proof,
      ) as unknown as bigint[];
      const rebuilt = snarkjsJson({
        system,
        words: [...words],
        publicSignals: proved.publicSignals,
      });
      const vkey = JSON.parse(
        readFileSync(artifactPath(manifestPath("poseidon_preimage"), manifest.systems[system]!.vkey), "utf8"),
      );
      expect(await snarkjsProver(system).verify(vkey, rebuilt.publicSignals, rebuilt.proof)).to.equal(true);
      expect(rebuilt.publicSignals).to.deep.equal(proved.raw.publicSignals);
      const original = proved.raw.proof as Record<string, any>;
      if (system === "groth16") {
        expect(rebuilt.proof.pi_b).to.deep.equal(original.pi_b);
        expect((rebuilt.proof.pi_a as string[]).slice(0, 2)).to.deep.equal(original.pi_a.slice(0, 2));
      } else if (system === "plonk") {
        expect(rebuilt.proof.eval_zw).to.equal(original.eval_zw);
        expect((rebuilt.proof.Wxiw as string[]).slice(0, 2)).to.deep.equal(original.Wxiw.slice(0, 2));
      } else {
        expect((rebuilt.proof.evaluations as Record<string, string>).inv).to.equal(original.evaluations.inv);
      }
    });
  }
});
