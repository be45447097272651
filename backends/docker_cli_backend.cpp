#include "backends/docker_cli_backend.h"

#include <map>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <vector>

#include "backends/docker_output.h"
#include "backends/process_runner.h"
#include "backends/transient_failure.h"

namespace slipway {
namespace {

// Writes everything to the build log and reads it as it passes.
class TeeBuffer : public std::streambuf {
public:
    TeeBuffer(std::ostream& log, DockerOutputScanner& scanner) : log_(log), scanner_(scanner) {}

protected:
    int overflow(int c) override {
        if (c == traits_type::eof()) return traits_type::not_eof(c);
        const char ch = static_cast<char>(c);
        log_.put(ch);
        scanner_.feed(&ch, 1);
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        log_.write(s, n);
        scanner_.feed(s, static_cast<std::size_t>(n));
        return n;
    }
    int sync() override {
        log_.flush();
        return 0;
    }

private:
    std::ostream& log_;
    DockerOutputScanner& scanner_;
};

// The platform in docker's `output`: the line "platform=<os>/<architecture>/<variant>"
// its --format printed (the output may hold warnings of the CLI's own too).
Platform platformLine(const std::string& step, const std::string& output) {
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        line = Poco::trim(line);
        if (line.rfind("platform=", 0) != 0) continue;
        const std::string text = line.substr(9);
        const std::string::size_type first = text.find('/');
        const std::string::size_type second = first == std::string::npos ? first : text.find('/', first + 1);
        const std::string os = text.substr(0, first);
        const std::string architecture =
            first == std::string::npos ? "" : text.substr(first + 1, second == std::string::npos ? second : second - first - 1);
        if (os.empty() || architecture.empty()) break;
        return platformNamed(os, architecture, second == std::string::npos ? "" : text.substr(second + 1));
    }
    throw BackendError(step + ": no os and architecture in docker's answer: " + output.substr(0, 300));
}

}  // namespace

DockerCliBackend::DockerCliBackend(DockerCliSettings settings) : settings_(std::move(settings)) {}

DockerOutputScanner DockerCliBackend::run(const std::string& step, const std::vector<std::string>& args,
                                          std::chrono::seconds timeout, std::ostream& log,
                                          const std::optional<std::string>& input) {
    std::map<std::string, std::string> env;
    if (!settings_.dockerHost.empty()) env["DOCKER_HOST"] = settings_.dockerHost;
    // The classic builder, whatever the CLI's default: what this backend reads
    // of the output (steps, image ids, where a step began) is its format.
    env["DOCKER_BUILDKIT"] = "0";
    if (!settings_.configDir.empty()) env["DOCKER_CONFIG"] = settings_.configDir;
    DockerOutputScanner output;
    TeeBuffer tee(log, output);
    std::ostream out(&tee);
    ProcessResult result;
    try {
        // A docker command would outlive a slipwayd that is killed (kill -9, the
        // OOM killer) and go on tagging, pushing or removing under the feet of
        // the rebuild the next start makes. setpriv --pdeathsig has the kernel
        // kill it with slipwayd. (The thread that starts it waits for it, so
        // only slipwayd's death sends the signal.)
        std::vector<std::string> argv = {"--pdeathsig", "KILL", "--", settings_.dockerCommand};
        argv.insert(argv.end(), args.begin(), args.end());
        result = runProcess("setpriv", argv, out, timeout, env, input, &children_);
    } catch (const std::exception& e) {
        throw BackendError(step + ": " + e.what());
    }
    out.flush();
    output.finish();
    if (result.timedOut) {
        throw BackendError(step + ": timed out after " + std::to_string(timeout.count()) + " s");
    }
    if (result.exitCode != 0) {
        if (!output.unreachableLine().empty()) {
            throw BackendError(FailureKind::EngineUnreachable, step + ": docker exited with status " +
                                                                   std::to_string(result.exitCode) + ": " +
                                                                   output.unreachableLine());
        }
        // Past the first step the last line may be a RUN step's own: it can
        // never make the failure an engine outage (retried), only what docker
        // says about a push or a vanished image.
        const std::string& reason = output.lastLine();
        FailureKind kind = failureKindOf(reason);
        if (kind == FailureKind::EngineUnreachable) kind = FailureKind::Other;
        throw BackendError(kind, step + ": docker exited with status " + std::to_string(result.exitCode) + ": " + reason);
    }
    return output;
}

void DockerCliBackend::build(const BuildRequest& request, std::ostream& log) {
    DockerOutputScanner output;
    TeeBuffer tee(log, output);
    std::ostream out(&tee);
    try {
        // Each value is an argument of its own after its option, so that one
        // starting with '-' stays a value.
        std::vector<std::string> args = {"build", "--force-rm", "--file", request.contextDir + "/" + request.dockerfile,
                                          "--tag", request.image};
        for (const auto& [name, value] : request.buildArgs) args.insert(args.end(), {"--build-arg", name + "=" + value});
        for (const auto& [name, value] : request.labels) args.insert(args.end(), {"--label", name + "=" + value});
        if (!request.platform.empty()) args.insert(args.end(), {"--platform", request.platform, "--pull"});
        args.insert(args.end(), {"--", request.contextDir});
        run("docker build of " + request.image, args, settings_.buildTimeout, out);
    } catch (const BackendError&) {
        out.flush();
        output.finish();
        const std::vector<std::string> made =
            imagesBuildMade(output.stepImages(), [&](const std::string& id) { return originOf(id); });
        for (const std::string& id : made) {
            try {
                // Without --force: an image another one still uses stays.
                run("docker rmi of intermediate image " + id, {"rmi", "--", id}, settings_.pushTimeout, log);
            } catch (const BackendError& e) {
                log << e.what() << "\n";
            }
        }
        throw;
    }
}

std::vector<LocalImage> DockerCliBackend::taggedImages(const std::string& label, const std::string& value) {
    std::ostringstream listed;
    run("docker images labelled " + label + "=" + value,
        {"images", "--filter", "label=" + label + "=" + value, "--format", "{{.Repository}}:{{.Tag}}"},
        settings_.pushTimeout, listed);
    std::vector<std::string> references;
    std::istringstream lines(listed.str());
    for (std::string line; std::getline(lines, line);) {
        line = Poco::trim(line);
        if (!line.empty() && line.find("<none>") == std::string::npos) references.push_back(line);
    }
    std::vector<LocalImage> images;
    if (references.empty()) return images;
    // One JSON object of labels per reference, in their order.
    std::vector<std::string> args = {"image", "inspect", "--format", "{{json .Config.Labels}}", "--"};
    args.insert(args.end(), references.begin(), references.end());
    std::ostringstream inspected;
    run("docker image inspect of the images labelled " + label, args, settings_.pushTimeout, inspected);
    std::istringstream answers(inspected.str());
    std::string answer;
    for (const std::string& reference : references) {
        if (!std::getline(answers, answer)) break;
        LocalImage image{reference, {}};
        try {
            const Poco::JSON::Object::Ptr labels = Poco::JSON::Parser().parse(answer).extract<Poco::JSON::Object::Ptr>();
            if (labels) {
                for (const auto& [name, labelValue] : *labels) image.labels[name] = labelValue.toString();
            }
        } catch (const Poco::Exception& e) {
            throw BackendError(FailureKind::Other, "docker image inspect of " + reference + ": not JSON: " + answer);
        }
        images.push_back(std::move(image));
    }
    return images;
}

ImageOrigin DockerCliBackend::originOf(const std::string& id) {
    std::ostringstream answer;
    try {
        run("docker image inspect of " + id, {"image", "inspect", "--format", "{{.Parent}} {{len .RepoTags}}", "--", id},
            settings_.pushTimeout, answer);
    } catch (const BackendError&) {
        return {};  // no such image: not one the build made
    }
    // "sha256:<parent> <tags>", the parent empty for a base image.
    const std::string line = Poco::trim(answer.str());
    const std::string::size_type space = line.rfind(' ');
    return {Poco::trim(line.substr(0, space == std::string::npos ? 0 : space)),
            space == std::string::npos || line.substr(space + 1) != "0"};
}

void DockerCliBackend::login(std::ostream& log) {
    const RegistryCredentials& registry = settings_.registry;
    // "--username=" keeps a name that starts with '-' a value; docker creates
    // configDir with mode 0700 when it is missing.
    run("docker login to " + registry.serverAddress + " as " + registry.username,
        {"login", "--username=" + registry.username, "--password-stdin", "--", registry.serverAddress},
        settings_.pushTimeout, log, registry.password);
}

std::string DockerCliBackend::push(const std::string& image, std::ostream& log) {
    if (!settings_.registry.username.empty()) login(log);
    const std::string digest =
        run("docker push of " + image, {"push", "--", image}, settings_.pushTimeout, log).digest();
    if (digest.empty()) throw BackendError("docker push of " + image + ": no digest in its output");
    return digest;
}

void DockerCliBackend::remove(const std::string& image, std::ostream& log) {
    run("docker rmi of " + image, {"rmi", "--", image}, settings_.pushTimeout, log);
}

Platform DockerCliBackend::imagePlatform(const std::string& image) {
    std::ostringstream answer;
    const std::string step = "docker image inspect of " + image;
    run(step, {"image", "inspect", "--format", "platform={{.Os}}/{{.Architecture}}/{{.Variant}}", "--", image},
        settings_.pushTimeout, answer);
    return platformLine(step, answer.str());
}

void DockerCliBackend::abort() { children_.killAll(); }

Platform DockerCliBackend::ping() {
    std::ostringstream answer;
    run("docker version", {"version", "--format", "platform={{.Server.Os}}/{{.Server.Arch}}/"}, std::chrono::seconds(5),
        answer);
    return platformLine("docker version", answer.str());
}

}  // namespace slipway
