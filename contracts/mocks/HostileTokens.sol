// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice The shape every test token shares: anyone may mint (they have no value).
abstract contract FreelyMintedToken is ERC20 {
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Keeps 1% of every transfer: the market must refuse it rather than book more than it holds.
contract FeeOnTransferToken is FreelyMintedToken {
    constructor() ERC20("Fee on transfer", "FOT") {}

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xdead), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice Charges the sender of a `transfer` 1% on top of the amount (the recipient gets exactly what was asked);
///         `transferFrom` is exact. A market's inbound check cannot see it, and each payout is then paid partly
///         out of other users' deposits: the deployment check (contracts/deploy/TokenTransferProbe.sol) refuses it.
contract SenderSurchargeToken is FreelyMintedToken {
    constructor() ERC20("Sender surcharge", "SUR") {}

    function transfer(address to, uint256 value) public override returns (bool) {
        _transfer(msg.sender, to, value);
        _transfer(msg.sender, address(0xdead), value / 100);
        return true;
    }
}

/// @notice Credits the recipient of a `transferFrom` 1% more than asked (newly minted): a market would hold more
///         than it booked for every deposit.
contract OverpayingToken is FreelyMintedToken {
    constructor() ERC20("Overpaying", "OVP") {}

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        super.transferFrom(from, to, value);
        _mint(to, value / 100);
        return true;
    }
}

/// @notice Reverts transfers to blocked addresses (like a sanctioned-address list): one blocked account must not
///         stop anyone else being paid.
contract BlocklistToken is FreelyMintedToken {
    mapping(address => bool) public blocked;

    constructor() ERC20("Blocklist", "BLK") {}

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
contract ReentrantToken is FreelyMintedToken {
    address public reentryTarget;
    bytes public payload;
    bool public reentered;
    bytes public reentryError;

    constructor() ERC20("Reentrant", "REE") {}

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

/// @notice Once armed, takes from the recipient of a `transferFrom` twice what it credits it: the recipient's balance
///         falls on the way in. The market must name this (nothing received), not panic on the subtraction.
contract DrainingToken is FreelyMintedToken {
    bool public armed;

    constructor() ERC20("Draining", "DRN") {}

    function arm() external {
        armed = true;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        bool ok = super.transferFrom(from, to, value);
        if (armed) _update(to, address(0xdead), 2 * value);
        return ok;
    }
}
