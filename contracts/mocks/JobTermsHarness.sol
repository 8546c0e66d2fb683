// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {JobTerms} from "../types/JobTerms.sol";

/// @notice Test-only: `JobTermsLibrary`'s functions made callable, so that the off-chain mirror of the price ramp
///         (common/market/price.ts) and of the terms commitment is checked against the market's own code rather than
///         against a copy of it (test/contracts/CommonMirrors.test.ts). The terms arrive in calldata and are
///         loaded into memory as the market loads them.
contract JobTermsHarness {
    function priceAt(JobTerms calldata terms, uint256 timestamp) external pure returns (uint96) {
        return terms.load().priceAt(timestamp);
    }

    function deadlineFrom(JobTerms calldata terms, uint256 claimedAt) external pure returns (uint40) {
        return terms.load().deadlineFrom(claimedAt);
    }

    /// The path of a caller's terms: copied from calldata word for word (`load`), then hashed.
    function hashLoaded(JobTerms calldata terms, bytes32 verifierCodeHash) external pure returns (bytes32) {
        return terms.load().hash(verifierCodeHash);
    }

    /// The path of terms the market builds (posting, reopening): decoded field by field into memory, then hashed.
    function hash(JobTerms calldata terms, bytes32 verifierCodeHash) external pure returns (bytes32) {
        JobTerms memory copy = terms;
        return copy.hash(verifierCodeHash);
    }
}
