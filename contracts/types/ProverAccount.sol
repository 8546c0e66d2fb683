// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A prover's stake. Free stake (what a claim can lock, what can be unstaked) is `staked - locked`;
///         the first slot is all a claim reads. Stake being unbonded is held apart until its delay has passed.
struct ProverAccount {
    /// Bonded stake, including `locked`. Slashes come out of it.
    uint96 staked;
    /// Sum of the bonds of the jobs this prover currently holds.
    uint96 locked;
    /// When `unbonding` may be withdrawn.
    uint40 unbondingReadyAt;
    /// Stake on its way out: no longer claimable, withdrawable at `unbondingReadyAt`.
    uint96 unbonding;
}

using ProverAccountLibrary for ProverAccount global;

library ProverAccountLibrary {
    function free(ProverAccount memory account) internal pure returns (uint96) {
        return account.staked - account.locked;
    }
}
