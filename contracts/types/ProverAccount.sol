// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A prover's stake and earnings. Free stake (what a claim can lock, what can be unstaked) is
///         `staked - locked`. The first slot holds what a submission changes (the bond released, the fee earned), so
///         a proof costs one account write; a claim reads both slots. Stake being unbonded is held apart until its
///         delay has passed.
struct ProverAccount {
    /// Sum of the bonds of the jobs this prover currently holds.
    uint96 locked;
    /// Fees earned by accepted proofs and not yet withdrawn; `withdraw` pays them with the rest of `withdrawable`.
    uint96 earned;
    /// When `unbonding` may be withdrawn.
    uint40 unbondingReadyAt;
    /// Set by the first stake and never cleared: it keeps this slot non-empty after every withdrawal, so that a
    /// claim or a proof always rewrites a used slot (2,900 gas) rather than filling an empty one (20,000).
    bool hasStaked;
    /// Bonded stake, including `locked`. Slashes come out of it.
    uint96 staked;
    /// Stake on its way out: no longer claimable, withdrawable at `unbondingReadyAt`.
    uint96 unbonding;
}

using ProverAccountLibrary for ProverAccount global;

library ProverAccountLibrary {
    function free(ProverAccount memory account) internal pure returns (uint96) {
        return account.staked - account.locked;
    }
}
