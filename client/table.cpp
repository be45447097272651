#include "client/table.h"

#include <algorithm>

namespace slipway::client {

Table::Table(std::vector<std::string> header, std::size_t maxCell) : maxCell_(maxCell) { add(std::move(header)); }

void Table::add(std::vector<std::string> row) {
    for (std::string& cell : row) {
        std::replace(cell.begin(), cell.end(), '\n', ' ');
        if (cell.size() > maxCell_) cell = cell.substr(0, maxCell_ - 3) + "...";
    }
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        out << line << "\n";
    }
}

}  // namespace slipway::client
