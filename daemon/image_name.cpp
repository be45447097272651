#include "daemon/image_name.h"

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
    return host.size() <= 255 && std::regex_match(host, pattern);
}

std::string imageReference(const std::string& registry, const std::string& service,
                           const std::string& version) {
    return registry + "/" + service + ":" + version;
}

}  // namespace slipway
