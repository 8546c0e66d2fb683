// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CircuitId} from "./JobId.sol";

/// @notice What a requester asked for and pays. Only `keccak256(abi.encode(terms, verifierCodeHash))` is stored (one slot per job
///         instead of several); callers pass the terms back in calldata and the market checks them against the hash.
///         Every field comes from the `JobPosted` event; `minFee` and `maxFee` change only by reward escalation,
///         reported in `JobReassigned` / `JobAbandoned` as `newMinFee` / `newMaxFee`.
/// @dev The job is sold by reverse Dutch auction: its price rises from `minFee` at `rampStart` to `maxFee` at
///      `rampStart + rampDuration`, every second, and a claim locks the price of its second (`priceAt`). The
///      market escrows `maxFee`; what the prover is not paid returns to the requester when the job ends. A fixed
///      fee is `minFee == maxFee`.
struct JobTerms {
    /// Who posted the job, receives refunds and the requester share of slashes.
    address requester;
    /// The circuit whose statement is to be proven.
    CircuitId circuitId;
    /// After this time (unix seconds) the job can no longer be claimed or proven; `expire` refunds it.
    uint40 expiresAt;
    /// Seconds an assignee has from its claim to submit (the deadline never passes `expiresAt`).
    uint32 provingWindow;
    /// The price at and before `rampStart`. Grows, with `maxFee`, by the reward share of each slash.
    uint96 minFee;
    /// The price from the ramp's end on, and what the market holds in escrow for the job.
    uint96 maxFee;
    /// When the price starts to rise (unix seconds).
    uint40 rampStart;
    /// Seconds the price takes to rise from `minFee` to `maxFee` (0: `minFee` up to `rampStart`, `maxFee` from the
    /// second after).
    uint32 rampDuration;
    /// Stake that a claim locks and that a missed deadline forfeits.
    uint96 bond;
    /// keccak256(abi.encodePacked(uint256[] publicInputs)): the public inputs the proof must be about.
    bytes32 inputsCommitment;
}

using JobTermsLibrary for JobTerms global;

/// @dev The pure helpers read the terms where they lie, in calldata: a copy to memory would cost a few hundred gas a
///      call on the hot path.
library JobTermsLibrary {
    /// @notice The storage commitment to a job's terms and to the code of its circuit's verifier at registration.
    ///         Binding the code hash here lets `claim` and `submitProof` check the verifier's current code against
    ///         the registered one without a storage read: a changed code gives a different commitment.
    function hash(JobTerms memory terms, bytes32 verifierCodeHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(terms, verifierCodeHash));
    }

    /// @notice `hash` of terms that lie in calldata, without copying them to memory field by field: a static struct's
    ///         calldata is its ABI encoding, so hashing the bytes as they are gives `hash` of canonically encoded
    ///         terms. Terms encoded otherwise (dirty high bits) hash to something else and are refused as a mismatch.
    function hashCalldata(JobTerms calldata terms, bytes32 verifierCodeHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, terms, 320) // the 10 fields, one word each
            mstore(add(m, 320), verifierCodeHash)
            h := keccak256(m, 352)
        }
    }

    /// @notice The job's price at `timestamp`: `minFee` until `rampStart`, then rising linearly (rounded down) to
    ///         `maxFee`, which it keeps from `rampStart + rampDuration` on. It never falls, so the price offered
    ///         after a reassignment, max(the price locked by the failed claim, the ramp's price now), is the ramp's
    ///         price now.
    function priceAt(JobTerms calldata terms, uint256 timestamp) internal pure returns (uint96) {
        if (timestamp <= terms.rampStart) return terms.minFee;
        uint256 elapsed = timestamp - terms.rampStart;
        if (elapsed >= terms.rampDuration) return terms.maxFee;
        // (maxFee - minFee) * elapsed < 2^96 * 2^32: no overflow; the result lies in [minFee, maxFee).
        return terms.minFee + uint96((uint256(terms.maxFee - terms.minFee) * elapsed) / terms.rampDuration);
    }

    /// @notice The claim deadline for a claim made at `claimedAt`: the proving window, never past expiry.
    function deadlineFrom(JobTerms calldata terms, uint256 claimedAt) internal pure returns (uint40) {
        uint256 windowEnd = claimedAt + terms.provingWindow;
        return uint40(windowEnd < terms.expiresAt ? windowEnd : terms.expiresAt);
    }

    function isExpired(JobTerms calldata terms, uint256 timestamp) internal pure returns (bool) {
        return timestamp > terms.expiresAt;
    }
}
