#include "backends/docker_output.h"

#include <cctype>

#include <Poco/String.h>

#include "backends/transient_failure.h"

namespace slipway {
namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads digits at `pos`, moving past them; false when there are none.
bool digits(const std::string& s, std::size_t& pos) {
    const std::size_t start = pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
    return pos > start;
}

// "Step 3/4 : RUN make all" gives "3/4", "RUN" and " make all".
bool parseStep(const std::string& line, std::string& number, std::string& instruction, std::string& rest) {
    if (line.rfind("Step ", 0) != 0) return false;
    std::size_t pos = 5;
    const std::size_t numberStart = pos;
    if (!digits(line, pos) || pos >= line.size() || line[pos] != '/') return false;
    ++pos;
    if (!digits(line, pos)) return false;
    number = line.substr(numberStart, pos - numberStart);
    if (line.compare(pos, 3, " : ") != 0) return false;
    pos += 3;
    const std::size_t wordStart = pos;
    while (pos < line.size() && std::isalpha(static_cast<unsigned char>(line[pos]))) ++pos;
    if (pos == wordStart) return false;
    instruction = line.substr(wordStart, pos - wordStart);
    rest = line.substr(pos);
    return true;
}

// " ---> 96f416a900ef" gives the id; "Running in ..." and "Using cache" lines do not match.
bool parseImageLine(const std::string& line, std::string& id) {
    static const std::string arrow = " ---> ";
    if (line.rfind(arrow, 0) != 0) return false;
    std::size_t end = arrow.size();
    while (end < line.size() && isHex(line[end])) ++end;
    const std::size_t length = end - arrow.size();
    if (length < 12 || length > 64) return false;
    for (std::size_t i = end; i < line.size(); ++i) {
        if (!std::isspace(static_cast<unsigned char>(line[i]))) return false;
    }
    id = line.substr(arrow.size(), length);
    return true;
}

// "1.0: digest: sha256:<64 hex> size: 735" gives the digest.
std::string findDigest(const std::string& line) {
    static const std::string marker = "digest: sha256:";
    std::string found;
    for (std::size_t at = line.find(marker); at != std::string::npos; at = line.find(marker, at + 1)) {
        std::size_t pos = at + marker.size();
        std::size_t hex = pos;
        while (hex < line.size() && isHex(line[hex])) ++hex;
        if (hex - pos != 64 || line.compare(hex, 7, " size: ") != 0) continue;
        std::size_t size = hex + 7;
        if (!digits(line, size)) continue;
        found = line.substr(at + 8, 7 + 64);  // "sha256:" and the hex
    }
    return found;
}

}  // namespace

void DockerOutputScanner::feed(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        const char c = data[i];
        if (c == '\n') {
            readLine(partial_);
            partial_.clear();
            overlong_ = false;
        } else if (partial_.size() < kMaxLine) {
            partial_.push_back(c);
        } else {
            overlong_ = true;  // the rest of this line is not needed to read it
        }
    }
}

void DockerOutputScanner::finish() {
    if (!partial_.empty()) readLine(partial_);
    partial_.clear();
    overlong_ = false;
}

void DockerOutputScanner::readLine(const std::string& raw) {
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lastLine_ = line;

    std::string number, instruction, rest, id;
    if (parseStep(line, number, instruction, rest)) {
        lastStep_ = number + " (" + instruction + Poco::trimRight(rest) + ")";
        // FROM names an image the build did not make.
        reused_ = Poco::icompare(instruction, "FROM") == 0;
    } else if (line.rfind(" ---> Using cache", 0) == 0) {
        reused_ = true;
    } else if (!lastStep_.empty() && parseImageLine(line, id)) {
        steps_.push_back({id, !reused_});
        reused_ = false;
    }
    const std::string digest = findDigest(line);
    if (!digest.empty()) digest_ = digest;
    // Once a step has started, the engine was reached, and what follows may
    // be a RUN step's own output: a Dockerfile that prints the engine's words
    // must not pass its failure off as an engine outage (and be retried).
    if (unreachable_.empty() && lastStep_.empty() && engineUnreachable(line)) unreachable_ = line;
}

std::vector<std::string> imagesBuildMade(const std::vector<StepImage>& steps,
                                         const std::function<ImageOrigin(const std::string& id)>& originOf) {
    std::vector<std::string> made;
    if (steps.empty()) return made;
    // The first is FROM's, the base image: where the chain starts.
    std::string last = steps.front().id;
    for (std::size_t i = 1; i < steps.size(); ++i) {
        const ImageOrigin origin = originOf(steps[i].id);
        std::string parent = origin.parent;
        if (parent.rfind("sha256:", 0) == 0) parent.erase(0, 7);
        // The builder prints ids cut to 12 characters; the engine gives them whole.
        if (last.empty() || parent.rfind(last, 0) != 0) continue;
        last = steps[i].id;
        // A tagged image is someone's: the chain goes on through it, but it stays.
        if (steps[i].made && !origin.tagged) made.insert(made.begin(), steps[i].id);
    }
    return made;
}

std::string lastBuildStep(const std::string& output) {
    DockerOutputScanner scanner;
    scanner.feed(output);
    scanner.finish();
    return scanner.lastStep();
}

std::string parsePushDigest(const std::string& output) {
    DockerOutputScanner scanner;
    scanner.feed(output);
    scanner.finish();
    return scanner.digest();
}

}  // namespace slipway
