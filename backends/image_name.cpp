#include "backends/image_name.h"

#include <regex>

namespace slipway {

bool isValidRepositoryName(const std::string& name) {
    static const std::regex pattern(
        "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
    return name.size() <= 255 && std::regex_match(name, pattern);
}

bool isValidTag(const std::string& tag) {
    static const std::regex pattern("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    return std::regex_match(tag, pattern);
}

bool isValidRegistryHost(const std::string& host) {
    static const std::regex pattern(
        "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
        "(?::[0-9]{1,5})?");
    if (host.size() > 255 || !std::regex_match(host, pattern)) return false;
    const auto colon = host.rfind(':');
    if (colon == std::string::npos) return true;
    const long port = std::stol(host.substr(colon + 1));
    return port >= 1 && port <= 65535;
}

bool dockerReadsAsRegistry(const std::string& host) {
    return host.find_first_of(".:") != std::string::npos || host == "localhost";
}

std::string imageReference(const std::string& registry, const std::string& service,
                           const std::string& version) {
    return registry + "/" + service + ":" + version;
}

}  // namespace slipway
