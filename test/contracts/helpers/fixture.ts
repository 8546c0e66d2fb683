/**
 * The contract tests' fixture: the market in Hardhat's in-process network (dev/marketFixture.ts, which the gas
 * benchmark shares), with snarkjs released after the tests that proved with it.
 */
import "../../helpers/releaseSnarkjs.ts";

export * from "../../../dev/marketFixture.ts";
