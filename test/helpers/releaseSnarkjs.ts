/**
 * snarkjs keeps its BN254 curve, and the worker threads behind it, in a global; a test file that proves in process
 * imports this module so that the test process can exit when the tests are done. (The gas benchmark imports the
 * contract fixture too, outside mocha: there is no `after` there.)
 */
export async function releaseSnarkjs(): Promise<void> {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
}

if (typeof after === "function") after(releaseSnarkjs);
