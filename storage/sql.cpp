#include "storage/sql.h"

#include <cstdlib>

namespace slipway {

std::string columnText(const SqlRow& row, std::size_t index) {
    const std::optional<std::string>& cell = row.at(index);
    return cell ? *cell : std::string();
}

std::int64_t columnInteger(const SqlRow& row, std::size_t index) {
    const std::optional<std::string>& cell = row.at(index);
    if (!cell) return 0;
    char* end = nullptr;
    const long long value = std::strtoll(cell->c_str(), &end, 10);
    if (end == cell->c_str() || *end != '\0') {
        throw std::runtime_error("column " + std::to_string(index) + " holds '" + *cell + "', not an integer");
    }
    return value;
}

}  // namespace slipway
