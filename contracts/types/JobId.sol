// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Identifies a job; assigned sequentially from 1 by `postJob`.
type JobId is uint256;

/// @notice Identifies a registered circuit; assigned sequentially from 1 by `registerCircuit`.
type CircuitId is uint32;
