#pragma once

#include <string>

#include <sqlite3.h>

namespace slipway {

// A SQLite VFS that is another VFS in all but one thing: what a transaction
// writes to its write-ahead log is gathered in memory and written in a few
// large writes when the transaction commits, where SQLite makes two system
// calls for every page (the frame's header, then the page). With a commit
// per batch of deliveries, those calls were a tenth of ingest's CPU
// (bench/README.md). Every other file, and every read, passes straight through.
//
// Transparent whatever the connection's synchronous setting: the frames of a
// transaction are in the file before SQLite's write of its last frame
// returns, so before the log's index names them to any reader; and before
// any read, sync, truncation or size of the log.
class WalBufferVfs {
public:
    // Registers the VFS as `name`, over `under`; unregistered when destroyed,
    // which must be after every connection that uses it has closed.
    WalBufferVfs(std::string name, sqlite3_vfs* under);
    ~WalBufferVfs();
    WalBufferVfs(const WalBufferVfs&) = delete;
    WalBufferVfs& operator=(const WalBufferVfs&) = delete;

    const char* name() const { return name_.c_str(); }

private:
    std::string name_;
    sqlite3_vfs vfs_{};
};

// The process's WalBufferVfs over SQLite's default VFS, registered on the
// first call: the name to open slipway's database with.
const char* walBufferVfs();

}  // namespace slipway
