/**
 * The market's proof encoding: the words of a snarkjs-exported verifier's proof argument, concatenated
 * (contracts/libraries/SnarkjsVerifierCall.sol). Produced with snarkjs' own Solidity call-data exporters so that
 * coordinate order (Groth16's swapped G2 limbs, PLONK/FFLONK's field order) is never re-derived here.
 */
import { AbiCoder } from "ethers";
import * as snarkjs from "snarkjs";
import type { ProofSystem } from "../circuits/manifest.ts";

/** A proof as snarkjs returns it (`groth16.fullProve`, `plonk.fullProve`, ...). */
export type SnarkjsProof = Record<string, unknown>;

export interface EncodedProof {
  /** 0x-prefixed bytes: 8 words for Groth16, 24 for PLONK and FFLONK. */
  proof: string;
  publicSignals: bigint[];
}

async function callData(system: ProofSystem, proof: SnarkjsProof, publicSignals: string[]): Promise<string> {
  if (system === "groth16") return snarkjs.groth16.exportSolidityCallData(proof, publicSignals);
  if (system === "plonk") return snarkjs.plonk.exportSolidityCallData(proof, publicSignals);
  return snarkjs.fflonk.exportSolidityCallData(publicSignals, proof); // fflonk takes (signals, proof)
}

export async function encodeProof(
  system: ProofSystem,
  proof: SnarkjsProof,
  publicSignals: string[],
): Promise<EncodedProof> {
  // The exporters differ in punctuation: PLONK puts no comma between its two arrays ("[..][..]"), FFLONK leaves
  // its hex numbers unquoted. Normalise both into JSON.
  const text = (await callData(system, proof, publicSignals))
    .replace(/\]\s*\[/g, "],[")
    .replace(/"/g, "")
    .replace(/0x[0-9a-fA-F]+/g, '"$&"');
  const parsed = JSON.parse(`[${text}]`) as unknown[];
  const signals = parsed.at(-1) as string[];
  const words = (parsed.slice(0, -1) as unknown[]).flat(2) as string[];
  const expected = system === "groth16" ? 8 : 24;
  if (words.length !== expected) throw new Error(`${system} proof has ${words.length} words, expected ${expected}`);
  return {
    proof: AbiCoder.defaultAbiCoder().encode(
      words.map(() => "uint256"),
      words,
    ),
    publicSignals: signals.map((s) => BigInt(s)),
  };
}
