/**
 * Gets a proved job's proof back from the chain: the market does not store proofs, but each is in the calldata of
 * the transaction that proved its job (submitProof, or its slice of a submitProofs batch). It is turned back into
 * snarkjs' JSON (proof.json, public.json), which `snarkjs <groth16|plonk|fflonk> verify` accepts.
 */
import { AbiCoder, type Provider } from "ethers";
import type { ProofMarket } from "../types/ethers-contracts/index.ts";
import { PROOF_SYSTEMS, type ProofSystem } from "../common/circuits/manifest.ts";

export interface ChainProof {
  jobId: bigint;
  circuitId: bigint;
  txHash: string;
  system: ProofSystem;
  /** The words of the proof as submitted. */
  words: bigint[];
  /** The job's public signals (outputs, then public inputs), as submitted. */
  publicSignals: bigint[];
}

const WORDS: Record<ProofSystem, number> = { groth16: 8, plonk: 24, fflonk: 24 };

/** The proof of `jobId` in `txHash`, the transaction that emitted the job's JobProved event. */
export async function proofFromChain(
  market: ProofMarket,
  provider: Provider,
  jobId: bigint,
  txHash: string,
): Promise<ChainProof> {
  const tx = await provider.getTransaction(txHash);
  const call = market.interface.parseTransaction({ data: tx!.data, value: tx!.value });
  if (call === null) throw new Error(`transaction ${txHash} is not a call to the market`);
  // One job or a batch: walk the batch's jobs, each taking its circuit's proof size and signal count.
  const ids: bigint[] = call.name === "submitProof" ? [call.args.jobId] : [...call.args.jobIds];
  const terms = call.name === "submitProof" ? [call.args.terms] : [...call.args.terms];
  const proofBytes: string = call.name === "submitProof" ? call.args.proof : call.args.proofs;
  const signals: bigint[] = [...(call.name === "submitProof" ? call.args.publicSignals : call.args.publicSignals)];
  let wordAt = 0;
  let signalAt = 0;
  for (let i = 0; i < ids.length; i++) {
    const circuit = await market.circuit(terms[i].circuitId);
    const system = PROOF_SYSTEMS[Number(circuit.system)];
    const nWords = WORDS[system];
    const nSignals = Number(circuit.nPublicOutputs) + Number(circuit.nPublicInputs);
    if (ids[i] === jobId) {
      const slice = "0x" + proofBytes.slice(2 + wordAt * 64, 2 + (wordAt + nWords) * 64);
      const words = AbiCoder.defaultAbiCoder()
        .decode(
          Array.from({ length: nWords }, () => "uint256"),
          slice,
        )
        .map((w: bigint) => w);
      return {
        jobId,
        circuitId: BigInt(terms[i].circuitId),
        txHash,
        system,
        words,
        publicSignals: signals.slice(signalAt, signalAt + nSignals),
      };
    }
    wordAt += nWords;
    signalAt += nSignals;
  }
  throw new Error(`transaction ${txHash} proved job ${jobId} but does not carry its proof`);
}

const point = (w: string[], at: number) => [w[at], w[at + 1], "1"];

/**
 * A proof as snarkjs writes it (proof.json, public.json), rebuilt from the words the market received. The word
 * order is that of snarkjs' Solidity call-data exporters (common/proofs/encoding.ts); Groth16's G2 point has its
 * two limbs swapped there, which snarkjs' JSON keeps in the other order.
 */
export function snarkjsJson(proof: Pick<ChainProof, "system" | "words" | "publicSignals">): {
  proof: Record<string, unknown>;
  publicSignals: string[];
} {
  const w = proof.words.map(String);
  const publicSignals = proof.publicSignals.map(String);
  if (proof.system === "groth16")
    return {
      proof: {
        pi_a: point(w, 0),
        pi_b: [
          [w[3], w[2]],
          [w[5], w[4]],
          ["1", "0"],
        ],
        pi_c: point(w, 6),
        protocol: "groth16",
        curve: "bn128",
      },
      publicSignals,
    };
  if (proof.system === "plonk") {
    const points = ["A", "B", "C", "Z", "T1", "T2", "T3", "Wxi", "Wxiw"];
    const evals = ["eval_a", "eval_b", "eval_c", "eval_s1", "eval_s2", "eval_zw"];
    return {
      proof: {
        ...Object.fromEntries(points.map((name, i) => [name, point(w, 2 * i)])),
        ...Object.fromEntries(evals.map((name, i) => [name, w[18 + i]])),
        protocol: "plonk",
        curve: "bn128",
      },
      publicSignals,
    };
  }
  const polynomials = ["C1", "C2", "W1", "W2"];
  const evaluations = ["ql", "qr", "qm", "qo", "qc", "s1", "s2", "s3", "a", "b", "c", "z", "zw", "t1w", "t2w", "inv"];
  return {
    proof: {
      polynomials: Object.fromEntries(polynomials.map((name, i) => [name, point(w, 2 * i)])),
      evaluations: Object.fromEntries(evaluations.map((name, i) => [name, w[8 + i]])),
      protocol: "fflonk",
      curve: "bn128",
    },
    publicSignals,
  };
}
