/**
 * Circuit check, at start-up, before any claim: the worker trusts a circuit with its bond only if what the market
 * will call to verify its proofs is what the project's own generators make from the zkey the worker proves with
 * (trust/expectedVerifiers.ts), byte for byte, metadata aside. A verifier that rejects valid proofs, or one that can
 * be switched to rejecting them after a claim (a rug pull), would otherwise get an honest prover fully slashed; a
 * batch verifier that accepts anything would get garbage paid. A circuit that fails any check is refused with the
 * reason and the worker serves the rest.
 *
 * It also checks what the comparison assumes: that the circuit is registered with the proof system and signal counts
 * the worker's manifest has, and that the verification key the worker checks its proofs against is its zkey's.
 *
 * A circuit with a verdict in the worker's store (its verifier refused a valid proof: trust/verdicts.ts) is refused
 * while its verifiers' code is what it was then, bytecode check or not; once the code has changed, the verdict is
 * dropped and the circuit checked like any other.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Provider } from "ethers";
import { PROOF_SYSTEM_ID, type ProofSystem } from "../../../common/circuits/manifest.ts";
import { SOLC_SETTINGS, SOLC_VERSION } from "../../../common/contracts/solc.ts";
import { NO_BATCH_VERIFIER } from "../../../common/deploy/circuitRegistration.ts";
import type { Logger } from "../../../common/log.ts";
import type { ServedCircuit } from "../config.ts";
import type { WorkerStore } from "../store.ts";
import { compareRuntimeCode, describeDifference } from "../trust/codeComparison.ts";
import { type ExpectedCode, type ExpectedVerifiers, expectedVerifiers } from "../trust/expectedVerifiers.ts";
import { describeVerdict, readVerifierCode, verdictHolds } from "../trust/verdicts.ts";

/** What the market's `circuit(id)` view returns, as far as this check reads it. */
export interface RegisteredCircuit {
  verifier: string;
  batchVerifier: string;
  system: bigint;
  nPublicOutputs: bigint;
  nPublicInputs: bigint;
}

export interface CircuitCheckContext {
  market: { circuit(circuitId: bigint): Promise<RegisteredCircuit> };
  marketAddress: string;
  provider: Pick<Provider, "getCode">;
  /** trust.checkVerifierBytecode */
  checkBytecode: boolean;
  /** Where compiled expectations are cached (trust/expectedVerifiers.ts). */
  cacheDir: string;
  /** The worker's stored verdicts (trust/verdicts.ts); none when absent. */
  verdicts?: Pick<WorkerStore, "verdict" | "clearVerdict">;
  logger: Logger;
}

interface Checked {
  circuitId: number;
  /** `<manifest name>/<system>` */
  name: string;
  verifier: string | null;
  /** null when the circuit has none (or it could not be read). */
  batchVerifier: string | null;
}

/**
 * `trusted`: its verifiers are the project's; `unchecked`: served without the bytecode check
 * (trust.checkVerifierBytecode is off); `refused`: not served, `reason` says why.
 */
export type CircuitTrust =
  | (Checked & { status: "trusted"; fromCache: boolean })
  | (Checked & { status: "unchecked" })
  | (Checked & { status: "refused"; reason: string });

/** Every configured circuit was refused: there is nothing to serve. */
export class NoTrustedCircuitError extends Error {
  readonly refused: CircuitTrust[];

  constructor(refused: CircuitTrust[]) {
    super(
      "no circuit left to serve: the worker refused every configured circuit\n" +
        refused.map((r) => `  ${r.status === "refused" ? r.reason : `circuit ${r.circuitId}`}`).join("\n"),
    );
    this.name = "NoTrustedCircuitError";
    this.refused = refused;
  }
}

const WILL_NOT_CLAIM = "this worker will not claim its jobs";

const systemName = (id: bigint) =>
  (Object.entries(PROOF_SYSTEM_ID).find(([, n]) => BigInt(n) === id)?.[0] as ProofSystem | undefined) ??
  `unknown system ${id}`;

/** Why the registered circuit cannot be the one this worker proves, or null if it can. */
function registrationMismatch(circuit: ServedCircuit, onChain: RegisteredCircuit, marketAddress: string) {
  if (/^0x0{40}$/i.test(onChain.verifier))
    return `circuit ${circuit.circuitId} is not registered on the market at ${marketAddress}: check circuits[].circuitId`;
  const manifest = circuit.manifestData;
  if (onChain.system !== BigInt(PROOF_SYSTEM_ID[circuit.system]))
    return (
      `circuit ${circuit.circuitId} is registered as a ${systemName(onChain.system)} circuit, but this worker proves ` +
      `it with ${circuit.system} (circuits[].system)`
    );
  if (
    onChain.nPublicOutputs !== BigInt(manifest.nPublicOutputs) ||
    onChain.nPublicInputs !== BigInt(manifest.nPublicInputs)
  )
    return (
      `circuit ${circuit.circuitId} is registered with ${onChain.nPublicOutputs} public outputs and ` +
      `${onChain.nPublicInputs} public inputs, but ${circuit.manifestFile} has ${manifest.nPublicOutputs} and ` +
      `${manifest.nPublicInputs}: it is not this circuit`
    );
  return null;
}

/** Why a circuit is refused, and what harmless cause the operator should rule out before suspecting its registrant. */
interface Mismatch {
  reason: string;
  hint: string;
}

/** A verifier built from another zkey of the same circuit differs too: say so, it is the harmless cause. */
const OTHER_ZKEY = "if the circuit was registered with another zkey, serve the artifacts its artifactsURI names";

/** So does one compiled with other settings: a code mismatch says what the expectation was compiled with. */
const OTHER_COMPILER =
  `the expected code is what solc ${SOLC_VERSION} makes with ${JSON.stringify(SOLC_SETTINGS)}: a verifier compiled ` +
  `with another compiler version or settings differs too, as does one made from another zkey (${OTHER_ZKEY})`;

const mismatch = (reason: string): Mismatch => ({ reason, hint: OTHER_ZKEY });

/** The refusal for code at `address` that is not `expected`, or null if it is. */
async function codeMismatch(
  ctx: CircuitCheckContext,
  address: string,
  expected: ExpectedCode,
  what: string,
): Promise<Mismatch | null> {
  const comparison = compareRuntimeCode(await ctx.provider.getCode(address), expected.deployedBytecode);
  if (comparison.same) return null;
  return { reason: `the code at ${address} is not ${what}: ${describeDifference(comparison)}`, hint: OTHER_COMPILER };
}

const BATCH_TEMPLATE = path.join("contracts", "verifiers", "Groth16BatchVerifier.sol");

const isNoBatchVerifier = (address: string) => address.toLowerCase() === NO_BATCH_VERIFIER;

/** Why the circuit's verifiers are not the project's build of the worker's zkey, or null if they are. */
async function verifierMismatch(
  circuit: ServedCircuit,
  onChain: RegisteredCircuit,
  expected: ExpectedVerifiers,
  ctx: CircuitCheckContext,
): Promise<Mismatch | null> {
  const zkey = circuit.files.zkey;
  const vkey = readVkey(circuit.files.vkey);
  if (vkey === null) return mismatch(`cannot read the verification key ${circuit.files.vkey} as JSON`);
  if (!isDeepStrictEqual(expected.vkey, vkey))
    return mismatch(
      `${circuit.files.vkey} is not the verification key of ${zkey}, which this worker proves with: it would ` +
        "check its proofs against another key than the chain does (rebuild the circuit, or fix its manifest)",
    );
  const single = await codeMismatch(
    ctx,
    onChain.verifier,
    expected.verifier,
    `the verifier snarkjs exports from ${zkey}`,
  );
  if (single !== null || isNoBatchVerifier(onChain.batchVerifier)) return single;
  if (expected.batchVerifier === null)
    return mismatch(`the market lists a batch verifier (${onChain.batchVerifier}) for a ${circuit.system} circuit`);
  return codeMismatch(
    ctx,
    onChain.batchVerifier,
    expected.batchVerifier,
    `the batch verifier the project's template (${BATCH_TEMPLATE}) makes from ${zkey}'s verification key`,
  );
}

/** A circuit registered as the one the worker proves, with its on-chain entry: its verifiers are to be checked. */
interface Candidate {
  circuit: ServedCircuit;
  onChain: RegisteredCircuit;
  checked: Checked;
}

const isCandidate = (r: Candidate | CircuitTrust): r is Candidate => "onChain" in r;

/** The circuit's registry entry, if it is the one the worker proves; else its refusal. */
async function readRegistration(circuit: ServedCircuit, ctx: CircuitCheckContext): Promise<Candidate | CircuitTrust> {
  const name = `${circuit.manifestData.name}/${circuit.system}`;
  const onChain = await ctx.market.circuit(BigInt(circuit.circuitId));
  const notThisCircuit = registrationMismatch(circuit, onChain, ctx.marketAddress);
  if (notThisCircuit !== null)
    return {
      circuitId: circuit.circuitId,
      name,
      verifier: null,
      batchVerifier: null,
      status: "refused",
      reason: `${notThisCircuit}; ${WILL_NOT_CLAIM}`,
    };
  const checked = {
    circuitId: circuit.circuitId,
    name,
    verifier: onChain.verifier,
    batchVerifier: isNoBatchVerifier(onChain.batchVerifier) ? null : onChain.batchVerifier,
  };
  return { circuit, onChain, checked };
}

async function verdict(
  { circuit, onChain, checked }: Candidate,
  expected: ExpectedVerifiers | Error,
  ctx: CircuitCheckContext,
): Promise<CircuitTrust> {
  const refused = ({ reason, hint }: Mismatch): CircuitTrust => {
    const prefix = `circuit ${circuit.circuitId} (${checked.name})`;
    return { ...checked, status: "refused", reason: `${prefix}: ${reason}; ${WILL_NOT_CLAIM} (${hint})` };
  };
  if (expected instanceof Error)
    return refused(mismatch(`could not make the expected verifiers from ${circuit.files.zkey}: ${expected.message}`));
  const found = await verifierMismatch(circuit, onChain, expected, ctx);
  return found === null ? { ...checked, status: "trusted", fromCache: expected.cached } : refused(found);
}

/** The circuit's refusal when a stored verdict holds for its verifiers' code now; null (and the verdict dropped if
 *  it no longer holds) otherwise. */
async function storedVerdict({ circuit, checked }: Candidate, ctx: CircuitCheckContext): Promise<CircuitTrust | null> {
  const verdict = ctx.verdicts?.verdict(circuit.circuitId) ?? null;
  if (verdict === null || checked.verifier === null) return null;
  const now = await readVerifierCode(ctx.provider, checked.verifier, checked.batchVerifier);
  if (verdictHolds(verdict.code, now)) {
    const reason = `circuit ${circuit.circuitId} (${checked.name}): ${describeVerdict(verdict)}; ${WILL_NOT_CLAIM}`;
    return { ...checked, status: "refused", reason };
  }
  ctx.verdicts!.clearVerdict(circuit.circuitId);
  ctx.logger.warn(
    "stored verdict dropped: the circuit's verifiers (their address or code) have changed since; checking it afresh",
    {
      circuitId: circuit.circuitId,
      circuit: checked.name,
      verdict: verdict.reason,
      then: verdict.code,
      now,
    },
  );
  return null;
}

/** The outcome of each circuit's check, in order; the expected verifiers of all are made at once. */
async function checkAll(circuits: ServedCircuit[], ctx: CircuitCheckContext): Promise<CircuitTrust[]> {
  const registered: (Candidate | CircuitTrust)[] = [];
  for (const circuit of circuits) {
    const r = await readRegistration(circuit, ctx);
    registered.push(isCandidate(r) ? ((await storedVerdict(r, ctx)) ?? r) : r);
  }
  if (!ctx.checkBytecode) return registered.map((r) => (isCandidate(r) ? { ...r.checked, status: "unchecked" } : r));
  const candidates = registered.filter(isCandidate);
  const expected = await expectedVerifiers(
    candidates.map(({ circuit }) => ({
      system: circuit.system,
      zkey: circuit.files.zkey,
      circuitName: circuit.manifestData.name,
    })),
    ctx.cacheDir,
  );
  const results: CircuitTrust[] = [];
  for (const r of registered) results.push(isCandidate(r) ? await verdict(r, expected[candidates.indexOf(r)], ctx) : r);
  return results;
}

/** The verification key file the worker checks its proofs against; null if it cannot be read as JSON. */
function readVkey(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/**
 * Checks every served circuit and logs the outcome of each (a refusal at error level with its reason, a skipped
 * check as a warning); the caller stops serving the refused ones.
 * @throws NoTrustedCircuitError when every circuit is refused
 * @throws the provider's error when the market cannot be read (the check cannot be done: nothing is served)
 */
export async function checkServedCircuits(
  circuits: ServedCircuit[],
  ctx: CircuitCheckContext,
): Promise<CircuitTrust[]> {
  const results = await checkAll(circuits, ctx);
  for (const result of results) {
    const fields = {
      circuitId: result.circuitId,
      circuit: result.name,
      verifier: result.verifier,
      batchVerifier: result.batchVerifier,
    };
    if (result.status === "trusted")
      ctx.logger.info("circuit verifiers are the project's build of this worker's zkey", {
        ...fields,
        fromCache: result.fromCache,
      });
    else if (result.status === "unchecked")
      ctx.logger.warn(
        "VERIFIER BYTECODE CHECK DISABLED (trust.checkVerifierBytecode: false): serving a circuit whose verifiers " +
          "this worker has not checked; a hostile verifier can reject its valid proofs and get its bond slashed",
        fields,
      );
    else ctx.logger.error("circuit refused", { ...fields, reason: result.reason });
  }
  if (results.length > 0 && results.every((r) => r.status === "refused")) throw new NoTrustedCircuitError(results);
  return results;
}
