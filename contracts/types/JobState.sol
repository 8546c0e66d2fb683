// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

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
    /// 0 for the first claim; + 1 each time the job returns to Open by reassignment or abandonment.
    uint16 attempt;
    /// While Claimed: the second the claim was made. It locks the price (the ramp's price at that second) and starts
    /// the proving window.
    uint40 claimedAt;
    /// While Claimed: the only address that may submit; after Proved: the prover that was paid.
    address assignee;
    /// While Claimed: the id of the slash terms in force at the claim (`ProofMarket.slashTerms`), which decide
    /// what missing the deadline or abandoning costs.
    uint24 slashTermsId;
}

using JobStateLibrary for JobState global;

library JobStateLibrary {
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
