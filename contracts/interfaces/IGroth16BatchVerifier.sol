// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Verifies several Groth16 proofs of one verification key with a single pairing product.
interface IGroth16BatchVerifier {
    /// @param proofs each `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)` (snarkjs' Solidity calldata order)
    /// @param publicSignals each proof's public signals, all of the verification key's length
    /// @return true when every proof verifies; false when any does not (or any signal is out of the field)
    function verifyBatch(bytes[] calldata proofs, uint256[][] calldata publicSignals) external view returns (bool);

    /// @notice Verifies one proof (same encoding as `verifyBatch`).
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool);

    /// @notice Number of public signals of the verification key.
    function nPublic() external view returns (uint256);
}
