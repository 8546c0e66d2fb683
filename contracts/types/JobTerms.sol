// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CircuitId} from "./JobId.sol";

/// @notice What a requester asked for and pays. Only `keccak256(abi.encode(terms, verifierCodeHash))` is stored (one slot per job
///         instead of four); callers pass the terms back in calldata and the market checks them against the hash.
///         Every field comes from the `JobPosted` event; `fee` changes only by reward escalation, reported in
///         `JobReassigned` / `JobAbandoned` as `newFee`.
struct JobTerms {
    /// Who posted the job, receives refunds and the requester share of slashes.
    address requester;
    /// The circuit whose statement is to be proven.
    CircuitId circuitId;
    /// After this time (unix seconds) the job can no longer be claimed or proven; `expire` refunds it.
    uint40 expiresAt;
    /// Seconds an assignee has from its claim to submit (the deadline never passes `expiresAt`).
    uint32 provingWindow;
    /// Reward paid to the prover whose proof verifies; escrowed by the market. Grows with slashed bonds.
    uint96 fee;
    /// Stake that a claim locks and that a missed deadline forfeits.
    uint96 bond;
    /// keccak256(abi.encodePacked(uint256[] publicInputs)): the public inputs the proof must be about.
    bytes32 inputsCommitment;
}

using JobTermsLibrary for JobTerms global;

library JobTermsLibrary {
    /// @notice The storage commitment to a job's terms and to the code of its circuit's verifier at registration.
    ///         Binding the code hash here lets `claim` and `submitProof` check the verifier's current code against
    ///         the registered one without a storage read: a changed code gives a different commitment.
    function hash(JobTerms memory terms, bytes32 verifierCodeHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(terms, verifierCodeHash));
    }

    /// @notice The claim deadline for a claim made at `claimedAt`: the proving window, never past expiry.
    function deadlineFrom(JobTerms memory terms, uint256 claimedAt) internal pure returns (uint40) {
        uint256 windowEnd = claimedAt + terms.provingWindow;
        return uint40(windowEnd < terms.expiresAt ? windowEnd : terms.expiresAt);
    }

    function isExpired(JobTerms memory terms, uint256 timestamp) internal pure returns (bool) {
        return timestamp > terms.expiresAt;
    }
}
