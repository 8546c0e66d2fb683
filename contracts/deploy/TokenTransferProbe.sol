// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title TokenTransferProbe
/// @notice Deployment tooling, not part of the market: checks, before a market is deployed on an ERC-20, that the
///         token moves exactly the amount asked both ways the market moves it. The market's token is fixed at
///         construction and its accounting assumes `balanceOf(market)` changes by exactly what it books: inbound
///         pulls are checked at runtime, but a token that takes more from the sender on an outbound `transfer`
///         would pay each withdrawal partly out of other users' deposits, and the market would be insolvent after
///         one payout. The Ignition modules (ignition/modules/tokenCheckFutures.ts) run `check` and deploy the
///         market only after it succeeds.
/// @dev The probe holds nothing between calls: `check` pulls the amount from its caller and sends all of it back
///      in the same transaction, so checking costs only gas. A fee that rounds to zero on the probed amount is
///      invisible to it: the amount should be well above 100 base units (10_000 catches any fee of 0.01% or more).
contract TokenTransferProbe {
    using SafeERC20 for IERC20;

    /// @notice Named in TokenMovesWrongAmount: how the market pulls deposits (stake, postJob).
    string public constant INBOUND = "in: transferFrom(deployer -> probe)";
    /// @notice Named in TokenMovesWrongAmount: how the market pays out (withdraw, completeUnstake).
    string public constant OUTBOUND = "out: transfer(probe -> deployer)";

    /// @notice The amount is too small for both outbound transfers to move something.
    error ProbeAmountTooSmall(uint256 amount, uint256 minimum);

    /// @notice The caller holds less of the token than the check moves. `remedy` says what to do, in words, because
    ///         this error is what a deployer sees in `hardhat ignition deploy`'s output.
    error ProbeAmountNotHeld(address holder, uint256 balance, uint256 needed, string remedy);

    /// @notice A transfer changed the sender's or the recipient's balance by something other than `asked`.
    /// @param direction INBOUND or OUTBOUND
    /// @param debited how much the sender's balance fell (0 if it rose)
    /// @param credited how much the recipient's balance rose (0 if it fell)
    error TokenMovesWrongAmount(string direction, uint256 asked, uint256 debited, uint256 credited);

    /// @notice Pulls `amount` of `token` from the caller (which must have approved this contract for it), then
    ///         sends it back in two transfers, and reverts with TokenMovesWrongAmount if any of the three moved a
    ///         different amount out of the sender or into the recipient than asked.
    /// @dev The first outbound transfer sends half: a token that charges its sender extra can then take the extra
    ///      from what the probe still holds (as it would from a market's other deposits) instead of reverting for
    ///      want of balance, so the surcharge shows as a named mismatch.
    function check(IERC20 token, uint256 amount) external {
        if (amount < 2) revert ProbeAmountTooSmall(amount, 2);
        uint256 held = token.balanceOf(msg.sender);
        if (held < amount) {
            revert ProbeAmountNotHeld(
                msg.sender,
                held,
                amount,
                "the deployer must hold this many base units of the token while the check runs (it gets them back): send it some, or lower the tokenProbeAmount parameter"
            );
        }
        _moveExactly(token, INBOUND, msg.sender, address(this), amount);
        uint256 half = amount / 2;
        _moveExactly(token, OUTBOUND, address(this), msg.sender, half);
        _moveExactly(token, OUTBOUND, address(this), msg.sender, amount - half);
    }

    /// @dev `transfer` when this contract is the sender, `transferFrom` otherwise, as the market does.
    function _moveExactly(IERC20 token, string memory direction, address from, address to, uint256 amount) private {
        uint256 fromBefore = token.balanceOf(from);
        uint256 toBefore = token.balanceOf(to);
        if (from == address(this)) token.safeTransfer(to, amount);
        else token.safeTransferFrom(from, to, amount);
        uint256 debited = _saturatingSub(fromBefore, token.balanceOf(from));
        uint256 credited = _saturatingSub(token.balanceOf(to), toBefore);
        if (debited != amount || credited != amount) revert TokenMovesWrongAmount(direction, amount, debited, credited);
    }

    /// @dev `a - b`, or 0 where a hostile token moved a balance the wrong way (a named mismatch, not a panic).
    function _saturatingSub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }
}
