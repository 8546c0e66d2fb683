/**
 * A circuit built outside the repository: `npm run circuits:build` on a .circom file in a temporary folder (a
 * circomlib template, found without -l), artifacts and verifiers into --out; registered on a real local chain by
 * the requester client, which compiles its verifiers itself (no Hardhat build); the deployed verifiers accept a
 * real proof. Then the build's user mistakes: each is one line on stderr, exit 2, and the out folder untouched.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { buildPoseidon } from "circomlibjs";
import { Contract } from "ethers";
import * as snarkjs from "snarkjs";
import { GENERATED_VERIFIERS_DIR, REPO_ROOT } from "../../common/circuits/catalog.ts";
import { artifactPath, readManifest, sha256File } from "../../common/circuits/manifest.ts";
import { manifestFor } from "../../common/circuits/registeredManifest.ts";
import { contractArtifact } from "../../common/contracts/artifacts.ts";
import { encodeProof } from "../../common/proofs/encoding.ts";
import { createRequester } from "../../requester/client.ts";
import { type Devnet, startDevnet } from "../helpers/market.ts";
import "../helpers/releaseSnarkjs.ts";
import { runProcess } from "../helpers/runProcess.ts";
import { makeDevPtau } from "../../circuits/tool/devPtau.ts";

/** An insecure development ptau of 2^10, made by the build tool's own maker in `before` (about 15 s): a fresh clone
 * has nothing else to build with. */
const PTAU_POWER = 10;
let devPtau: string;

const HASH_PREIMAGE = `pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";

template HashPreimage() {
    signal input hash;
    signal input preimage[2];
    component h = Poseidon(2);
    h.inputs <== preimage;
    hash === h.out;
}

component main {public [hash]} = HashPreimage();
`;

// 1,024 multiplications: one constraint more than a 2^10 ptau holds with its public signal.
const TOO_BIG_FOR_2_10 = `pragma circom 2.1.0;
template Squares(n) {
    signal input x;
    signal output y;
    signal s[n + 1];
    s[0] <== x;
    for (var i = 0; i < n; i++) s[i + 1] <== s[i] * s[i];
    y <== s[n];
}
component main = Squares(1024);
`;

/** `npm run circuits:build -- ARGS`, typed in `cwd` (relative paths are the user's). */
const circuitsBuild = (cwd: string, args: string[]) =>
  runProcess("npm", ["--prefix", REPO_ROOT, "run", "--silent", "circuits:build", "--", ...args], { cwd });

describe("circuits:build of a circuit outside the repository, registered without a Hardhat build", function () {
  const sources = mkdtempSync(path.join(os.tmpdir(), "pm-own-circuit-"));
  const outputs = mkdtempSync(path.join(os.tmpdir(), "pm-own-artifacts-"));
  const outDir = path.join(outputs, "hash_preimage");
  const manifestFile = path.join(outDir, "manifest.json");
  let devnet: Devnet | undefined;

  before(async function () {
    devPtau = await makeDevPtau(PTAU_POWER, mkdtempSync(path.join(os.tmpdir(), "pm-dev-ptau-")));
    writeFileSync(path.join(sources, "hash_preimage.circom"), HASH_PREIMAGE);
    const built = await circuitsBuild(sources, ["hash_preimage.circom", "--ptau", devPtau, "--out", outDir]);
    expect(built.code, built.stderr).to.equal(0);
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  it("writes the artifacts, the manifest and both verifiers into --out, and nothing into contracts/", function () {
    const manifest = readManifest(manifestFile);
    expect(manifest).to.include({ name: "hash_preimage", nPublicOutputs: 0, nPublicInputs: 1, nPrivateInputs: 2 });
    expect(manifest.inputs.map((s) => s.name)).to.deep.equal(["hash", "preimage"]);
    expect(manifest.ptau).to.deep.equal({
      file: path.basename(devPtau),
      sha256: sha256File(devPtau),
      insecure: true,
    });
    const groth16 = manifest.systems.groth16!;
    expect(groth16.verifier).to.include({ path: "HashPreimageGroth16Verifier.sol" });
    expect(groth16.batchVerifier).to.include({ path: "HashPreimageGroth16BatchVerifier.sol" });
    for (const file of [manifest.source, manifest.wasm, manifest.r1cs, groth16.zkey, groth16.vkey, groth16.verifier]) {
      expect(sha256File(artifactPath(manifestFile, file)), file.path).to.equal(file.sha256);
    }
    expect(artifactPath(manifestFile, manifest.source)).to.equal(path.join(sources, "hash_preimage.circom"));
    expect(readdirSync(outputs)).to.deep.equal(["hash_preimage"]); // no staging folder left
    expect(readdirSync(outDir).sort()).to.deep.equal(
      [
        "HashPreimageGroth16BatchVerifier.sol",
        "HashPreimageGroth16Verifier.sol",
        "circuit.r1cs",
        "circuit.wasm",
        "groth16.vkey.json",
        "groth16.zkey",
        "manifest.json",
      ].sort(),
    );
    expect(existsSync(path.join(GENERATED_VERIFIERS_DIR, "HashPreimageGroth16Verifier.sol"))).to.equal(false);
  });

  it("registers through the requester client, and its deployed verifiers accept a real proof", async function () {
    devnet = await startDevnet();
    const requester = createRequester({
      provider: devnet.chain.provider,
      wallet: devnet.chain.accounts[2],
      marketAddress: devnet.deployment.market,
    });
    const circuitId = await requester.registerCircuit(manifestFile, "groth16");
    expect(circuitId).to.equal(BigInt(devnet.deployment.circuits.length + 1));

    const circuit = await requester.market.circuit(circuitId);
    const registered = await requester.market.queryFilter(requester.market.filters.CircuitRegistered(circuitId));
    const uri = pathToFileURL(manifestFile).href;
    expect(circuit.nPublicInputs).to.equal(1n);
    expect(circuit.nPublicOutputs).to.equal(0n);
    expect(circuit.registrant).to.equal(devnet.chain.accounts[2].address);
    expect(registered[0].args.artifactsURI).to.equal(uri);
    expect(registered[0].args.manifestHash).to.equal(`0x${sha256File(manifestFile)}`);
    expect(manifestFor(uri)?.manifest.name).to.equal("hash_preimage");

    const poseidon = await buildPoseidon();
    const preimage = [7n, 11n];
    const hash = poseidon.F.toObject(poseidon(preimage)) as bigint;
    const manifest = readManifest(manifestFile);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      { hash: hash.toString(), preimage: preimage.map(String) },
      artifactPath(manifestFile, manifest.wasm),
      artifactPath(manifestFile, manifest.systems.groth16!.zkey),
    );
    const encoded = await encodeProof("groth16", proof, publicSignals);
    // The proof's 8 words: a (2), b (2x2), c (2), as the snarkjs verifier takes them.
    const w = encoded.proof
      .slice(2)
      .match(/.{64}/g)!
      .map((word) => BigInt(`0x${word}`));
    const verifier = new Contract(
      circuit.verifier,
      ["function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[1]) view returns (bool)"],
      devnet.chain.provider,
    );
    const call = (signal: bigint) =>
      verifier.verifyProof(
        [w[0], w[1]],
        [
          [w[2], w[3]],
          [w[4], w[5]],
        ],
        [w[6], w[7]],
        [signal],
      );
    expect(await call(hash)).to.equal(true);
    expect(await call(hash + 1n)).to.equal(false);

    const batch = new Contract(
      circuit.batchVerifier,
      contractArtifact("IGroth16BatchVerifier").abi,
      devnet.chain.provider,
    );
    expect(await batch.verify(encoded.proof, [hash])).to.equal(true);
    expect(await batch.verify(encoded.proof, [hash + 1n])).to.equal(false);
  });

  it("posting a job on a circuit without public inputs warns that any proof of it fits; with one, no warning", async function () {
    const { chain, deployment } = devnet!; // registered on in the test above
    // A circuit whose only public signal is an output: nothing of a job's own is bound into its proofs.
    writeFileSync(
      path.join(sources, "square.circom"),
      "pragma circom 2.1.0;\ntemplate Square() { signal input x; signal output y; y <== x * x; }\ncomponent main = Square();\n",
    );
    const squareOut = path.join(outputs, "square");
    const built = await circuitsBuild(sources, ["square.circom", "--ptau", devPtau, "--out", squareOut]);
    expect(built.code, built.stderr).to.equal(0);
    const requester = createRequester({
      provider: chain.provider,
      wallet: chain.accounts[2],
      marketAddress: deployment.market,
    });
    const square = await requester.registerCircuit(path.join(squareOut, "manifest.json"), "groth16");
    const post = (circuit: bigint, inputs: object) => {
      const file = path.join(sources, `inputs-${circuit}.json`);
      writeFileSync(file, JSON.stringify(inputs));
      const args = ["--circuit", String(circuit), "--inputs", file, "--fee", "1", "--bond", "1"];
      return runProcess(process.execPath, [path.join(REPO_ROOT, "requester", "cli.ts"), "post", ...args], {
        env: {
          PM_RPC_URL: chain.url,
          PM_MARKET_ADDRESS: deployment.market,
          PM_PRIVATE_KEY: chain.accounts[2].privateKey,
        },
      });
    };
    const open = await post(square, { x: "3" });
    expect(open.code, open.stderr).to.equal(0);
    const { jobId } = JSON.parse(open.stdout);
    expect(open.stderr).to.equal(
      `warning: circuit ${square} has no public inputs, so any proof of it fits job ${jobId}, one made for another ` +
        "job or before this one included: if you need a fresh proof, give the circuit a public input that is unique " +
        "to the job (a nonce)\n",
    );
    const poseidon = await buildPoseidon();
    const hash = (poseidon.F.toObject(poseidon([1n, 2n])) as bigint).toString();
    const bound = await post(square - 1n, { hash, preimage: ["1", "2"] });
    expect([bound.code, bound.stderr]).to.deep.equal([0, ""]);
  });

  describe("a mistake is one line on stderr, exit 2, and the out folder left as it was", function () {
    const failures = mkdtempSync(path.join(os.tmpdir(), "pm-own-failures-"));
    const existing = path.join(failures, "existing");

    before(function () {
      mkdirSync(existing);
      writeFileSync(path.join(existing, "keep.txt"), "before");
    });

    async function refused(args: string[], message: RegExp) {
      const result = await circuitsBuild(sources, [...args, "--out", existing]);
      expect(result.code, result.stderr).to.equal(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(message);
      expect(readdirSync(existing)).to.deep.equal(["keep.txt"]);
      expect(readFileSync(path.join(existing, "keep.txt"), "utf8")).to.equal("before");
      expect(readdirSync(failures)).to.deep.equal(["existing"]); // no staging folder left
    }

    it("a missing .circom file", async function () {
      await refused(["missing.circom", "--ptau", devPtau], /no circuit file .*missing\.circom: give the path/);
    });

    it("a missing ptau, with how to get one", async function () {
      await refused(
        ["hash_preimage.circom", "--ptau", "nope.ptau"],
        /ptau file .*nope\.ptau not found: .*--dev-ptau POWER.*circuits:dev-ptau.*ceremony/,
      );
    });

    it("a file given as the ptau that is not one", async function () {
      await refused(
        ["hash_preimage.circom", "--ptau", "hash_preimage.circom"],
        /hash_preimage\.circom is not a powers-of-tau file: .*circuits:dev-ptau/,
      );
    });

    it("an output folder that cannot be created", async function () {
      const result = await circuitsBuild(sources, ["hash_preimage.circom", "--ptau", devPtau, "--out", "/dev/null/x"]);
      expect([result.code, result.stderr.trim().split("\n")]).to.deep.equal([
        2,
        [
          "error: cannot create the output folder /dev/null/x (EEXIST: file already exists, mkdir '/dev/null'): give " +
            "--out a folder you can create",
        ],
      ]);
    });

    it("circom's own error for a syntax error", async function () {
      writeFileSync(
        path.join(sources, "broken.circom"),
        HASH_PREIMAGE.replace("h.inputs <== preimage;", "h.inputs <== ;"),
      );
      await refused(
        ["broken.circom", "--ptau", devPtau],
        /circom could not compile .*broken\.circom: error\[P\d+\]: .* at .*broken\.circom":\d+:\d+/,
      );
    });

    it("a ptau too small for the circuit, with the power it needs", async function () {
      writeFileSync(path.join(sources, "squares.circom"), TOO_BIG_FOR_2_10);
      await refused(
        ["squares.circom", "--ptau", devPtau],
        /ptau .*dev_pot10\.ptau is too small for squares \(1024 constraints\): groth16 needs a ptau of power 11 or more/,
      );
    });
  });
});
