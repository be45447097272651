#pragma once

#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace slipway {

// Opens (creating if needed) the SQLite database at `path`, in WAL mode with
// synchronous=FULL so that a committed transaction survives a power cut, and
// brings its schema up to date through the numbered migrations.
SQLite::Database openDatabase(const std::string& path);

// The schema version this build of slipway writes (PRAGMA user_version).
int schemaVersion();

// The same migrations for PostgreSQL, one for each of SQLite's (see
// PostgresConnection): migration N brings the schema from version N-1 to N.
const std::vector<const char*>& postgresMigrations();

}  // namespace slipway
