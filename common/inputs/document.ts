/**
 * A job's inputs document: a JSON object with one entry per input signal of the circuit (public and private),
 * scalars as decimal strings (or numbers), arrays nested as the signal's dimensions. The requester uploads it
 * (content-addressed: its sha256 goes on chain as `inputsHash`) and commits on chain to the public part.
 * Validation names what is wrong, so a requester can fix it and a prover can log why it skipped a job.
 */
import { createHash } from "node:crypto";
import type { CircuitManifest, InputSignal } from "../circuits/manifest.ts";
import { inputsCommitment } from "./commitment.ts";

export const SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export class InputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputsError";
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

function toField(value: unknown, where: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$/.test(value)) {
    const v = BigInt(value);
    if (v < SNARK_SCALAR_FIELD) return v;
    throw new InputsError(`${where}: ${value} is not below the BN254 scalar field order`);
  }
  throw new InputsError(
    `${where}: expected a non-negative integer (decimal or 0x-hex string), got ${JSON.stringify(value)}`,
  );
}

function flatten(value: unknown, dims: number[], where: string): bigint[] {
  if (dims.length === 0) return [toField(value, where)];
  if (!Array.isArray(value) || value.length !== dims[0]) {
    throw new InputsError(
      `${where}: expected an array of ${dims[0]} elements, got ${Array.isArray(value) ? value.length : typeof value}`,
    );
  }
  return value.flatMap((v, i) => flatten(v, dims.slice(1), `${where}[${i}]`));
}

export interface ParsedInputs {
  /** The document as snarkjs takes it (signal name -> value). */
  signals: Record<string, unknown>;
  /** Public inputs in circuit order, flattened. */
  publicInputs: bigint[];
  inputsCommitment: string;
}

/** Checks a document against the circuit's input signals: every signal present, no unknown names, shapes and field range. */
export function parseInputsDocument(manifest: CircuitManifest, document: unknown): ParsedInputs {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new InputsError("inputs must be a JSON object with one entry per input signal");
  }
  const doc = document as Record<string, unknown>;
  const known = new Set(manifest.inputs.map((s) => s.name));
  const unknown = Object.keys(doc).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new InputsError(
      `unknown input signal(s) ${unknown.join(", ")}; ${manifest.name} takes ${[...known].join(", ")}`,
    );
  }
  const publicInputs: bigint[] = [];
  for (const signal of manifest.inputs as InputSignal[]) {
    if (!(signal.name in doc)) throw new InputsError(`missing input signal ${signal.name} (${signal.visibility})`);
    const values = flatten(doc[signal.name], signal.dims, signal.name);
    if (signal.visibility === "public") publicInputs.push(...values);
  }
  return { signals: doc, publicInputs, inputsCommitment: inputsCommitment(publicInputs) };
}

/** A data: URI for an inputs document, so a job can carry its inputs inline. */
export function inputsDataURI(document: unknown): { uri: string; bytes: Uint8Array } {
  const json = JSON.stringify(document);
  return {
    uri: `data:application/json;base64,${Buffer.from(json).toString("base64")}`,
    bytes: new TextEncoder().encode(json),
  };
}
