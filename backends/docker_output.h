#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace slipway {

// What Docker prints while it builds and pushes, read the same way whether it
// came from the docker CLI or from the Engine API's progress stream. Fed as it
// arrives and read line by line: it keeps what the backends decide on, never
// the whole output, so a build that prints gigabytes costs no memory here, and
// no line is handed to std::regex (whose recursion a long line would overflow).
class DockerOutputScanner {
public:
    // Takes the next piece of output; complete lines are read at once.
    void feed(const char* data, std::size_t size);
    void feed(const std::string& text) { feed(text.data(), text.size()); }
    // Reads a last line that had no newline.
    void finish();

    // The ids of the images a build created step by step ("---> <id>" lines not
    // preceded by "---> Using cache", nor by a FROM step), in the order it made them.
    const std::vector<std::string>& createdImages() const { return created_; }
    // The last step a build started, as "N/M (INSTRUCTION arguments)"; empty when none.
    const std::string& lastStep() const { return lastStep_; }
    // The last line that was not blank (at most the first 4 KiB of it).
    const std::string& lastLine() const { return lastLine_; }
    // The last manifest digest a push printed ("digest: sha256:<hex> size: N").
    const std::string& digest() const { return digest_; }
    // The first line saying the engine could not be reached, before any build
    // step started (after that, such a line may be a RUN step's output); the
    // CLI may print more lines after it (a broken pipe, say) that would hide the reason.
    const std::string& unreachableLine() const { return unreachable_; }

private:
    void readLine(const std::string& line);

    static constexpr std::size_t kMaxLine = 4096;  // longer lines are read by their start
    std::string partial_;
    bool overlong_ = false;
    bool reused_ = false;
    std::vector<std::string> created_;
    std::string lastStep_, lastLine_, digest_, unreachable_;
};

// Whole-output conveniences over DockerOutputScanner.
std::vector<std::string> parseCreatedImages(const std::string& output);
std::string lastBuildStep(const std::string& output);
std::string parsePushDigest(const std::string& output);

}  // namespace slipway
