// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CircuitId} from "./JobId.sol";

/// @notice What a requester asked for and pays. Only `keccak256(abi.encode(terms, verifierCodeHash))` is stored (one slot per job
///         instead of several); callers pass the terms back in calldata and the market checks them against the hash.
///         Every field comes from the `JobPosted` event; `minFee`, `maxFee` and `rampStart` change only when the job
///         re-opens, reported in `JobReassigned` / `JobAbandoned` as `newMinFee` / `newMaxFee` / `newRampStart`.
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
    /// When the price starts to rise (unix seconds); a re-opening moves it later by the time the failed claim held the
    /// job (the ramp pauses while a claim holds it).
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

/// @dev The market loads a caller's terms into memory once (`load`, one copy of their ten words) and reads them there:
///      a calldata struct's fields are each validated on every read, which cost about a hundred gas a field read.
library JobTermsLibrary {
    /// @notice The terms as they lie in calldata, copied to memory word for word, unvalidated: use them only once their
    ///         `hash` has matched the stored commitment. Terms encoded otherwise than canonically (dirty high bits)
    ///         hash to something else and are refused as a mismatch, so a dirty word is never acted on.
    function load(JobTerms calldata terms) internal pure returns (JobTerms memory t) {
        assembly ("memory-safe") {
            t := mload(0x40)
            calldatacopy(t, terms, 320) // the 10 fields, one word each, as a memory struct lays them out
            mstore(0x40, add(t, 320))
        }
    }

    /// @notice `load` into terms already in memory (a batch reuses one copy for all its jobs).
    function loadInto(JobTerms calldata terms, JobTerms memory t) internal pure {
        assembly ("memory-safe") {
            calldatacopy(t, terms, 320)
        }
    }

    /// @notice The storage commitment to a job's terms and to the code of its circuit's verifier at registration,
    ///         keccak256(abi.encode(terms, verifierCodeHash)). Binding the code hash here lets `claim` and
    ///         `submitProof` check the verifier's current code against the registered one without a storage read:
    ///         a changed code gives a different commitment.
    /// @dev A memory struct of ten static fields is its ABI encoding (one word a field), so the words are hashed where
    ///      they lie, with the code hash placed after them for the hash and the word it covered put back: that word may
    ///      belong to another allocation, which sees it unchanged, as nothing runs between the write and the restore.
    function hash(JobTerms memory terms, bytes32 verifierCodeHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let end := add(terms, 320)
            let covered := mload(end)
            mstore(end, verifierCodeHash)
            h := keccak256(terms, 352)
            mstore(end, covered)
        }
    }

    /// @notice The job's price at `timestamp`: `minFee` until `rampStart`, then rising linearly (rounded down) to
    ///         `maxFee`, which it keeps from `rampStart + rampDuration` on. It never falls. A re-opening pauses the
    ///         ramp for the time the failed claim held the job, so the job is then offered at the price that claim
    ///         locked plus the reward share.
    function priceAt(JobTerms memory terms, uint256 timestamp) internal pure returns (uint96) {
        if (timestamp <= terms.rampStart) return terms.minFee;
        uint256 elapsed = timestamp - terms.rampStart;
        if (elapsed >= terms.rampDuration) return terms.maxFee;
        // (maxFee - minFee) * elapsed < 2^96 * 2^32: no overflow; the result lies in [minFee, maxFee).
        return terms.minFee + uint96((uint256(terms.maxFee - terms.minFee) * elapsed) / terms.rampDuration);
    }

    /// @notice The claim deadline for a claim made at `claimedAt`: the proving window, never past expiry.
    function deadlineFrom(JobTerms memory terms, uint256 claimedAt) internal pure returns (uint40) {
        uint256 windowEnd;
        // A uint40 second plus a uint32 window: no overflow.
        unchecked {
            windowEnd = claimedAt + terms.provingWindow;
        }
        return uint40(windowEnd < terms.expiresAt ? windowEnd : terms.expiresAt);
    }

    function isExpired(JobTerms memory terms, uint256 timestamp) internal pure returns (bool) {
        return timestamp > terms.expiresAt;
    }
}
