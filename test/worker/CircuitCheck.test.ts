/**
 * The worker's start-up circuit check (prover-worker/src/pipeline/circuitCheck.ts) against stand-in chain reads: a
 * circuit is trusted only if the code at its verifier (and batch verifier) is what the project's generators make from
 * the worker's zkey, metadata aside; anything else is refused with a message that says where the code differs. The
 * compiled expectation is cached, and a hit gives the same answer. A circuit with a stored verdict (its verifier
 * refused a valid proof) stays refused across restarts while its verifiers' code is unchanged. Also what the
 * comparison relies on: a contract's name changes its metadata only, and the generated verifiers have no immutables
 * (a deployment leaves the compiled runtime code as it is).
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { artifactPath, PROOF_SYSTEM_ID, type ProofSystem } from "../../common/circuits/manifest.ts";
import { contractArtifact } from "../../common/contracts/artifacts.ts";
import { SOLC_SETTINGS, SOLC_VERSION, withoutMetadata } from "../../common/contracts/solc.ts";
import { compileAsGeneratedVerifiers, NO_BATCH_VERIFIER } from "../../common/deploy/circuitRegistration.ts";
import { renderVerifiers } from "../../circuits/tool/verifier.ts";
import { resolveManifest, type ServedCircuit } from "../../prover-worker/src/config.ts";
import {
  checkServedCircuits,
  NoTrustedCircuitError,
  type RegisteredCircuit,
} from "../../prover-worker/src/pipeline/circuitCheck.ts";
import { openStore, type WorkerStore } from "../../prover-worker/src/store.ts";
import { compareRuntimeCode, describeDifference } from "../../prover-worker/src/trust/codeComparison.ts";
import { expectedVerifiers } from "../../prover-worker/src/trust/expectedVerifiers.ts";
import { readVerifierCode } from "../../prover-worker/src/trust/verdicts.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";
import "../helpers/releaseSnarkjs.ts";

const VERIFIER = "0x" + "11".repeat(20);
const BATCH_VERIFIER = "0x" + "22".repeat(20);
const MARKET = "0x" + "33".repeat(20);

const deployedCode = (contractName: string) =>
  (contractArtifact(contractName) as unknown as { deployedBytecode: string }).deployedBytecode;
const REAL_VERIFIER = deployedCode("PoseidonPreimageGroth16Verifier");
const REAL_BATCH_VERIFIER = deployedCode("PoseidonPreimageGroth16BatchVerifier");

/** poseidon_preimage as a worker config serves it, with some of its files swapped if asked. */
function served(
  circuitId: number,
  system: ProofSystem = "groth16",
  files: { vkey?: string; zkey?: string } = {},
): ServedCircuit {
  const { manifestFile, manifestData } = resolveManifest("poseidon_preimage", REPO_ROOT);
  const artifacts = manifestData.systems[system]!;
  return {
    circuitId,
    manifest: "poseidon_preimage",
    system,
    backend: "snarkjs",
    price: { floor: 0n, perProvingSecond: 0n },
    manifestFile,
    manifestData,
    files: {
      wasm: artifactPath(manifestFile, manifestData.wasm),
      zkey: files.zkey ?? artifactPath(manifestFile, artifacts.zkey),
      vkey: files.vkey ?? artifactPath(manifestFile, artifacts.vkey),
    },
  };
}

/** The market's registry entry of poseidon_preimage/groth16 at the stand-in addresses. */
function registered(overrides: Partial<RegisteredCircuit> = {}): RegisteredCircuit {
  return {
    verifier: VERIFIER,
    batchVerifier: BATCH_VERIFIER,
    system: BigInt(PROOF_SYSTEM_ID.groth16),
    nPublicOutputs: 0n,
    nPublicInputs: 2n,
    ...overrides,
  };
}

describe("worker circuit check: the verifiers on chain are the project's build of the worker's zkey", function () {
  const freshDir = () => mkdtempSync(path.join(os.tmpdir(), "pm-verifier-cache-"));
  /** One cache for the tests that are not about it: they compile once between them. */
  const sharedCacheDir = freshDir();
  let cacheDir: string;
  let captured: ReturnType<typeof capturingLogger>;

  beforeEach(function () {
    cacheDir = sharedCacheDir;
    captured = capturingLogger();
  });

  /** Runs the check of `circuits` against a chain whose registry and code are the given ones. */
  function check(
    circuits: ServedCircuit[],
    registry: Record<number, RegisteredCircuit>,
    code: Record<string, string> = { [VERIFIER]: REAL_VERIFIER, [BATCH_VERIFIER]: REAL_BATCH_VERIFIER },
    checkBytecode = true,
    verdicts?: WorkerStore,
  ) {
    return checkServedCircuits(circuits, {
      market: { circuit: async (id) => registry[Number(id)] ?? registered({ verifier: NO_BATCH_VERIFIER }) },
      marketAddress: MARKET,
      provider: { getCode: async (address) => code[String(address)] ?? "0x" },
      checkBytecode,
      cacheDir,
      verdicts,
      logger: captured.logger,
    });
  }

  /** The reason the check of one circuit refuses it with. */
  const refusal = async (...args: Parameters<typeof check>) => {
    const none = await check(...args).then(
      () => null,
      (e: Error) => e,
    );
    expect(none, "refused, so nothing is left to serve").to.be.instanceOf(NoTrustedCircuitError);
    const [result] = (none as NoTrustedCircuitError).refused;
    return (result as { reason: string }).reason;
  };

  describe("what the comparison relies on", function () {
    it("a verifier contract's name changes its metadata only, not the code that runs", async function () {
      const zkey = served(1).files.zkey;
      const compile = async (circuitName: string) => {
        const r = await renderVerifiers("groth16", zkey, circuitName);
        return compileAsGeneratedVerifiers([r.verifier, r.batchVerifier!]).map((c) => c.deployedBytecode);
      };
      const [a, b] = [await compile("poseidon_preimage"), await compile("a_much_longer_other_name")];
      for (const i of [0, 1]) {
        expect(a[i]).to.not.equal(b[i]);
        expect(withoutMetadata(a[i])).to.equal(withoutMetadata(b[i]));
      }
    });

    it("the generated verifiers have no immutables: a deployment leaves the compiled runtime code byte for byte", async function () {
      const { ethers } = await network.create();
      for (const name of ["PoseidonPreimageGroth16Verifier", "PoseidonPreimageGroth16BatchVerifier"]) {
        const contract = await ethers.deployContract(name);
        expect(await ethers.provider.getCode(await contract.getAddress()), name).to.equal(deployedCode(name));
      }
    });
  });

  describe("comparing code", function () {
    it("ignores the metadata tail and names the first differing byte", function () {
      const body = withoutMetadata(REAL_VERIFIER);
      const otherMetadata = `${body}a165627a7a72305820${"ab".repeat(32)}0029`;
      expect(compareRuntimeCode(otherMetadata, REAL_VERIFIER)).to.deep.equal({ same: true });

      const tampered = `${body.slice(0, 2 + 2 * 100)}ff${body.slice(2 + 2 * 101)}`;
      const comparison = compareRuntimeCode(tampered, REAL_VERIFIER);
      const bytes = (body.length - 2) / 2;
      expect(comparison).to.deep.equal({ same: false, offset: 100, onChainBytes: bytes, expectedBytes: bytes });
      expect(describeDifference(comparison as never)).to.equal(
        `they differ from byte 100 on (${bytes} bytes on chain, ${bytes} expected, metadata aside)`,
      );
      expect(compareRuntimeCode(body.slice(0, 2 + 2 * 40), REAL_VERIFIER)).to.include({ offset: 40, onChainBytes: 40 });
      expect(describeDifference(compareRuntimeCode("0x", REAL_VERIFIER) as never)).to.equal(
        "there is no contract code there",
      );
    });
  });

  describe("checkServedCircuits", function () {
    it("trusts the real verifier and batch verifier; the second start reads the cache and gives the same answer", async function () {
      cacheDir = freshDir();
      const [first] = await check([served(1)], { 1: registered() });
      expect(first).to.deep.include({
        status: "trusted",
        fromCache: false,
        verifier: VERIFIER,
        batchVerifier: BATCH_VERIFIER,
      });
      expect(readdirSync(cacheDir)).to.have.length(1);
      const started = Date.now();
      const [second] = await check([served(1)], { 1: registered() });
      expect(second).to.deep.equal({ ...first, fromCache: true });
      expect(Date.now() - started, "a cache hit compiles nothing").to.be.below(1_500);
      expect(captured.lines.filter((l) => l.level === "info").map((l) => l.fields.circuitId)).to.deep.equal([1, 1]);

      // The cached expectation is the compiler's output for the same input.
      const zkey = served(1).files.zkey;
      const request = [{ system: "groth16" as const, zkey, circuitName: "poseidon_preimage" }];
      const [fresh] = await expectedVerifiers(request, freshDir());
      const [cached] = await expectedVerifiers(request, cacheDir);
      expect(cached).to.include({ cached: true });
      expect({ ...cached, cached: false }).to.deep.equal(fresh);
    });

    it("compiles again when a project source the cache entry was compiled with has changed", async function () {
      cacheDir = freshDir();
      await check([served(1)], { 1: registered() });
      const [file] = readdirSync(cacheDir);
      const entry = JSON.parse(readFileSync(path.join(cacheDir, file), "utf8"));
      expect(Object.keys(entry.imports)).to.include("contracts/verifiers/Groth16BatchVerifier.sol");
      entry.imports["contracts/verifiers/Groth16BatchVerifier.sol"] = "0".repeat(64);
      writeFileSync(path.join(cacheDir, file), JSON.stringify(entry));
      const [again] = await check([served(1)], { 1: registered() });
      expect(again).to.deep.include({ status: "trusted", fromCache: false });
    });

    it("refuses a verifier whose code differs by one byte, naming the circuit, the address and the offset", async function () {
      const body = withoutMetadata(REAL_VERIFIER);
      const tampered = `${body.slice(0, 2 + 2 * 200)}00${body.slice(2 + 2 * 201)}`;
      const reason = await refusal(
        [served(7)],
        { 7: registered() },
        { [VERIFIER]: tampered, [BATCH_VERIFIER]: REAL_BATCH_VERIFIER },
      );
      expect(reason).to.match(/^circuit 7 \(poseidon_preimage\/groth16\): /);
      expect(reason).to.contain(
        `the code at ${VERIFIER} is not the verifier snarkjs exports from ${served(7).files.zkey}`,
      );
      expect(reason).to.contain("they differ from byte 200 on");
      expect(reason).to.contain("this worker will not claim its jobs");
      // What the expectation was compiled with, so that a compiler-settings mismatch is told from a hostile verifier.
      expect(reason).to.contain(
        `the expected code is what solc ${SOLC_VERSION} makes with ${JSON.stringify(SOLC_SETTINGS)}: a verifier ` +
          "compiled with another compiler version or settings differs too, as does one made from another zkey",
      );
      expect(captured.lines.find((l) => l.level === "error")).to.deep.include({ msg: "circuit refused" });
    });

    it("refuses a batch verifier that is not the template's, a verifier with no code, and a verifier that rejects everything", async function () {
      const lying = deployedCode("LyingBatchVerifier");
      expect(
        await refusal([served(1)], { 1: registered() }, { [VERIFIER]: REAL_VERIFIER, [BATCH_VERIFIER]: lying }),
      ).to.contain(
        `the code at ${BATCH_VERIFIER} is not the batch verifier the project's template (contracts/verifiers/Groth16BatchVerifier.sol) makes from`,
      );
      expect(await refusal([served(1)], { 1: registered() }, {})).to.contain("there is no contract code there");
      const rejecting = deployedCode("RejectingVerifier");
      expect(await refusal([served(1)], { 1: registered() }, { [VERIFIER]: rejecting })).to.contain(
        "they differ from byte",
      );
    });

    it("refuses a circuit registered with another proof system or other signal counts, or not registered at all", async function () {
      expect(await refusal([served(1)], { 1: registered({ system: BigInt(PROOF_SYSTEM_ID.plonk) }) })).to.contain(
        "circuit 1 is registered as a plonk circuit, but this worker proves it with groth16",
      );
      expect(await refusal([served(1)], { 1: registered({ nPublicInputs: 3n }) })).to.contain(
        "is registered with 0 public outputs and 3 public inputs, but",
      );
      expect(await refusal([served(9)], {})).to.contain(`circuit 9 is not registered on the market at ${MARKET}`);
    });

    it("refuses a circuit whose configured verification key is not its zkey's", async function () {
      const other = served(1, "plonk").files.vkey;
      const reason = await refusal([served(1, "groth16", { vkey: other })], { 1: registered() });
      expect(reason).to.contain(`${other} is not the verification key of ${served(1).files.zkey}`);
      expect(reason, "no code was compared: no compiler to blame").not.to.contain("solc");
    });

    it("checks several circuits in one go: Groth16 and PLONK, and circuits that share a zkey are compiled once", async function () {
      cacheDir = freshDir();
      const PLONK_VERIFIER = "0x" + "44".repeat(20);
      const plonk = registered({
        verifier: PLONK_VERIFIER,
        batchVerifier: NO_BATCH_VERIFIER,
        system: BigInt(PROOF_SYSTEM_ID.plonk),
      });
      const results = await check(
        [served(1), served(2, "plonk"), served(3)],
        { 1: registered(), 2: plonk, 3: registered() },
        {
          [VERIFIER]: REAL_VERIFIER,
          [BATCH_VERIFIER]: REAL_BATCH_VERIFIER,
          [PLONK_VERIFIER]: deployedCode("PoseidonPreimagePlonkVerifier"),
        },
      );
      expect(results.map((r) => [r.circuitId, r.status, r.batchVerifier])).to.deep.equal([
        [1, "trusted", BATCH_VERIFIER],
        [2, "trusted", null],
        [3, "trusted", BATCH_VERIFIER],
      ]);
      expect(readdirSync(cacheDir)).to.have.length(2);
    });

    it("refuses a circuit whose zkey cannot be read, and serves the others", async function () {
      const missing = path.join(freshDir(), "groth16.zkey");
      const results = await check([served(1, "groth16", { zkey: missing }), served(2)], {
        1: registered(),
        2: registered(),
      });
      expect(results.map((r) => r.status)).to.deep.equal(["refused", "trusted"]);
      expect((results[0] as { reason: string }).reason).to.contain(
        `could not make the expected verifiers from ${missing}`,
      );
    });

    it("with the check off, serves the circuit unchecked and says so loudly", async function () {
      cacheDir = freshDir();
      const [result] = await check(
        [served(1)],
        { 1: registered() },
        { [VERIFIER]: deployedCode("RejectingVerifier") },
        false,
      );
      expect(result).to.deep.equal({
        circuitId: 1,
        name: "poseidon_preimage/groth16",
        verifier: VERIFIER,
        batchVerifier: BATCH_VERIFIER,
        status: "unchecked",
      });
      expect(captured.lines).to.have.length(1);
      expect(captured.lines[0].level).to.equal("warn");
      expect(captured.lines[0].msg).to.contain("VERIFIER BYTECODE CHECK DISABLED");
      expect(readdirSync(cacheDir)).to.have.length(0);
    });

    it("serves the trusted circuits among refused ones, and fails when none is left", async function () {
      const results = await check([served(1), served(2)], {
        1: registered(),
        2: registered({ verifier: BATCH_VERIFIER }),
      });
      expect(results.map((r) => r.status)).to.deep.equal(["trusted", "refused"]);
      const none = await check([served(2)], { 2: registered({ verifier: BATCH_VERIFIER }) }).then(
        () => null,
        (e: Error) => e,
      );
      expect(none).to.be.instanceOf(NoTrustedCircuitError);
      expect(none!.message).to.match(/^no circuit left to serve/);
      expect(none!.message).to.contain(`circuit 2 (poseidon_preimage/groth16): the code at ${BATCH_VERIFIER}`);
    });
  });

  describe("stored verdicts (a verifier refused a valid proof)", function () {
    const CODE = { [VERIFIER]: REAL_VERIFIER, [BATCH_VERIFIER]: REAL_BATCH_VERIFIER };
    const AT = Date.UTC(2025, 0, 2);
    const REASON = "the circuit's verifier refused a proof that verifies against the verification key: InvalidProof(7)";

    /** A store in a fresh data folder holding a verdict on circuit 1 recorded while its verifiers had `code`. */
    async function storeWithVerdict(code: Record<string, string>) {
      const dataDir = freshDir();
      const store = openStore(dataDir);
      const getCode = async (address: string) => code[address] ?? "0x";
      store.putVerdict({
        circuitId: 1,
        code: await readVerifierCode({ getCode }, VERIFIER, BATCH_VERIFIER),
        reason: REASON,
        jobId: 7n,
        txHash: "0xabc",
        at: AT,
      });
      store.close();
      return dataDir;
    }

    it("keeps the circuit refused after a restart, bytecode check or not, naming the evidence and how to clear it", async function () {
      const restarted = openStore(await storeWithVerdict(CODE));
      try {
        for (const checkBytecode of [false, true]) {
          const reason = await refusal([served(1)], { 1: registered() }, CODE, checkBytecode, restarted);
          expect(reason).to.equal(
            `circuit 1 (poseidon_preimage/groth16): out of service since 2025-01-02T00:00:00.000Z: ${REASON} ` +
              `(job 7, tx 0xabc); the verdict holds while the code at its verifier ${VERIFIER} and batch verifier ` +
              `${BATCH_VERIFIER} is what it was then (clear it with \`proofmarket-worker trust --clear 1\`); ` +
              "this worker will not claim its jobs",
          );
        }
        expect(restarted.verdict(1)).to.deep.include({ circuitId: 1, jobId: 7n, reason: REASON });
        // Cleared, the circuit is checked like any other.
        expect(restarted.clearVerdict(1)).to.equal(true);
        const [result] = await check([served(1)], { 1: registered() }, CODE, false, restarted);
        expect(result.status).to.equal("unchecked");
      } finally {
        restarted.close();
      }
    });

    it("no longer holds once the verifier's or the batch verifier's code has changed: dropped, and the normal check runs", async function () {
      const rejecting = deployedCode("RejectingVerifier");
      for (const then of [
        { [VERIFIER]: rejecting, [BATCH_VERIFIER]: REAL_BATCH_VERIFIER },
        { [VERIFIER]: REAL_VERIFIER, [BATCH_VERIFIER]: deployedCode("LyingBatchVerifier") },
      ]) {
        captured = capturingLogger();
        const restarted = openStore(await storeWithVerdict(then));
        try {
          const [result] = await check([served(1)], { 1: registered() }, CODE, true, restarted);
          expect(result.status).to.equal("trusted");
          expect(restarted.verdict(1)).to.equal(null);
          const dropped = captured.lines.find((l) => l.msg.startsWith("stored verdict dropped"))!;
          expect(dropped.level).to.equal("warn");
          expect(dropped.fields).to.deep.include({ circuitId: 1, verdict: REASON });
        } finally {
          restarted.close();
        }
      }
    });

    it("is about the circuit's registration: a verdict recorded for other verifier addresses does not hold", async function () {
      const restarted = openStore(await storeWithVerdict(CODE));
      try {
        const elsewhere = "0x" + "55".repeat(20);
        const [result] = await check(
          [served(1)],
          { 1: registered({ verifier: elsewhere }) },
          { ...CODE, [elsewhere]: REAL_VERIFIER },
          false,
          restarted,
        );
        expect(result.status).to.equal("unchecked");
      } finally {
        restarted.close();
      }
    });
  });
});
