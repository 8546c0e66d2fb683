pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/mux1.circom";

// Anonymous membership in a Poseidon Merkle tree, with a nullifier (Semaphore-style).
//
// The leaf is Poseidon(secret). The prover shows that its leaf sits under `root` without saying which leaf, and
// outputs nullifierHash = Poseidon(secret, externalNullifier): the same member gets the same nullifier for one
// external nullifier (one vote per poll), and unlinkable ones across polls.
//
// Public signals (circom order, outputs first): [nullifierHash, root, externalNullifier].
template MerkleMembership(depth) {
    signal input secret;
    signal input pathElements[depth];
    signal input pathIndices[depth];
    signal input root;
    signal input externalNullifier;
    signal output nullifierHash;

    component leafHasher = Poseidon(1);
    leafHasher.inputs[0] <== secret;

    component levelHashers[depth];
    component leftMux[depth];
    component rightMux[depth];
    signal levelHash[depth + 1];
    levelHash[0] <== leafHasher.out;

    for (var i = 0; i < depth; i++) {
        // A path index must be a bit: 0 = our node is the left child, 1 = the right child.
        pathIndices[i] * (1 - pathIndices[i]) === 0;

        leftMux[i] = Mux1();
        leftMux[i].c[0] <== levelHash[i];
        leftMux[i].c[1] <== pathElements[i];
        leftMux[i].s <== pathIndices[i];

        rightMux[i] = Mux1();
        rightMux[i].c[0] <== pathElements[i];
        rightMux[i].c[1] <== levelHash[i];
        rightMux[i].s <== pathIndices[i];

        levelHashers[i] = Poseidon(2);
        levelHashers[i].inputs[0] <== leftMux[i].out;
        levelHashers[i].inputs[1] <== rightMux[i].out;
        levelHash[i + 1] <== levelHashers[i].out;
    }
    root === levelHash[depth];

    component nullifierHasher = Poseidon(2);
    nullifierHasher.inputs[0] <== secret;
    nullifierHasher.inputs[1] <== externalNullifier;
    nullifierHash <== nullifierHasher.out;
}

component main {public [root, externalNullifier]} = MerkleMembership(10);
