pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// A hash chain: digest = H(H(...H(secret, seed)..., seed), seed), `rounds` Poseidon hashes deep.
//
// Proves sequential work from a private secret under a public seed (a verifiable delay of sorts), and at 137
// rounds (about 33k constraints) it is the benchmark circuit whose proving times DESIGN.md's goals quote.
//
// Public signals (circom order, outputs first): [digest, seed].
template PoseidonChain(rounds) {
    signal input secret;
    signal input seed;
    signal output digest;

    component hashers[rounds];
    signal state[rounds + 1];
    state[0] <== secret;
    for (var i = 0; i < rounds; i++) {
        hashers[i] = Poseidon(2);
        hashers[i].inputs[0] <== state[i];
        hashers[i].inputs[1] <== seed;
        state[i + 1] <== hashers[i].out;
    }
    digest <== state[rounds];
}

component main {public [seed]} = PoseidonChain(137);
