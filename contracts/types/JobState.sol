// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {JobId} from "./JobId.sol";

/// @notice Where a job is in its lifecycle (DESIGN.md, "Job lifecycle").
enum JobStatus {
    /// No job with this id.
    None,
    /// Waiting for a prover; claimable until `expiresAt`.
    Open,
    /// An assignee holds it, with its bond locked and its price locked, until its deadline.
    Claimed,
    /// A verified proof was accepted: the locked price credited to the prover, the rest of the escrow to the
    /// requester. Final.
    Proved,
    /// The requester withdrew it before any claim; escrow (`maxFee`) refunded. Final.
    Cancelled,
    /// Passed `expiresAt` unproven; escrow (`maxFee`) refunded. Final.
    Expired
}

/// @notice The mutable part of a job, packed into one storage slot (8 + 16 + 40 + 160 + 24 = 248 bits).
/// @dev The claim's second is kept rather than its deadline: with the job's terms it gives both the deadline
///      (`JobTerms.deadlineFrom`) and the locked price (`JobTerms.priceAt`), so locking the price costs no storage.
struct JobState {
    JobStatus status;
    /// 0 for the first claim; + 1 each time the job returns to Open by reassignment or abandonment (zero again after
    /// Proved, as every field but the status).
    uint16 attempt;
    /// While Claimed: the second the claim was made. It locks the price (the ramp's price at that second) and starts
    /// the proving window.
    uint40 claimedAt;
    /// While Claimed: the only address that may submit. Zero after Proved (a proof clears the slot; `JobProved`
    /// names the prover).
    address assignee;
    /// While Claimed: the id of the slash terms in force at the claim (`ProofMarket.slashTerms`), which decide
    /// what missing the deadline or abandoning costs.
    uint24 slashTermsId;
}

using JobStateLibrary for JobState global;

/// @dev The hot path of a proof reads the state slot as one word and takes out only the fields it needs (`raw*`), at the offsets where Solidity packs `JobState`: from the low-order end, in declaration order
///      (status 0-7, attempt 8-23, claimedAt 24-63, assignee 64-223, slashTermsId 224-247). Every proof test relies
///      on them: a wrong offset refuses each proof or names the wrong prover or attempt in `JobProved`, and
///      ProofMarket.submit.test.ts compares the slot's word with test/contracts/helpers/storage.ts's packing.
library JobStateLibrary {
    function rawStatus(uint256 raw) internal pure returns (JobStatus) {
        return JobStatus(uint8(raw));
    }

    /// @dev As a masked word: it goes to a log as one.
    function rawAttempt(uint256 raw) internal pure returns (uint256) {
        return (raw >> 8) & type(uint16).max;
    }

    function rawClaimedAt(uint256 raw) internal pure returns (uint40) {
        return uint40(raw >> 24);
    }

    function rawAssignee(uint256 raw) internal pure returns (address) {
        return address(uint160(raw >> 64));
    }

    /// @notice Back to Open for the next prover, one attempt later.
    function reopened(JobState memory state) internal pure returns (JobState memory) {
        return
            JobState({
                status: JobStatus.Open,
                attempt: state.attempt + 1,
                claimedAt: 0,
                assignee: address(0),
                slashTermsId: 0
            });
    }
}

