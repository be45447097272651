#include "daemon/pipeline/manifest.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "backends/image_name.h"
#include "backends/platform.h"

namespace slipway {
namespace {

// images.json is an array of flat objects; nothing legitimate nests deeper.
constexpr std::size_t kMaxDepth = 16;
// Bounds on the optional keys, far past any real use, so that one entry
// cannot make every build's command line or label set huge.
constexpr std::size_t kMaxBuildArgs = 64;
constexpr std::size_t kMaxBuildArgBytes = 4096;
constexpr std::size_t kMaxTags = 16;
constexpr std::size_t kMaxPlatforms = 8;
constexpr std::size_t kMaxDockerfilePath = 255;

const std::set<std::string> kKnownKeys = {"service_name", "type", "version", "dockerfile", "build_args", "tags",
                                           "platforms"};

// A path inside the service folder: relative, without "." or ".." or empty
// components, in characters a file name can safely have.
bool isInsidePath(const std::string& path) {
    if (path.empty() || path.size() > kMaxDockerfilePath || path.front() == '/' || path.back() == '/') return false;
    std::string::size_type start = 0;
    while (start <= path.size()) {
        std::string::size_type end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string component = path.substr(start, end - start);
        if (component.empty() || component == "." || component == ".." || component.front() == '-') return false;
        for (char c : component) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                            c == '_' || c == '-';
            if (!ok) return false;
        }
        start = end + 1;
    }
    return true;
}

// A build argument's name as Dockerfiles' ARG takes it.
bool isArgName(const std::string& name) {
    if (name.empty() || name.size() > 128) return false;
    if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    return true;
}

// Reads the optional keys of a valid entry; sets `entry.error` on the first bad one.
void readOptional(const Poco::JSON::Object& object, const std::string& where, ServiceEntry& entry) {
    for (const std::string& key : object.getNames()) {
        if (!kKnownKeys.count(key) && key.rfind("x-", 0) != 0) {
            entry.error = where + ": unknown key \"" + key +
                          "\" (known: service_name, type, version, dockerfile, build_args, tags, platforms; "
                          "keys of your own start with \"x-\")";
            return;
        }
    }
    if (object.has("dockerfile")) {
        const Poco::Dynamic::Var value = object.get("dockerfile");
        if (!value.isString() || !isInsidePath(value.extract<std::string>())) {
            entry.error = where + ": \"dockerfile\" must be a path inside the service folder, such as "
                                  "\"Dockerfile.prod\" or \"docker/Dockerfile\": components of [A-Za-z0-9._-], "
                                  "none of them empty, '.' or '..', none starting with '-', at most 255 characters";
            if (value.isString()) entry.error += ", not \"" + value.extract<std::string>().substr(0, 300) + "\"";
            return;
        }
        entry.dockerfile = value.extract<std::string>();
    }
    if (object.has("build_args")) {
        const Poco::Dynamic::Var value = object.get("build_args");
        if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
            entry.error = where + ": \"build_args\" must be an object of names to strings";
            return;
        }
        const Poco::JSON::Object& args = *value.extract<Poco::JSON::Object::Ptr>();
        if (args.size() > kMaxBuildArgs) {
            entry.error = where + ": \"build_args\" has more than " + std::to_string(kMaxBuildArgs) + " arguments";
            return;
        }
        for (const std::string& name : args.getNames()) {
            const Poco::Dynamic::Var arg = args.get(name);
            if (!isArgName(name)) {
                entry.error = where + ": build_args name \"" + name + "\" is not an ARG name ([A-Za-z_][A-Za-z0-9_]*)";
                return;
            }
            if (!arg.isString()) {
                entry.error = where + ": build_args \"" + name + "\" must be a string";
                return;
            }
            const std::string text = arg.extract<std::string>();
            if (text.size() > kMaxBuildArgBytes || text.find('\0') != std::string::npos) {
                entry.error = where + ": build_args \"" + name + "\" is longer than " +
                              std::to_string(kMaxBuildArgBytes) + " bytes or holds a NUL byte";
                return;
            }
            entry.buildArgs[name] = text;
        }
    }
    if (object.has("tags")) {
        const Poco::Dynamic::Var value = object.get("tags");
        if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
            entry.error = where + ": \"tags\" must be an array of Docker tags";
            return;
        }
        const Poco::JSON::Array& tags = *value.extract<Poco::JSON::Array::Ptr>();
        if (tags.size() > kMaxTags) {
            entry.error = where + ": \"tags\" lists more than " + std::to_string(kMaxTags);
            return;
        }
        for (std::size_t i = 0; i < tags.size(); ++i) {
            const Poco::Dynamic::Var tag = tags.get(static_cast<unsigned>(i));
            const std::string text = tag.isString() ? tag.extract<std::string>() : std::string();
            if (!tag.isString() || !isValidTag(text)) {
                entry.error = where + ": tags[" + std::to_string(i) + "] " +
                              (tag.isString() ? "\"" + text.substr(0, 300) + "\" " : std::string()) +
                              "is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
                return;
            }
            if (text == entry.version) {
                entry.error = where + ": tags[" + std::to_string(i) + "] \"" + text +
                              "\" is the version itself, which is published anyway";
                return;
            }
            if (std::find(entry.tags.begin(), entry.tags.end(), text) != entry.tags.end()) {
                entry.error = where + ": tags lists \"" + text + "\" twice";
                return;
            }
            entry.tags.push_back(text);
        }
    }
    if (object.has("platforms")) {
        const Poco::Dynamic::Var value = object.get("platforms");
        const std::string form = ": \"platforms\" must be an array of platforms, such as [\"linux/amd64\", \"linux/arm64\"]";
        if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
            entry.error = where + form;
            return;
        }
        const Poco::JSON::Array& platforms = *value.extract<Poco::JSON::Array::Ptr>();
        if (platforms.size() == 0 || platforms.size() > kMaxPlatforms) {
            entry.error = where + form + ", from 1 to " + std::to_string(kMaxPlatforms);
            return;
        }
        std::vector<std::string> texts;
        for (std::size_t i = 0; i < platforms.size(); ++i) {
            const Poco::Dynamic::Var platform = platforms.get(static_cast<unsigned>(i));
            if (!platform.isString()) {
                entry.error = where + ": platforms[" + std::to_string(i) + "] must be a string";
                return;
            }
            texts.push_back(platform.extract<std::string>().substr(0, 300));
        }
        try {
            entry.platforms = parsePlatforms(texts);
        } catch (const PlatformError& e) {
            entry.error = where + ": platforms: " + e.what();
            return;
        }
        const std::string problem = platformTagProblem(entry.version, entry.platforms);
        if (!problem.empty()) {
            entry.error = where + ": " + problem;
            return;
        }
    }
}

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
        return entry;
    }
    readOptional(object, where, entry);
    return entry;
}

}  // namespace

std::string platformTagProblem(const std::string& version, const std::vector<Platform>& platforms) {
    if (platforms.size() < 2) return {};
    for (const Platform& platform : platforms) {
        const std::string tag = version + "-" + platform.tagSuffix();
        if (!isValidTag(tag)) {
            return "version \"" + version + "\" is too long for the tag of its " + platform.text() + " image, \"" +
                   tag + "\" (at most 128 characters)";
        }
    }
    return {};
}

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
