/**
 * A test file that proves in process imports this module, so that snarkjs is released (dev/releaseSnarkjs.ts)
 * after its tests and the test process can exit.
 */
import { releaseSnarkjs } from "../../dev/releaseSnarkjs.ts";

after(releaseSnarkjs);
