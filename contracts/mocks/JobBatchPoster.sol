// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IProofMarket, JobRequest} from "../interfaces/IProofMarket.sol";

/// @notice Bench scaffolding (bench/backfill.ts): posts many copies of one job in a single transaction, so that a
///         local chain holds a hundred thousand market events within minutes. It escrows the fees itself, from
///         the caller's tokens. Never deployed outside a local chain.
contract JobBatchPoster {
    function postMany(IProofMarket market, JobRequest calldata request, uint256 count) external {
        IERC20 token = market.token();
        uint256 total = uint256(request.maxFee) * count;
        require(token.transferFrom(msg.sender, address(this), total), "transfer failed");
        require(token.approve(address(market), total), "approve failed");
        for (uint256 i = 0; i < count; i++) market.postJob(request);
    }
}
