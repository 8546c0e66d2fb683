// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Keeps 1% of every transfer: the market must refuse it rather than book more than it holds.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee on transfer", "FOT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xdead), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice Reverts transfers to blocked addresses (like a sanctioned-address list): one blocked account must not
///         stop anyone else being paid.
contract BlocklistToken is ERC20 {
    mapping(address => bool) public blocked;

    constructor() ERC20("Blocklist", "BLK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        require(!blocked[to], "blocked recipient");
        super._update(from, to, value);
    }
}

/// @notice Calls back into the market from inside a transfer (as an ERC-777-style hook would), to test the
///         reentrancy lock.
contract ReentrantToken is ERC20 {
    address public reentryTarget;
    bytes public payload;
    bool public reentered;
    bytes public reentryError;

    constructor() ERC20("Reentrant", "REE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_) external {
        reentryTarget = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (reentryTarget != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory err) = reentryTarget.call(payload);
            if (!ok) reentryError = err;
            require(!ok, "reentry succeeded");
        }
    }
}
