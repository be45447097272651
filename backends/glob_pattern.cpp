#include "backends/glob_pattern.h"

#include <stdexcept>

namespace slipway {

GlobPattern::GlobPattern(const std::string& pattern) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char ch = pattern[i];
        Token token;
        token.kind = Kind::Literal;
        if (ch == '*') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
                ++i;
                if (i + 1 < pattern.size() && pattern[i + 1] == '/') ++i;  // "**/" is "**"
                token.kind = i + 1 == pattern.size() ? Kind::Everything : Kind::AnyComponents;
            } else {
                token.kind = Kind::Star;
            }
        } else if (ch == '?') {
            token.kind = Kind::AnyChar;
        } else if (ch == '\\') {
            token.literal = i + 1 < pattern.size() ? pattern[++i] : '\\';
        } else if (ch == '[') {
            token.kind = Kind::Class;
            std::size_t j = i + 1;
            if (j < pattern.size() && pattern[j] == '^') {
                token.negated = true;
                ++j;
            }
            bool first = true;
            for (; j < pattern.size() && (pattern[j] != ']' || first); ++j, first = false) {
                char low = pattern[j];
                if (low == '\\' && j + 1 < pattern.size()) low = pattern[++j];
                char high = low;
                if (j + 2 < pattern.size() && pattern[j + 1] == '-' && pattern[j + 2] != ']') {
                    j += 2;
                    high = pattern[j];
                    if (high == '\\' && j + 1 < pattern.size()) high = pattern[++j];
                }
                token.ranges.emplace_back(low, high);
            }
            if (j >= pattern.size()) throw std::runtime_error("unclosed '['");
            i = j;
        } else {
            token.literal = ch;
        }
        tokens_.push_back(std::move(token));
    }
}

bool GlobPattern::inClass(const Token& token, char c) {
    bool found = false;
    for (const auto& [low, high] : token.ranges) found = found || (c >= low && c <= high);
    return found != token.negated;
}

bool GlobPattern::matches(const std::string& path) const {
    // State 2k: before token k. State 2k+1: inside an AnyComponents token k,
    // having read at least one character since it began (it may end only right
    // after a '/').
    const std::size_t n = tokens_.size();
    std::vector<char> current(2 * n + 2, 0), next(2 * n + 2, 0);
    auto close = [&](std::vector<char>& states) {
        // Tokens that may match nothing let the automaton move past them.
        for (std::size_t k = 0; k < n; ++k) {
            const Kind kind = tokens_[k].kind;
            if (states[2 * k] && (kind == Kind::Star || kind == Kind::AnyComponents || kind == Kind::Everything)) {
                states[2 * (k + 1)] = 1;
            }
        }
    };
    current[0] = 1;
    close(current);
    for (const char c : path) {
        std::fill(next.begin(), next.end(), 0);
        for (std::size_t k = 0; k < n; ++k) {
            const Token& token = tokens_[k];
            if (current[2 * k]) {
                switch (token.kind) {
                    case Kind::Literal:
                        if (c == token.literal) next[2 * (k + 1)] = 1;
                        break;
                    case Kind::AnyChar:
                        if (c != '/') next[2 * (k + 1)] = 1;
                        break;
                    case Kind::Class:
                        if (c != '/' && inClass(token, c)) next[2 * (k + 1)] = 1;
                        break;
                    case Kind::Star:
                        if (c != '/') next[2 * k] = 1;
                        break;
                    case Kind::Everything:
                        next[2 * k] = 1;
                        break;
                    case Kind::AnyComponents:
                        next[2 * k + 1] = 1;
                        if (c == '/') next[2 * (k + 1)] = 1;
                        break;
                }
            }
            if (current[2 * k + 1]) {  // inside AnyComponents
                next[2 * k + 1] = 1;
                if (c == '/') next[2 * (k + 1)] = 1;
            }
        }
        close(next);
        current.swap(next);
    }
    return current[2 * n];
}

}  // namespace slipway
