-- The history schema as the first release wrote it (PRAGMA user_version 0), kept
-- to test that such databases still open. Do not edit.
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    ended INTEGER,
    complete INTEGER NOT NULL DEFAULT 0,
    command_line TEXT NOT NULL,
    argv TEXT NOT NULL,
    targets TEXT NOT NULL,
    ports TEXT NOT NULL,
    hosts INTEGER NOT NULL,
    seed INTEGER,
    resumable INTEGER NOT NULL,
    open INTEGER NOT NULL DEFAULT 0,
    elapsed_ms INTEGER NOT NULL DEFAULT 0,
    probes_sent INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    excluded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS results (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    addr TEXT NOT NULL,
    hostname TEXT NOT NULL,
    port INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    rtt_us INTEGER,
    tries INTEGER NOT NULL,
    service TEXT,
    PRIMARY KEY (run, addr, hostname, port)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hosts (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    addr TEXT NOT NULL,
    hostname TEXT NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    answered BLOB,
    PRIMARY KEY (run, addr, hostname)
) WITHOUT ROWID;
