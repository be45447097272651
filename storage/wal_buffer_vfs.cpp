#include "storage/wal_buffer_vfs.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

namespace slipway {
namespace {

// What one write to the log may carry: the default VFS writes at most
// 128 KiB less a byte in a call (it masks a larger count, and then reports
// the disk full). 29 frames of 4 KiB pages; a commit with more goes out in
// several writes, still in order.
constexpr int kCapacity = 120 * 1024;

// A frame of the log is a header of this size, then the page. The header's
// second big-endian 32-bit word is the database's size in pages after the
// commit for the frame that commits a transaction, and 0 for every other
// (https://www.sqlite.org/fileformat.html#wal_file_format). SQLite writes the
// log's own header (32 bytes) and pages (at least 512) in writes of their
// own, so a write of this size is a frame's header.
constexpr int kFrameHeaderBytes = 24;
static_assert(kCapacity >= 65536 + kFrameHeaderBytes, "a frame of SQLite's largest page fits the buffer");

// The first lock of the log's shared memory is its write lock, held from a
// write transaction's first frame to its end (https://www.sqlite.org/walformat.html).
constexpr int kWriteLock = 0;

bool commitsATransaction(const void* frameHeader) {
    const auto* bytes = static_cast<const unsigned char*>(frameHeader);
    return (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
}

// The file SQLite holds: ours first, the underlying VFS's own right after it
// in the same allocation (szOsFile covers both). Plain data only: SQLite
// allocates it and never runs a constructor or destructor.
struct BufferedFile {
    sqlite3_file base;
    sqlite3_file* real;
    BufferedFile* log;       // a database: its write-ahead log, while that is open
    BufferedFile* database;  // a write-ahead log: its database's file
    bool buffered;           // a write-ahead log whose writes are gathered
    char* buffer;            // kCapacity bytes once the log is first written, else null
    sqlite3_int64 start;     // file offset of buffer[0]
    int used;
    // Where the log's next frame goes as this transaction's appends tell, -1
    // when they do not (opened, or at the end of every write transaction).
    sqlite3_int64 appendAt;
    // Where the page of a committing frame whose header was just appended
    // goes, -1 when the last write was no such header.
    sqlite3_int64 commitPageAt;
};

sqlite3_vfs* realVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
BufferedFile* self(sqlite3_file* file) { return reinterpret_cast<BufferedFile*>(file); }
const sqlite3_io_methods* realMethods(sqlite3_file* file) { return self(file)->real->pMethods; }

// Writes what is buffered to the log, in one system call where the kernel
// takes it whole. A failed write keeps the buffer: the caller fails with the
// error, and SQLite may go on with the transaction (a statement that fails
// with SQLITE_FULL may be undone alone), whose frames must still reach the
// file; a rollback drops them at the write lock's release.
int flush(BufferedFile* f) {
    if (f->used == 0) return SQLITE_OK;
    const int rc = f->real->pMethods->xWrite(f->real, f->buffer, f->used, f->start);
    if (rc == SQLITE_OK) f->used = 0;
    return rc;
}

int xClose(sqlite3_file* file) {
    BufferedFile* f = self(file);
    int rc = flush(f);
    const int closed = f->real->pMethods->xClose(f->real);
    if (rc == SQLITE_OK) rc = closed;
    if (f->database != nullptr) f->database->log = nullptr;
    if (f->log != nullptr) f->log->database = nullptr;
    sqlite3_free(f->buffer);
    f->buffer = nullptr;
    return rc;
}

int xRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
    const int rc = flush(self(file));
    if (rc != SQLITE_OK) return rc;
    return realMethods(file)->xRead(self(file)->real, out, amount, offset);
}

int xWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    BufferedFile* f = self(file);
    if (!f->buffered) return realMethods(file)->xWrite(f->real, data, amount, offset);
    const bool completesCommit = offset == f->commitPageAt;
    f->commitPageAt = -1;
    // An append: the log's header when it starts over (offset 0), or a frame
    // at or past the end of the last. Anything else rewrites what the log
    // holds (a page of this transaction written again, a frame's checksum
    // made over): written through, after what is buffered, so the file sees
    // every write in the order SQLite made it.
    const bool appends = offset == 0 || f->appendAt < 0 || offset >= f->appendAt;
    if (!appends || (f->used > 0 && (offset != f->start + f->used || f->used + amount > kCapacity))) {
        const int rc = flush(f);
        if (rc != SQLITE_OK) return rc;
    }
    if (!appends) return realMethods(file)->xWrite(f->real, data, amount, offset);
    if (f->buffer == nullptr) {
        f->buffer = static_cast<char*>(sqlite3_malloc(kCapacity));
        if (f->buffer == nullptr) return SQLITE_IOERR_NOMEM;
    }
    if (f->used == 0) f->start = offset;
    std::memcpy(f->buffer + f->used, data, static_cast<std::size_t>(amount));
    f->used += amount;
    f->appendAt = offset + amount;
    // The transaction's last page: into the file now, before SQLite names its
    // frames in the log's index, where another connection would read them.
    // If that fails, SQLite rolls the transaction back and the caller is told
    // it failed: its frames are dropped, never to be written by a later flush
    // (the rollback reads pages back) as a whole commit past the log's end,
    // which recovery after a crash would bring back.
    if (completesCommit) {
        const int rc = flush(f);
        if (rc != SQLITE_OK) f->used = 0;
        return rc;
    }
    if (amount == kFrameHeaderBytes && commitsATransaction(data)) f->commitPageAt = offset + amount;
    return SQLITE_OK;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
    const int rc = flush(self(file));
    if (rc != SQLITE_OK) return rc;
    return realMethods(file)->xTruncate(self(file)->real, size);
}

int xSync(sqlite3_file* file, int flags) {
    const int rc = flush(self(file));
    if (rc != SQLITE_OK) return rc;
    return realMethods(file)->xSync(self(file)->real, flags);
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
    const int rc = flush(self(file));
    if (rc != SQLITE_OK) return rc;
    return realMethods(file)->xFileSize(self(file)->real, size);
}

int xLock(sqlite3_file* file, int lock) { return realMethods(file)->xLock(self(file)->real, lock); }
int xUnlock(sqlite3_file* file, int lock) { return realMethods(file)->xUnlock(self(file)->real, lock); }
int xCheckReservedLock(sqlite3_file* file, int* out) {
    return realMethods(file)->xCheckReservedLock(self(file)->real, out);
}

int xFileControl(sqlite3_file* file, int op, void* arg) {
    const int rc = flush(self(file));
    if (rc != SQLITE_OK) return rc;
    return realMethods(file)->xFileControl(self(file)->real, op, arg);
}

int xSectorSize(sqlite3_file* file) { return realMethods(file)->xSectorSize(self(file)->real); }
int xDeviceCharacteristics(sqlite3_file* file) {
    return realMethods(file)->xDeviceCharacteristics(self(file)->real);
}
int xShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    return realMethods(file)->xShmMap(self(file)->real, region, size, extend, out);
}
int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
    BufferedFile* f = self(file);
    // The write transaction is over. A commit's frames were written at its
    // last page, so any still buffered are a rolled-back transaction's:
    // dropped, where written later they would overwrite the frames another
    // connection commits next at the same place.
    if (f->log != nullptr && flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE) && offset <= kWriteLock &&
        kWriteLock < offset + n) {
        f->log->used = 0;
        f->log->appendAt = -1;
        f->log->commitPageAt = -1;
    }
    return realMethods(file)->xShmLock(f->real, offset, n, flags);
}
void xShmBarrier(sqlite3_file* file) { realMethods(file)->xShmBarrier(self(file)->real); }
int xShmUnmap(sqlite3_file* file, int deleteFlag) {
    return realMethods(file)->xShmUnmap(self(file)->real, deleteFlag);
}
int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
    return realMethods(file)->xFetch(self(file)->real, offset, amount, out);
}
int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
    return realMethods(file)->xUnfetch(self(file)->real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,         xClose,       xRead,   xWrite,     xTruncate,   xSync,
    xFileSize, xLock,        xUnlock, xCheckReservedLock,      xFileControl,
    xSectorSize, xDeviceCharacteristics, xShmMap, xShmLock,    xShmBarrier,
    xShmUnmap, xFetch,       xUnfetch,
};

// For a file of the underlying VFS without shared memory or memory maps:
// SQLite looks at a file's methods to tell whether it can use a
// write-ahead log, and ours must answer as the underlying file's do.
const sqlite3_io_methods kMethodsWithoutSharedMemory = {
    1,         xClose,       xRead,   xWrite,     xTruncate,   xSync,
    xFileSize, xLock,        xUnlock, xCheckReservedLock,      xFileControl,
    xSectorSize, xDeviceCharacteristics, nullptr, nullptr,     nullptr,
    nullptr,   nullptr,      nullptr,
};

int xOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* outFlags) {
    BufferedFile* f = self(file);
    *f = BufferedFile{};
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    f->appendAt = -1;
    f->commitPageAt = -1;
    const int rc = realVfs(vfs)->xOpen(realVfs(vfs), name, f->real, flags, outFlags);
    const sqlite3_io_methods* real = f->real->pMethods;
    // SQLite closes a file whose xOpen left pMethods set, even when it failed.
    if (real == nullptr) return rc;
    f->base.pMethods = real->iVersion >= 3 && real->xShmMap != nullptr ? &kMethods : &kMethodsWithoutSharedMemory;
    if (rc != SQLITE_OK || (flags & SQLITE_OPEN_WAL) == 0) return rc;
    // The log's database was opened through this VFS too (SQLite opens both
    // with the connection's): its shared-memory locks tell when a write
    // transaction ends.
    f->database = self(sqlite3_database_file_object(name));
    f->database->log = f;
    // Where the database lacks power-safe overwrite (as SQLite asks of it,
    // not of the log), SQLite pads each commit to a sector with copies of its
    // last frame, split around a sync: their tail would stay buffered when
    // the log's index names it. Such a log is written through.
    sqlite3_file* database = f->database->real;
    f->buffered = (database->pMethods->xDeviceCharacteristics(database) & SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
    return rc;
}

int xDelete(sqlite3_vfs* vfs, const char* name, int syncDir) {
    return realVfs(vfs)->xDelete(realVfs(vfs), name, syncDir);
}
int xAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return realVfs(vfs)->xAccess(realVfs(vfs), name, flags, out);
}
int xFullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
    return realVfs(vfs)->xFullPathname(realVfs(vfs), name, size, out);
}
void* xDlOpen(sqlite3_vfs* vfs, const char* name) { return realVfs(vfs)->xDlOpen(realVfs(vfs), name); }
void xDlError(sqlite3_vfs* vfs, int size, char* out) { realVfs(vfs)->xDlError(realVfs(vfs), size, out); }
void (*xDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
    return realVfs(vfs)->xDlSym(realVfs(vfs), handle, symbol);
}
void xDlClose(sqlite3_vfs* vfs, void* handle) { realVfs(vfs)->xDlClose(realVfs(vfs), handle); }
int xRandomness(sqlite3_vfs* vfs, int size, char* out) {
    return realVfs(vfs)->xRandomness(realVfs(vfs), size, out);
}
int xSleep(sqlite3_vfs* vfs, int micros) { return realVfs(vfs)->xSleep(realVfs(vfs), micros); }
int xCurrentTime(sqlite3_vfs* vfs, double* out) { return realVfs(vfs)->xCurrentTime(realVfs(vfs), out); }
int xGetLastError(sqlite3_vfs* vfs, int size, char* out) {
    return realVfs(vfs)->xGetLastError(realVfs(vfs), size, out);
}
int xCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return realVfs(vfs)->xCurrentTimeInt64(realVfs(vfs), out);
}

// The VFS over SQLite's default one, registered as "slipway-wal-buffer".
// Static: it stays registered while any connection may use it, to the end
// of the process.
sqlite3_vfs* registerOverDefault() {
    sqlite3_vfs* under = sqlite3_vfs_find(nullptr);
    if (under == nullptr) throw std::runtime_error("SQLite has no default VFS to buffer the write-ahead log over");
    static sqlite3_vfs vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(BufferedFile)) + under->szOsFile;
    vfs.mxPathname = under->mxPathname;
    vfs.zName = "slipway-wal-buffer";
    vfs.pAppData = under;
    vfs.xOpen = xOpen;
    vfs.xDelete = xDelete;
    vfs.xAccess = xAccess;
    vfs.xFullPathname = xFullPathname;
    vfs.xDlOpen = xDlOpen;
    vfs.xDlError = xDlError;
    vfs.xDlSym = xDlSym;
    vfs.xDlClose = xDlClose;
    vfs.xRandomness = xRandomness;
    vfs.xSleep = xSleep;
    vfs.xCurrentTime = xCurrentTime;
    vfs.xGetLastError = xGetLastError;
    vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    const int rc = sqlite3_vfs_register(&vfs, 0);
    if (rc != SQLITE_OK) {
        throw std::runtime_error(std::string("registering the SQLite VFS slipway-wal-buffer: ") + sqlite3_errstr(rc));
    }
    return &vfs;
}

}  // namespace

const char* walBufferVfs() {
    static sqlite3_vfs* const vfs = registerOverDefault();
    return vfs->zName;
}

}  // namespace slipway
