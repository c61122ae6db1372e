// Lives in support/ (scripts use it too); tests keep importing it from here.
export { collectionHash } from '../../support/collection-hash.js';
