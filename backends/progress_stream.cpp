#include "backends/progress_stream.h"

#include <Poco/JSON/Parser.h>

#include "backends/docker_output.h"

namespace slipway {

ProgressStream::ProgressStream(std::ostream& log) : log_(log) {}

void ProgressStream::consume(const std::string& input) {
    std::string line = input;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return;
    Poco::JSON::Object::Ptr message;
    try {
        message = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        log_ << line << "\n" << std::flush;
        return;
    }

    if (message->has("stream")) {
        const std::string text = message->optValue<std::string>("stream", "");
        output_.feed(text);
        log_ << text;
    }
    if (message->has("status")) {
        const std::string status = message->optValue<std::string>("status", "");
        const std::string id = message->optValue<std::string>("id", "");
        // A layer reports each chunk it moves; the log keeps one line per change
        // of status, as the CLI prints when its output is not a terminal.
        auto last = lastStatus_.find(id);
        if (id.empty() || last == lastStatus_.end() || last->second != status) {
            lastStatus_[id] = status;
            const std::string progress = message->optValue<std::string>("progress", "");
            log_ << (id.empty() ? "" : id + ": ") << status << (progress.empty() ? "" : " " + progress) << "\n";
        }
        const std::string digest = parsePushDigest(status);
        if (!digest.empty() && digest_.empty()) digest_ = digest;
    }
    if (Poco::JSON::Object::Ptr aux = message->getObject("aux")) {
        if (aux->has("ID")) imageId_ = aux->optValue<std::string>("ID", "");
        if (aux->has("Digest")) digest_ = aux->optValue<std::string>("Digest", "");
    }
    std::string error;
    if (Poco::JSON::Object::Ptr detail = message->getObject("errorDetail")) {
        error = detail->optValue<std::string>("message", "");
    }
    if (error.empty()) error = message->optValue<std::string>("error", "");
    if (!error.empty()) {
        error_ = error;
        log_ << error << "\n";
    }
    log_.flush();
}

}  // namespace slipway
