#pragma once

#include <map>
#include <ostream>
#include <string>

#include "backends/docker_output.h"

namespace slipway {

// Reads the JSON progress stream the Docker Engine API answers /build and
// /images/{name}/push with (one JSON object a line) and writes it to the build
// log as a person reads it: "stream" text as it is, "status" lines as
// "<id>: <status> <progress>" once per change, the engine's error message.
// It keeps what the backend decides on: the error, the build's text, the
// image id and the pushed digest.
class ProgressStream {
public:
    explicit ProgressStream(std::ostream& log);

    // Takes one line of the stream; a line that is not a JSON object goes to
    // the log unchanged.
    void consume(const std::string& line);

    // The engine's error ("errorDetail" message, else "error"); empty when none.
    const std::string& error() const { return error_; }
    // What the "stream" fields said (the build output the CLI would print), read.
    const DockerOutputScanner& output() const { return output_; }
    // The id of the image a build made ("aux" ID); empty when none.
    const std::string& imageId() const { return imageId_; }
    // The pushed manifest digest ("aux" Digest, else a "digest: sha256:..."
    // status); empty when none.
    const std::string& digest() const { return digest_; }

private:
    std::ostream& log_;
    std::string error_, imageId_, digest_;
    DockerOutputScanner output_;
    std::map<std::string, std::string> lastStatus_;  // by layer id
};

}  // namespace slipway
