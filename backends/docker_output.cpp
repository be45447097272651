#include "backends/docker_output.h"

#include <regex>
#include <sstream>

#include <Poco/String.h>

namespace slipway {
namespace {

// "Step 3/4 : RUN make all": the number, the instruction, its arguments.
const std::regex& stepLine() {
    static const std::regex pattern("Step ([0-9]+/[0-9]+) : ([A-Za-z]+)(.*)");
    return pattern;
}

}  // namespace

std::vector<std::string> parseCreatedImages(const std::string& output) {
    static const std::regex imageLine(" ---> ([0-9a-f]{12,64})\\s*");
    std::vector<std::string> ids;
    std::istringstream in(output);
    std::string line;
    // FROM names an image the build did not make; a cached step reuses one.
    bool reused = false;
    std::smatch match;
    while (std::getline(in, line)) {
        if (std::regex_match(line, match, stepLine())) {
            reused = Poco::icompare(match[2].str(), "FROM") == 0;
        } else if (line.rfind(" ---> Using cache", 0) == 0) {
            reused = true;
        } else if (std::regex_match(line, match, imageLine)) {
            if (!reused) ids.push_back(match[1]);
            reused = false;
        }
    }
    return ids;
}

std::string lastBuildStep(const std::string& output) {
    std::istringstream in(output);
    std::string line, last;
    std::smatch match;
    while (std::getline(in, line)) {
        if (std::regex_match(line, match, stepLine())) {
            last = match[1].str() + " (" + match[2].str() + Poco::trimRight(match[3].str()) + ")";
        }
    }
    return last;
}

std::string parsePushDigest(const std::string& output) {
    static const std::regex pattern("digest: (sha256:[0-9a-f]{64}) size: [0-9]+");
    std::smatch match;
    std::string last;
    auto begin = output.cbegin();
    while (std::regex_search(begin, output.cend(), match, pattern)) {
        last = match[1];
        begin = match.suffix().first;
    }
    return last;
}

}  // namespace slipway
