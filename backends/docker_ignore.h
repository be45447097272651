#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace slipway {

class GlobPattern;

// The patterns of a .dockerignore file, matched the way the docker CLI matches
// them when it sends a build context: one pattern per line, a line starting
// with '#' is a comment, blank lines are skipped, '!' makes an exception.
// Patterns are cleaned paths relative to the context ("/a/./b/" is "a/b");
// '*' and '?' match within one path component, "**" any number of them,
// "[...]" a character class, '\' escapes. A pattern that matches a folder
// matches everything below it, and the last pattern that matches decides.
class DockerIgnore {
public:
    // Parses .dockerignore `text`; throws std::runtime_error naming the line of
    // a pattern that cannot be used.
    explicit DockerIgnore(const std::string& text);

    // Whether the context leaves out `path` ('/'-separated, relative to it).
    bool excludes(const std::string& path) const;

    // Whether an excluded `folder` must still be walked because an exception
    // may bring back something inside it; otherwise it is skipped whole.
    bool mayReinclude(const std::string& folder) const;

    // Makes sure `path` is sent whatever the patterns say (the Dockerfile and
    // .dockerignore itself), as the docker CLI does, by adding an exception.
    void alwaysInclude(const std::string& path);

private:
    struct Pattern {
        std::string text;  // cleaned, without the '!'
        bool exception = false;
        std::size_t depth = 0;  // components in `text`
        std::shared_ptr<const GlobPattern> glob;
    };

    void add(const std::string& text, bool exception, std::size_t line);

    std::vector<Pattern> patterns_;
};

}  // namespace slipway
