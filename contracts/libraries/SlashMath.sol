// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SlashSplit, SlashTerms} from "../types/MarketParams.sol";

/// @notice How a slashed amount is divided, in basis points of the amount. Rounding leftovers go to the requester,
///         so the shares always add up to exactly the amount slashed.
library SlashMath {
    uint256 internal constant BPS = 10_000;

    /// @param terms the slash terms of the claim being slashed
    /// @param amount tokens taken from the prover's stake
    /// @param withKeeper whether a keeper (the caller of `reassign` / `expire`) takes its share
    /// @param rewardToRequester whether the reward share goes to the requester (at expiry: no next prover)
    function split(
        SlashTerms memory terms,
        uint96 amount,
        bool withKeeper,
        bool rewardToRequester
    ) internal pure returns (SlashSplit memory s) {
        s.slashed = amount;
        s.keeperShare = withKeeper ? uint96((uint256(amount) * terms.keeperShareBps) / BPS) : 0;
        s.rewardShare = rewardToRequester ? 0 : uint96((uint256(amount) * terms.rewardShareBps) / BPS);
        s.treasuryShare = uint96((uint256(amount) * terms.treasuryShareBps) / BPS);
        s.requesterShare = amount - s.keeperShare - s.rewardShare - s.treasuryShare;
    }

    function bps(uint96 amount, uint16 basisPoints) internal pure returns (uint96) {
        return uint96((uint256(amount) * basisPoints) / BPS);
    }
}
