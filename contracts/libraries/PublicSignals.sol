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

    /// @notice Whether each signal is a field element (no aliases `s + r` of a committed `s`) and the signals after
    ///         the first `nOutputs` (the public inputs) hash to `commitment`, keccak256(abi.encodePacked(inputs)).
    ///         Requires `publicSignals.length >= nOutputs`: the caller has checked their count.
    function valid(
        uint256 nOutputs,
        bytes32 commitment,
        uint256[] calldata publicSignals
    ) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let end := add(publicSignals.offset, shl(5, publicSignals.length))
            ok := 1
            for {
                let p := publicSignals.offset
            } lt(p, end) {
                p := add(p, 32)
            } {
                ok := and(ok, lt(calldataload(p), SNARK_SCALAR_FIELD))
            }
            // The inputs hashed in scratch memory past the free-memory pointer (not allocated: nothing else uses it
            // before the hash is taken).
            let m := mload(0x40)
            let inputs := add(publicSignals.offset, shl(5, nOutputs))
            calldatacopy(m, inputs, sub(end, inputs))
            ok := and(ok, eq(keccak256(m, sub(end, inputs)), commitment))
        }
    }

    /// @notice `valid`, reverting with what is wrong: the first signal out of the field (`SignalNotInField`) or
    ///         inputs that are not the committed ones (`PublicInputsMismatch`).
    function check(JobId jobId, uint256 nOutputs, bytes32 commitment, uint256[] calldata publicSignals) internal pure {
        for (uint256 i; i < publicSignals.length; ++i) {
            if (publicSignals[i] >= SNARK_SCALAR_FIELD) revert IProofMarketErrors.SignalNotInField(jobId, i);
        }
        bytes32 given = keccak256(abi.encodePacked(publicSignals[nOutputs:]));
        if (given != commitment) revert IProofMarketErrors.PublicInputsMismatch(jobId, commitment, given);
    }
}
