// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Parameters the owner may change, each within a hard cap (`ProofMarket`'s MAX_* constants), packed with
///         the pause flag into one slot so that `postJob` and `claim` read a single word.
struct MarketParams {
    /// Share of a slashed bond paid to whoever calls `reassign` / `expire` on a stalled claim.
    uint16 keeperShareBps;
    /// Share of a slashed bond added to the job's fee, so the next prover is paid more for a shorter window.
    uint16 rewardShareBps;
    /// Share of a slashed bond credited to the treasury. The rest goes to the requester.
    uint16 treasuryShareBps;
    /// Fraction of the bond slashed when an assignee abandons before its deadline (less than a full slash).
    uint16 abandonSlashBps;
    /// Bounds on a job's proving window. `maxProvingWindow` stays below the unbonding delay.
    uint32 minProvingWindow;
    uint32 maxProvingWindow;
    /// Smallest bond a job may ask for, so that missing a deadline always costs something.
    uint96 minBond;
    /// When set, `postJob` and `claim` revert; nothing else (submit, refunds, unstaking) is ever paused.
    bool paused;
}

/// @notice `MarketParams` as the market stores them, in one slot with the id of the slash terms now in force and the
///         number of jobs posted: `claim` learns the slash terms from the word it reads for the pause flag, and
///         `postJob` numbers its job from it, without a slot of its own to read. The windows fit 24 bits (the
///         longest is below the unbonding delay, at most 60 days) and `minBond` is capped to 80 bits.
struct StoredMarketParams {
    uint16 keeperShareBps;
    uint16 rewardShareBps;
    uint16 treasuryShareBps;
    uint16 abandonSlashBps;
    uint24 minProvingWindow;
    uint24 maxProvingWindow;
    uint80 minBond;
    bool paused;
    uint16 slashTermsId;
    /// Jobs posted; ids run from 1 to this.
    uint40 jobCount;
}

/// @notice What a claim can cost its prover, and where the treasury's share of it goes: the terms in force when the
///         claim was made, which a later `setParams` or `setTreasury` cannot change (each change is stored under a
///         new id and claims keep the id they were made under). One slot.
struct SlashTerms {
    uint16 keeperShareBps;
    uint16 rewardShareBps;
    uint16 treasuryShareBps;
    uint16 abandonSlashBps;
    address treasury;
}

/// @notice How a slashed bond was divided. `slashed` = the sum of the four shares.
struct SlashSplit {
    uint96 slashed;
    uint96 keeperShare;
    uint96 rewardShare;
    uint96 treasuryShare;
    uint96 requesterShare;
}
