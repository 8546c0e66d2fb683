/**
 * Database rows for tests and benchmarks that write the coordinator's tables directly (no chain): a circuit, and a
 * job with placeholder values for the fields they do not look at.
 */
export function testCircuit(id: number, name: string) {
  return {
    id,
    name,
    verifier: "0xv",
    system: "groth16",
    nPublicOutputs: 0,
    nPublicInputs: 2,
    registrant: "0xr",
    manifestHash: "0xm",
    artifactsURI: "x",
    registeredAtBlock: 1,
  };
}

export function testJob(fields: {
  id: string;
  circuitId: number;
  requester: string;
  status: string;
  fee: string;
  assignee: string | null;
  postedAtBlock: number;
  postedAt: number;
  provedAt?: number | null;
}) {
  return {
    bond: "10",
    provingWindow: 60,
    expiresAt: 10_000,
    inputsCommitment: "0xc",
    inputsHash: "0xh",
    inputsURI: "u",
    ...fields,
  };
}
