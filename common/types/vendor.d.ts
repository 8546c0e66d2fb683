// snarkjs and circomlibjs ship no type declarations; their use here is wrapped in typed functions
// (common/proofs, common/circuits/exampleInputs.ts).
declare module "snarkjs";
declare module "circomlibjs";
