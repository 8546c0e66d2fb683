/** Tests start their chain with the same local node runner as `npm start`. */
export { freePort, type LocalChain, startLocalChain } from "../../common/chain/localNode.ts";
