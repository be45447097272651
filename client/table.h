#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace slipway::client {

// A plain-text table for a terminal: a header row, columns padded to their
// widest cell, cells longer than `maxCell` cut with an ellipsis.
class Table {
public:
    explicit Table(std::vector<std::string> header, std::size_t maxCell = 60);
    void add(std::vector<std::string> row);
    void print(std::ostream& out) const;

private:
    std::vector<std::vector<std::string>> rows_;
    std::size_t maxCell_;
};

}  // namespace slipway::client
