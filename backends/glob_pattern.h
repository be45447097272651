#pragma once

#include <string>
#include <vector>

namespace slipway {

// A .dockerignore pattern, as the docker CLI reads one: '*' is any run of
// characters but '/', '?' one such character, [...] a class ('^' negates,
// ranges, '\' escapes, a ']' first is literal), '\' escapes the next
// character, "**" any number of whole path components (everything when it
// ends the pattern). Matching simulates the pattern as an automaton, so it
// takes time proportional to the pattern's length times the path's, whatever
// either holds: a hostile pattern cannot make it backtrack for hours.
class GlobPattern {
public:
    // Throws std::runtime_error on an unclosed '['.
    explicit GlobPattern(const std::string& pattern);

    // Whether the whole of `path` matches.
    bool matches(const std::string& path) const;

private:
    enum class Kind { Literal, AnyChar, Class, Star, AnyComponents, Everything };
    struct Token {
        Kind kind = Kind::Literal;
        char literal = 0;
        bool negated = false;
        std::vector<std::pair<char, char>> ranges;  // for Class
    };
    static bool inClass(const Token& token, char c);

    std::vector<Token> tokens_;
};

}  // namespace slipway
