#pragma once

namespace slipway {

// A SQLite VFS that is the default VFS in all but one thing: what a transaction
// writes to its write-ahead log is gathered in memory and written in a few
// large writes when its last frame is written, where SQLite makes two system
// calls for every page (the frame's header, then the page); bench/README.md
// says what that cost ingest. Every other file, and every read, passes
// straight through.
//
// Transparent whatever the connection's synchronous setting: a commit's
// frames are in the file once SQLite's write of its last page succeeds, so
// before the log's index names them to any reader; what a rollback leaves
// buffered is dropped when the transaction gives up the log's write lock;
// a commit whose last write fails is dropped too, so that no later write
// puts it whole in the file; and a read, sync, truncation, size or file
// control of the log, or any write that does not continue the buffer, sends
// the buffer first. A log without power-safe overwrite (the `psow=0` URI
// parameter) is written through. Not covered: a connection that leaves
// exclusive locking mode after a rollback (SQLite takes no shared-memory
// locks in it, so the rollback's frames stay buffered, to be written at its
// next use of the log, perhaps over another connection's commit); slipway
// never sets locking_mode.
//
// Returns the VFS's name, registering it over SQLite's default VFS on the
// first call: the name to open slipway's database with.
const char* walBufferVfs();

}  // namespace slipway
