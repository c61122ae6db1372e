// Lives in support/ (scripts use it too); tests keep importing it from here.
export { TS_NODE_ARGS, finished, spawnTs, type Finished } from '../../support/spawn-ts.js';
