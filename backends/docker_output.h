#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace slipway {

// The image a build step ended with, as the classic builder prints it
// (" ---> <id>"), and whether the step made it (not FROM's, not from the cache).
struct StepImage {
    std::string id;
    bool made = false;
};

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

    // Each " ---> <id>" line after a build's first step, in order. A RUN
    // step can print such a line too: see imagesBuildMade before acting on one.
    const std::vector<StepImage>& stepImages() const { return steps_; }
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
    std::vector<StepImage> steps_;
    std::string lastStep_, lastLine_, digest_, unreachable_;
};

// What the engine records of an image: its parent (a full "sha256:..." id,
// empty when it has none, or when there is no such image) and whether any
// tag names it.
struct ImageOrigin {
    std::string parent;
    bool tagged = false;
};

// The images a build made, children first (the order to remove them in), as
// the engine records them rather than as the output says: of `steps`, only
// untagged images whose parent (`originOf`, asked of the engine) is the image
// of the step before. A " ---> <id>" line a RUN step printed names an image
// that is not the child of the build's last step, or is tagged, and is
// passed over: a Dockerfile cannot have slipway remove an image of its
// choosing (at most an untagged cached sibling of its own steps).
std::vector<std::string> imagesBuildMade(const std::vector<StepImage>& steps,
                                         const std::function<ImageOrigin(const std::string& id)>& originOf);

// Whole-output conveniences over DockerOutputScanner.
std::string lastBuildStep(const std::string& output);
std::string parsePushDigest(const std::string& output);

}  // namespace slipway
