#include "backends/docker_api_backend.h"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/URI.h>

#include "backends/context_tar.h"
#include "backends/docker_output.h"
#include "backends/progress_stream.h"
#include "backends/transient_failure.h"

namespace slipway {
namespace {

const std::string kApi = "/v1.41";

// "localhost:5443/api:1" is repository "localhost:5443/api" and tag "1": the
// tag's ':' is the one after the last '/'.
std::pair<std::string, std::string> splitReference(const std::string& image) {
    const auto slash = image.rfind('/');
    const auto colon = image.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {image, "latest"};
    return {image.substr(0, colon), image.substr(colon + 1)};
}

// `text` as a JSON string, quoted and escaped.
std::string jsonString(const std::string& text) {
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(text, out);
    return out.str();
}

// {"name": "value", ...}, escaped as JSON strings.
std::string jsonObject(const std::map<std::string, std::string>& values) {
    Poco::JSON::Object object;
    for (const auto& [name, value] : values) object.set(name, value);
    std::ostringstream text;
    object.stringify(text);
    return text.str();
}

}  // namespace

DockerApiBackend::DockerApiBackend(DockerApiSettings settings)
    : settings_(std::move(settings)), engine_(settings_.dockerHost, settings_.connectTimeout) {}

void DockerApiBackend::build(const BuildRequest& request, std::ostream& log) {
    const std::string step = "build of " + request.image;
    Poco::URI target(kApi + "/build");
    target.addQueryParameter("t", request.image);
    target.addQueryParameter("dockerfile", request.dockerfile);
    target.addQueryParameter("rm", "1");
    target.addQueryParameter("forcerm", "1");
    // JSON objects, as the Engine API takes them.
    if (!request.buildArgs.empty()) target.addQueryParameter("buildargs", jsonObject(request.buildArgs));
    if (!request.labels.empty()) target.addQueryParameter("labels", jsonObject(request.labels));
    if (!request.platform.empty()) {
        target.addQueryParameter("platform", request.platform);
        target.addQueryParameter("pull", "1");
    }

    ProgressStream progress(log);
    std::string error;
    FailureKind kind = FailureKind::Other;
    try {
        engine_.call({Poco::Net::HTTPRequest::HTTP_POST, target.getPathAndQuery(),
                      {{"Content-Type", "application/x-tar"}},
                      [&](std::ostream& body) { writeContextTar(request.contextDir, request.dockerfile, body); }},
                     settings_.buildTimeout, [&](const std::string& line) { progress.consume(line); });
        if (!progress.error().empty()) {
            const std::string& failedStep = progress.output().lastStep();
            error = step + (failedStep.empty() ? "" : " failed at step " + failedStep) + ": " + progress.error();
            kind = failureKindOf(progress.error());
        } else if (progress.imageId().empty()) {
            error = step + ": the engine's answer ended without the id of the image it built";
        }
    } catch (const BackendError& e) {
        error = step + ": " + e.what();
        kind = e.kind();
    } catch (const std::exception& e) {
        error = step + ": " + e.what();
    }
    if (error.empty()) return;

    // As `docker rmi` would: an image another one still uses stays.
    const std::vector<std::string> made =
        imagesBuildMade(progress.output().stepImages(), [&](const std::string& id) { return originOf(id); });
    for (const std::string& id : made) {
        try {
            deleteImage(id, log);
        } catch (const BackendError& e) {
            log << "removal of intermediate image " << id << ": " << e.what() << "\n";
        }
    }
    throw BackendError(kind, error);
}

std::string DockerApiBackend::push(const std::string& image, std::ostream& log) {
    const std::string step = "push of " + image;
    const auto [repository, tag] = splitReference(image);
    Poco::URI target(kApi + "/images/" + repository + "/push");
    target.addQueryParameter("tag", tag);

    ProgressStream progress(log);
    try {
        engine_.call({Poco::Net::HTTPRequest::HTTP_POST, target.getPathAndQuery(),
                      {{"X-Registry-Auth", registryAuthHeader(settings_.registry)}}, {}},
                     settings_.pushTimeout, [&](const std::string& line) { progress.consume(line); });
    } catch (const BackendError& e) {
        throw BackendError(e.kind(), step + ": " + e.what());
    } catch (const std::exception& e) {
        throw BackendError(step + ": " + e.what());
    }
    if (!progress.error().empty()) {
        throw BackendError(failureKindOf(progress.error()), step + ": " + progress.error());
    }
    if (progress.digest().empty()) throw BackendError(step + ": no digest in the engine's answer");
    return progress.digest();
}

void DockerApiBackend::remove(const std::string& image, std::ostream& log) {
    try {
        deleteImage(image, log);
    } catch (const BackendError& e) {
        throw BackendError(e.kind(), "removal of " + image + ": " + e.what());
    } catch (const std::exception& e) {
        throw BackendError("removal of " + image + ": " + e.what());
    }
}

Platform DockerApiBackend::ping() {
    std::string answer;
    try {
        engine_.call({Poco::Net::HTTPRequest::HTTP_GET, kApi + "/version", {}, {}}, std::chrono::seconds(5),
                     [&](const std::string& line) { answer += line; });
    } catch (const BackendError& e) {
        throw BackendError(e.kind(), std::string("engine version: ") + e.what());
    } catch (const std::exception& e) {
        throw BackendError(std::string("engine version: ") + e.what());
    }
    try {
        // {"Os": "linux", "Arch": "amd64", ...}
        const Poco::JSON::Object::Ptr version = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Object::Ptr>();
        return platformNamed(version->getValue<std::string>("Os"), version->getValue<std::string>("Arch"), "");
    } catch (const Poco::Exception& e) {
        throw BackendError("engine version: not the answer of a Docker engine: " + e.displayText());
    }
}

void DockerApiBackend::abort() { engine_.abortCalls(); }

std::vector<LocalImage> DockerApiBackend::taggedImages(const std::string& label, const std::string& value) {
    Poco::URI target(kApi + "/images/json");
    target.addQueryParameter("filters", "{\"label\":[" + jsonString(label + "=" + value) + "]}");
    std::string answer;
    engine_.call({Poco::Net::HTTPRequest::HTTP_GET, target.getPathAndQuery(), {}, {}}, settings_.removeTimeout,
                 [&](const std::string& line) { answer += line; });
    std::vector<LocalImage> images;
    try {
        // [{"RepoTags": ["localhost:5443/api:1"], "Labels": {...}, ...}]
        const Poco::JSON::Array::Ptr list = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; list && i < list->size(); ++i) {
            const Poco::JSON::Object::Ptr item = list->getObject(static_cast<unsigned>(i));
            if (!item) continue;
            std::map<std::string, std::string> labels;
            if (const Poco::JSON::Object::Ptr found = item->getObject("Labels")) {
                for (const auto& [name, labelValue] : *found) labels[name] = labelValue.toString();
            }
            const Poco::JSON::Array::Ptr tags = item->getArray("RepoTags");
            for (std::size_t t = 0; tags && t < tags->size(); ++t) {
                const std::string reference = tags->getElement<std::string>(static_cast<unsigned>(t));
                if (reference.find("<none>") == std::string::npos) images.push_back({reference, labels});
            }
        }
    } catch (const Poco::Exception& e) {
        throw BackendError(FailureKind::Other, "the engine's list of images labelled " + label + " is not JSON: " +
                                                   e.displayText());
    }
    return images;
}

Platform DockerApiBackend::imagePlatform(const std::string& image) {
    const std::string step = "inspecting " + image;
    std::string answer;
    try {
        engine_.call({Poco::Net::HTTPRequest::HTTP_GET,
                      Poco::URI(kApi + "/images/" + image + "/json").getPathAndQuery(), {}, {}},
                     settings_.removeTimeout, [&](const std::string& line) { answer += line; });
    } catch (const BackendError& e) {
        throw BackendError(e.kind(), step + ": " + e.what());
    } catch (const std::exception& e) {
        throw BackendError(step + ": " + e.what());
    }
    try {
        // {"Os": "linux", "Architecture": "arm64", "Variant": "v8", ...}
        const Poco::JSON::Object::Ptr inspected = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Object::Ptr>();
        const std::string os = inspected->optValue<std::string>("Os", "");
        const std::string architecture = inspected->optValue<std::string>("Architecture", "");
        if (os.empty() || architecture.empty()) throw BackendError(step + ": the engine names no os and architecture");
        return platformNamed(os, architecture, inspected->optValue<std::string>("Variant", ""));
    } catch (const Poco::Exception& e) {
        throw BackendError(step + ": not the answer of a Docker engine: " + e.displayText());
    }
}

ImageOrigin DockerApiBackend::originOf(const std::string& id) {
    std::string answer;
    try {
        engine_.call({Poco::Net::HTTPRequest::HTTP_GET, Poco::URI(kApi + "/images/" + id + "/json").getPathAndQuery(),
                      {}, {}},
                     settings_.removeTimeout, [&](const std::string& line) { answer += line; });
        const Poco::JSON::Object::Ptr image = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Object::Ptr>();
        if (!image) return {};
        const Poco::JSON::Array::Ptr tags = image->getArray("RepoTags");
        return {image->optValue<std::string>("Parent", ""), tags && tags->size() > 0};
    } catch (const std::exception&) {
        return {};  // no such image (404), or no answer: not one the build made
    }
}

void DockerApiBackend::deleteImage(const std::string& reference, std::ostream& log) {
    std::string answer;
    engine_.call({Poco::Net::HTTPRequest::HTTP_DELETE, Poco::URI(kApi + "/images/" + reference).getPathAndQuery(),
                  {}, {}},
                 settings_.removeTimeout, [&](const std::string& line) { answer += line; });
    // [{"Untagged": "..."}, {"Deleted": "sha256:..."}], printed as `docker rmi` prints it.
    try {
        Poco::JSON::Array::Ptr items = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < items->size(); ++i) {
            Poco::JSON::Object::Ptr item = items->getObject(static_cast<unsigned>(i));
            if (!item) continue;
            for (const char* key : {"Untagged", "Deleted"}) {
                if (item->has(key)) log << key << ": " << item->getValue<std::string>(key) << "\n";
            }
        }
    } catch (const std::exception&) {
        log << answer << "\n";
    }
    log.flush();
}

}  // namespace slipway
