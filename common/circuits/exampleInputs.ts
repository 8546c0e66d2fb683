/**
 * Valid inputs for the example circuits, derived from a seed so that tests, demos and benchmarks can make as many
 * distinct jobs as they need. Part of the product, not only of development: `proofmarket-worker bench` proves an
 * example circuit with them when no inputs file is given, and `proofmarket-worker init` knows the example circuits
 * by this list. Hashes and signatures are computed with circomlibjs, the JavaScript twin of circomlib.
 */
import { buildEddsa, buildPoseidon } from "circomlibjs";
import { createHash } from "node:crypto";

export type ExampleCircuit = "poseidon_preimage" | "merkle_membership" | "eddsa_signature" | "poseidon_chain";

export const EXAMPLE_CIRCUITS: readonly ExampleCircuit[] = [
  "poseidon_preimage",
  "merkle_membership",
  "eddsa_signature",
  "poseidon_chain",
];
export type Inputs = Record<string, string | string[]>;

const MERKLE_DEPTH = 10;
const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** A field element derived from a seed and a label. */
function fieldFromSeed(seed: string | number, label: string): bigint {
  const digest = createHash("sha256").update(`${seed}:${label}`).digest("hex");
  return BigInt(`0x${digest}`) % SNARK_FIELD;
}

let poseidonPromise: ReturnType<typeof buildPoseidon> | undefined;
let eddsaPromise: ReturnType<typeof buildEddsa> | undefined;

async function poseidonHash(values: bigint[]): Promise<bigint> {
  poseidonPromise ??= buildPoseidon();
  const poseidon = await poseidonPromise;
  return BigInt(poseidon.F.toString(poseidon(values)));
}

export async function poseidonPreimageInputs(seed: string | number): Promise<Inputs> {
  const preimage = [fieldFromSeed(seed, "preimage0"), fieldFromSeed(seed, "preimage1")];
  return {
    preimage: preimage.map(String),
    hash: String(await poseidonHash(preimage)),
    context: String(fieldFromSeed(seed, "context")),
  };
}

/** A sparse depth-10 tree with the member at a seed-chosen index; siblings are seed-derived. */
export async function merkleMembershipInputs(seed: string | number): Promise<Inputs> {
  const secret = fieldFromSeed(seed, "secret");
  const index = Number(fieldFromSeed(seed, "index") % BigInt(1 << MERKLE_DEPTH));
  let node = await poseidonHash([secret]);
  const pathElements: string[] = [];
  const pathIndices: string[] = [];
  for (let level = 0; level < MERKLE_DEPTH; level++) {
    const sibling = fieldFromSeed(seed, `sibling${level}`);
    const isRight = (index >> level) & 1;
    pathElements.push(String(sibling));
    pathIndices.push(String(isRight));
    node = isRight ? await poseidonHash([sibling, node]) : await poseidonHash([node, sibling]);
  }
  return {
    secret: String(secret),
    pathElements,
    pathIndices,
    root: String(node),
    externalNullifier: String(fieldFromSeed(seed, "externalNullifier")),
  };
}

export async function eddsaSignatureInputs(seed: string | number): Promise<Inputs> {
  eddsaPromise ??= buildEddsa();
  const eddsa = await eddsaPromise;
  const F = eddsa.babyJub.F;
  const privateKey = createHash("sha256").update(`${seed}:eddsa-key`).digest();
  const publicKey = eddsa.prv2pub(privateKey);
  const message = F.e(fieldFromSeed(seed, "message"));
  const signature = eddsa.signPoseidon(privateKey, message);
  return {
    publicKeyX: F.toObject(publicKey[0]).toString(),
    publicKeyY: F.toObject(publicKey[1]).toString(),
    message: F.toObject(message).toString(),
    signatureS: signature.S.toString(),
    signatureR8x: F.toObject(signature.R8[0]).toString(),
    signatureR8y: F.toObject(signature.R8[1]).toString(),
  };
}

/** The chain's inputs need no hashing: the circuit computes the digest as its output. */
export async function poseidonChainInputs(seed: string | number): Promise<Inputs> {
  return { secret: String(fieldFromSeed(seed, "secret")), seed: String(fieldFromSeed(seed, "seed")) };
}

export function exampleInputs(circuit: ExampleCircuit, seed: string | number): Promise<Inputs> {
  if (circuit === "poseidon_preimage") return poseidonPreimageInputs(seed);
  if (circuit === "merkle_membership") return merkleMembershipInputs(seed);
  if (circuit === "poseidon_chain") return poseidonChainInputs(seed);
  return eddsaSignatureInputs(seed);
}
