// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProofMarketErrors} from "../interfaces/IProofMarketErrors.sol";
import {JobId} from "../types/JobId.sol";

/// @notice Binds a submission's public signals to its job (DESIGN.md rule 4). circom lists public outputs first,
///         then public inputs; the job committed to the inputs as keccak256(abi.encodePacked(inputs)).
library PublicSignals {
    /// @notice Order of BN254's scalar field: public signals are elements of it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice Reverts unless there are exactly `nOutputs + nInputs` signals, each a field element (no aliases
    ///         `s + r` of a committed `s`), and the input part hashes to `commitment`.
    function check(
        JobId jobId,
        uint256 nOutputs,
        uint256 nInputs,
        bytes32 commitment,
        uint256[] calldata publicSignals
    ) internal pure {
        if (publicSignals.length != nOutputs + nInputs) {
            revert IProofMarketErrors.PublicSignalCount(jobId, publicSignals.length, nOutputs + nInputs);
        }
        for (uint256 i; i < publicSignals.length; ++i) {
            if (publicSignals[i] >= SNARK_SCALAR_FIELD) revert IProofMarketErrors.SignalNotInField(jobId, i);
        }
        // keccak256(abi.encodePacked(publicSignals[nOutputs:])), hashed in scratch memory past the free-memory pointer
        // (not allocated: nothing else uses it before the hash is taken).
        bytes32 given;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let inputsBytes := mul(nInputs, 32)
            calldatacopy(m, add(publicSignals.offset, mul(nOutputs, 32)), inputsBytes)
            given := keccak256(m, inputsBytes)
        }
        if (given != commitment) revert IProofMarketErrors.PublicInputsMismatch(jobId, commitment, given);
    }
}
