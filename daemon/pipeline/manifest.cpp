#include "daemon/pipeline/manifest.h"

#include <set>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "backends/image_name.h"

namespace slipway {
namespace {

// images.json is an array of flat objects; nothing legitimate nests deeper.
constexpr std::size_t kMaxDepth = 16;

std::string describe(std::size_t index, const std::string& name) {
    std::string where = "images.json[" + std::to_string(index) + "]";
    if (!name.empty()) where += " (" + name + ")";
    return where;
}

// The string at `key`, or an error naming the entry and the key.
std::string stringField(const Poco::JSON::Object& object, const std::string& key,
                        const std::string& where, std::string& error) {
    if (!object.has(key)) {
        error = where + ": missing \"" + key + "\"";
        return {};
    }
    const Poco::Dynamic::Var value = object.get(key);
    if (!value.isString()) {
        error = where + ": \"" + key + "\" must be a string";
        return {};
    }
    return value.extract<std::string>();
}

ServiceEntry readEntry(const Poco::Dynamic::Var& item, std::size_t index) {
    ServiceEntry entry;
    if (item.type() != typeid(Poco::JSON::Object::Ptr)) {
        entry.error = describe(index, "") + ": expected an object";
        return entry;
    }
    const Poco::JSON::Object& object = *item.extract<Poco::JSON::Object::Ptr>();

    entry.name = stringField(object, "service_name", describe(index, ""), entry.error);
    if (!entry.error.empty()) return entry;
    const std::string where = describe(index, entry.name);
    if (!isValidRepositoryName(entry.name)) {
        entry.error = where + ": service_name must be a relative folder that is also a Docker "
                              "repository name (lowercase [a-z0-9] separated by '.', '_', '-' or '/'; "
                              "no '..', no leading '-' or '/')";
        return entry;
    }
    const std::string type = stringField(object, "type", where, entry.error);
    if (!entry.error.empty()) return entry;
    if (type != "Docker") {
        entry.error = where + ": type \"" + type + "\" is not supported (only \"Docker\")";
        return entry;
    }
    entry.version = stringField(object, "version", where, entry.error);
    if (!entry.error.empty()) return entry;
    if (!isValidTag(entry.version)) {
        entry.error = where + ": version \"" + entry.version +
                      "\" is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
    }
    return entry;
}

}  // namespace

std::vector<ServiceEntry> parseManifest(const std::string& text) {
    if (text.size() > kMaxManifestBytes) {
        throw ManifestError("images.json is " + std::to_string(text.size()) + " bytes, over the limit of " +
                            std::to_string(kMaxManifestBytes));
    }
    Poco::Dynamic::Var root;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(kMaxDepth);
        root = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw ManifestError("images.json is not valid JSON: " + e.message());
    }
    if (root.type() != typeid(Poco::JSON::Array::Ptr)) {
        throw ManifestError("images.json must be an array of services");
    }
    const Poco::JSON::Array& array = *root.extract<Poco::JSON::Array::Ptr>();

    std::vector<ServiceEntry> entries;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < array.size(); ++i) {
        ServiceEntry entry = readEntry(array.get(static_cast<unsigned>(i)), i);
        if (entry.error.empty() && !seen.insert(entry.name).second) {
            entry.error = describe(i, entry.name) + ": service_name appears more than once";
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

}  // namespace slipway
