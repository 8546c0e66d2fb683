// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IProofMarketErrors} from "../interfaces/IProofMarketErrors.sol";
import {ProofSystem} from "../types/Circuit.sol";

/// @notice Adapters from the market's uniform `(bytes proof, uint256[] publicSignals)` to the `verifyProof`
///         functions of snarkjs-exported verifiers:
///           Groth16  verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[N] signals)  proof: 8 words
///           PLONK    verifyProof(uint256[24] proof, uint256[N] signals)                          proof: 24 words
///           FFLONK   verifyProof(bytes32[24] proof, uint256[N] signals)                          proof: 24 words
///         All arguments are static, so the calldata is the selector followed by the proof words and the signals;
///         the proof bytes are exactly those words (`common/proofs/encoding.ts` produces them from snarkjs JSON).
library SnarkjsVerifierCall {
    function proofLength(ProofSystem system) internal pure returns (uint256) {
        return system == ProofSystem.Groth16 ? 8 * 32 : 24 * 32;
    }

    /// @notice The verifier's selector, which depends on the number of public signals (computed once, at
    ///         registration).
    function selector(ProofSystem system, uint256 nPublic) internal pure returns (bytes4) {
        string memory signals = string.concat("uint256[", Strings.toString(nPublic), "])");
        if (system == ProofSystem.Groth16) {
            return bytes4(keccak256(bytes(string.concat("verifyProof(uint256[2],uint256[2][2],uint256[2],", signals))));
        }
        if (system == ProofSystem.Plonk) {
            return bytes4(keccak256(bytes(string.concat("verifyProof(uint256[24],", signals))));
        }
        return bytes4(keccak256(bytes(string.concat("verifyProof(bytes32[24],", signals))));
    }

    /// @notice Calls the verifier with staticcall; true only if it returned a word equal to 1.
    ///         Only the first return word is copied, so a hostile verifier cannot bloat memory.
    function verify(
        address verifier,
        bytes4 verifySelector,
        ProofSystem system,
        bytes calldata proof,
        uint256[] calldata publicSignals
    ) internal view returns (bool ok) {
        uint256 expected = proofLength(system);
        if (proof.length != expected) revert IProofMarketErrors.ProofLength(proof.length, expected);
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, verifySelector)
            calldatacopy(add(ptr, 4), proof.offset, proof.length)
            let signalsBytes := mul(publicSignals.length, 32)
            calldatacopy(add(add(ptr, 4), proof.length), publicSignals.offset, signalsBytes)
            let success := staticcall(gas(), verifier, ptr, add(add(4, proof.length), signalsBytes), 0, 0x20)
            ok := and(success, and(gt(returndatasize(), 31), eq(mload(0), 1)))
        }
    }
}
