// The server picker lives in support/ (scripts use it too); tests keep importing it from here.
export { DOCDB_SCRIPTS, REPO_ROOT, ServerKind, startServer, uriWithDatabase, type TestServer } from '../../support/server.js';
