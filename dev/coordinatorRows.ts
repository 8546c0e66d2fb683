/**
 * Database rows for tests and benchmarks that write the coordinator's tables directly (no chain): a circuit, and a
 * job with placeholder values (hex where the API's type is Bytes) for the fields they do not look at.
 */
export function testCircuit(id: number, name: string) {
  return {
    id,
    name,
    verifier: "0x0a",
    system: "groth16",
    nPublicOutputs: 0,
    nPublicInputs: 2,
    registrant: "0x0b",
    manifestHash: "0x0c",
    artifactsURI: "x",
    registeredAtBlock: 1,
  };
}

/**
 * A job row. Its price is fixed at `maxFee` unless a ramp is given (`minFee`, `rampStart`: its posting by default,
 * `rampDuration`), and a Claimed or Proved job locked `maxFee` unless `lockedPrice` says otherwise, as the indexer
 * would have written it.
 */
export function testJob(fields: {
  id: string;
  circuitId: number;
  requester: string;
  status: string;
  maxFee: string;
  minFee?: string;
  rampStart?: number;
  rampDuration?: number;
  lockedPrice?: string | null;
  assignee: string | null;
  postedAtBlock: number;
  postedAt: number;
  provedAt?: number | null;
}) {
  const locks = fields.status === "Claimed" || fields.status === "Proved";
  return {
    bond: "10",
    provingWindow: 60,
    expiresAt: 10_000,
    inputsCommitment: "0x0d",
    inputsHash: "0x0e",
    inputsURI: "u",
    ...fields,
    minFee: fields.minFee ?? fields.maxFee,
    rampStart: fields.rampStart ?? fields.postedAt,
    rampDuration: fields.rampDuration ?? 0,
    lockedPrice: fields.lockedPrice !== undefined ? fields.lockedPrice : locks ? fields.maxFee : null,
  };
}
