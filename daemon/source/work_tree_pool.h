#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "daemon/source/work_tree.h"

namespace slipway {

// The work trees kept for one repository in one folder (each <n>/ with its
// <n>.index and <n>.commit), each lent to one job at a time. Thread-safe.
class WorkTreePool {
public:
    explicit WorkTreePool(std::string dir);
    WorkTreePool(const WorkTreePool&) = delete;
    WorkTreePool& operator=(const WorkTreePool&) = delete;

    // An idle work tree: the one already at `sha` if any (a retry writes
    // nothing), else the one given back last (most likely the closest
    // commit), else a new one that does not exist yet. The first call takes in
    // the work trees a previous run left with a note, and removes everything
    // else in the folder (a checkout a crash cut short).
    WorkTree take(const std::string& sha);

    // Gives back a work tree that take() returned.
    void giveBack(WorkTree tree);

private:
    void scan();

    std::string dir_;
    std::mutex mutex_;
    bool scanned_ = false;
    std::vector<WorkTree> idle_;
    unsigned next_ = 0;  // the number of the next new work tree
};

}  // namespace slipway
