#include "backends/docker_ignore.h"

#include <sstream>
#include <stdexcept>

#include <Poco/String.h>

#include "backends/glob_pattern.h"

namespace slipway {
namespace {

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::string::size_type start = 0;
    while (true) {
        const auto slash = path.find('/', start);
        parts.push_back(path.substr(start, slash - start));
        if (slash == std::string::npos) return parts;
        start = slash + 1;
    }
}

// Lexically cleaned like Go's filepath.Clean, which the docker CLI applies to
// every pattern: no empty or "." components, ".." resolved, no trailing '/'.
std::string cleaned(const std::string& path) {
    const bool rooted = !path.empty() && path[0] == '/';
    std::vector<std::string> kept;
    for (const std::string& part : split(path)) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!kept.empty() && kept.back() != "..") {
                kept.pop_back();
            } else if (!rooted) {
                kept.push_back(part);
            }
            continue;
        }
        kept.push_back(part);
    }
    std::string result = rooted ? "/" : "";
    for (std::size_t i = 0; i < kept.size(); ++i) result += (i ? "/" : "") + kept[i];
    return result.empty() ? "." : result;
}

}  // namespace

DockerIgnore::DockerIgnore(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 BOM
        // Only a '#' in the first column starts a comment.
        if (line.rfind('#', 0) == 0) continue;
        std::string pattern = Poco::trim(line);
        if (pattern.empty()) continue;
        const bool exception = pattern[0] == '!';
        if (exception) pattern = Poco::trim(pattern.substr(1));
        if (pattern.empty()) {
            throw std::runtime_error(".dockerignore line " + std::to_string(number) + ": '!' excepts nothing");
        }
        add(pattern, exception, number);
    }
}

void DockerIgnore::add(const std::string& text, bool exception, std::size_t line) {
    Pattern pattern;
    pattern.text = cleaned(text);
    if (pattern.text.size() > 1 && pattern.text[0] == '/') pattern.text.erase(0, 1);
    pattern.exception = exception;
    pattern.depth = split(pattern.text).size();
    try {
        pattern.glob = std::make_shared<GlobPattern>(pattern.text);
    } catch (const std::exception& e) {
        throw std::runtime_error(".dockerignore line " + std::to_string(line) + ": bad pattern '" + text +
                                 "': " + e.what());
    }
    patterns_.push_back(std::move(pattern));
}

bool DockerIgnore::excludes(const std::string& path) const {
    const auto slash = path.rfind('/');
    const std::vector<std::string> parents =
        slash == std::string::npos ? std::vector<std::string>{} : split(path.substr(0, slash));
    bool excluded = false;
    for (const Pattern& pattern : patterns_) {
        bool match = pattern.glob->matches(path);
        // A pattern that names one of the path's folders takes the path with it.
        if (!match && pattern.depth <= parents.size()) {
            std::string prefix;
            for (std::size_t i = 0; i < pattern.depth; ++i) prefix += (i ? "/" : "") + parents[i];
            match = pattern.glob->matches(prefix);
        }
        if (match) excluded = !pattern.exception;
    }
    return excluded;
}

bool DockerIgnore::mayReinclude(const std::string& folder) const {
    for (const Pattern& pattern : patterns_) {
        if (pattern.exception && (pattern.text + "/").rfind(folder + "/", 0) == 0) return true;
    }
    return false;
}

void DockerIgnore::alwaysInclude(const std::string& path) {
    if (!excludes(path)) return;
    std::string literal;  // the path itself, not a glob
    for (const char ch : path) {
        if (std::string("*?[\\").find(ch) != std::string::npos) literal += '\\';
        literal += ch;
    }
    add(literal, true, 0);
}

}  // namespace slipway
