/**
 * snarkjs keeps its BN254 curve, and the worker threads behind it, in a global once it has proved or verified in
 * process; a process that is done with it calls this so that it can exit (the gas benchmark at its end, the tests
 * after their last one: test/helpers/releaseSnarkjs.ts).
 */
export async function releaseSnarkjs(): Promise<void> {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
}
