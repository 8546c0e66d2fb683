// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Verifies several Groth16 proofs of one verification key with a single pairing product.
/// @dev Proofs are concatenated, 256 bytes each: abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c) in snarkjs'
///      Solidity call-data order. Public signals are concatenated too, `nPublic()` per proof, in the same order.
interface IGroth16BatchVerifier {
    /// @return true when every proof verifies; false when any does not, a length is off, or a value is out of range
    function verifyBatch(bytes calldata proofs, uint256[] calldata publicSignals) external view returns (bool);

    /// @notice Verifies one proof (the batch check with N = 1).
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool);

    /// @notice Number of public signals of the verification key.
    function nPublic() external view returns (uint256);
}
