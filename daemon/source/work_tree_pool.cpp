#include "daemon/source/work_tree_pool.h"

#include <algorithm>
#include <set>

#include <Poco/File.h>

namespace slipway {
namespace {

// The number a work tree's entries are named after ("3" for 3/, 3.index, 3.commit), or -1.
long treeNumber(const std::string& name) {
    const std::string digits = name.substr(0, name.find('.'));
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(digits);
}

}  // namespace

WorkTreePool::WorkTreePool(std::string dir) : dir_(std::move(dir)) {}

void WorkTreePool::scan() {
    std::vector<std::string> names;
    Poco::File dir(dir_);
    if (dir.exists()) dir.list(names);
    std::vector<WorkTree> kept;
    std::set<long> numbers;
    unsigned next = 0;
    for (const std::string& name : names) {
        const long number = treeNumber(name);
        if (number >= 0 && name == std::to_string(number) && !WorkTree(dir_ + "/" + name).commit().empty()) {
            numbers.insert(number);
            kept.emplace_back(dir_ + "/" + name);
        }
        next = std::max(next, static_cast<unsigned>(number + 1));
    }
    for (const std::string& name : names) {
        if (!numbers.count(treeNumber(name))) Poco::File(dir_ + "/" + name).remove(true);
    }
    // Only once all of it went well: a scan that throws is made again whole.
    idle_ = std::move(kept);
    next_ = next;
    scanned_ = true;
}

WorkTree WorkTreePool::take(const std::string& sha) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!scanned_) scan();
    auto found = std::find_if(idle_.begin(), idle_.end(), [&](const WorkTree& tree) { return tree.commit() == sha; });
    if (found == idle_.end() && !idle_.empty()) found = idle_.end() - 1;
    if (found == idle_.end()) return WorkTree(dir_ + "/" + std::to_string(next_++));
    WorkTree tree = std::move(*found);
    idle_.erase(found);
    return tree;
}

void WorkTreePool::giveBack(WorkTree tree) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(tree));
}

}  // namespace slipway
