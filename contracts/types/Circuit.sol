// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The proof systems whose snarkjs-exported verifiers the market can call.
enum ProofSystem {
    Groth16,
    Plonk,
    Fflonk
}

/// @notice A registered circuit. The first slot holds everything `submitProof` reads besides the verifier code hash
///         (which each job's commitment binds, see `JobTerms.hash`); `postJob` reads only `verifierCodeHash`.
struct Circuit {
    /// snarkjs-exported verifier contract (`verifyProof(...)`), called with staticcall.
    address verifier;
    ProofSystem system;
    /// Public signals are `nPublicOutputs` outputs followed by `nPublicInputs` inputs (circom's order).
    uint16 nPublicOutputs;
    uint16 nPublicInputs;
    /// Selector of the verifier's `verifyProof`, whose signature depends on the number of public signals.
    bytes4 verifySelector;
    /// Optional `IGroth16BatchVerifier` for the same verification key (Groth16 only); zero if none.
    address batchVerifier;
    /// EXTCODEHASH of `verifier` and `batchVerifier` at registration. Code can still change under an address (an
    /// EIP-7702 delegation re-pointed, say), so claims and submissions check the code is still this code.
    bytes32 verifierCodeHash;
    bytes32 batchVerifierCodeHash;
    /// Who registered it (informational: nobody administers a circuit).
    address registrant;
    /// sha256 of the circuit's manifest (circuits/artifacts/<name>/manifest.json), which hashes every artifact.
    bytes32 manifestHash;
    string name;
    /// Where the manifest and artifacts (wasm, zkey, vkey) can be fetched.
    string artifactsURI;
}

/// @notice What a registrant supplies.
struct CircuitRegistration {
    string name;
    address verifier;
    ProofSystem system;
    uint16 nPublicOutputs;
    uint16 nPublicInputs;
    address batchVerifier;
    bytes32 manifestHash;
    string artifactsURI;
}

using CircuitLibrary for Circuit global;

library CircuitLibrary {
    function nPublicSignals(Circuit memory circuit) internal pure returns (uint256) {
        return uint256(circuit.nPublicOutputs) + circuit.nPublicInputs;
    }
}
