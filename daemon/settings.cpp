#include "daemon/settings.h"

#include <fstream>
#include <sstream>

#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include "backends/engine_client.h"
#include "daemon/image_name.h"

namespace slipway {
namespace {

using Poco::Util::AbstractConfiguration;

std::string trimmed(const std::string& s) { return Poco::trim(s); }

// The value of `key` without an inline "; comment", which Poco's INI reader keeps.
std::string raw(const AbstractConfiguration& config, const std::string& key) {
    std::string value = config.getRawString(key);
    for (std::size_t i = 1; i < value.size(); ++i) {
        if (value[i] == ';' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
            value.erase(i);
            break;
        }
    }
    return trimmed(value);
}

std::string readSecretFile(const std::string& key, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(key + ": cannot read " + path);
    std::stringstream content;
    content << in.rdbuf();
    std::string secret = trimmed(content.str());
    if (secret.empty()) throw ConfigError(key + ": " + path + " is empty");
    return secret;
}

long long integer(const AbstractConfiguration& config, const std::string& key, long long fallback,
                  long long min, long long max) {
    if (!config.hasProperty(key)) return fallback;
    const std::string text = raw(config, key);
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(text, value) || value < min || value > max) {
        throw ConfigError(key + ": expected an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got '" + text + "'");
    }
    return value;
}

bool boolean(const AbstractConfiguration& config, const std::string& key, bool fallback) {
    if (!config.hasProperty(key)) return fallback;
    const std::string text = Poco::toLower(raw(config, key));
    if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
    if (text == "false" || text == "no" || text == "off" || text == "0") return false;
    throw ConfigError(key + ": expected true or false, got '" + text + "'");
}

std::string string(const AbstractConfiguration& config, const std::string& key,
                   const std::string& fallback) {
    return config.hasProperty(key) ? raw(config, key) : fallback;
}

std::string required(const AbstractConfiguration& config, const std::string& key) {
    std::string value = string(config, key, "");
    if (value.empty()) throw ConfigError(key + ": required");
    return value;
}

std::vector<std::string> list(const std::string& text) {
    std::vector<std::string> items;
    Poco::StringTokenizer tokens(text, ", ",
                                 Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    for (const std::string& token : tokens) items.push_back(token);
    return items;
}

RepoSettings loadRepo(const AbstractConfiguration& config, const std::string& alias) {
    const std::string prefix = "repo." + alias + ".";
    RepoSettings repo;
    repo.alias = alias;
    repo.name = required(config, prefix + "name");
    if (repo.name.find('/') == std::string::npos) {
        throw ConfigError(prefix + "name: expected the GitHub full name owner/repository, got '" +
                          repo.name + "'");
    }
    repo.url = required(config, prefix + "url");
    repo.onPullRequest = false;
    for (const std::string& event : list(string(config, prefix + "events", "pull_request"))) {
        if (event == "pull_request") {
            repo.onPullRequest = true;
        } else if (event == "push") {
            repo.onPush = true;
        } else {
            throw ConfigError(prefix + "events: unknown event '" + event + "' (pull_request, push)");
        }
    }
    repo.branches = list(string(config, prefix + "branches", "main"));
    if (repo.branches.empty()) throw ConfigError(prefix + "branches: names no branch");
    if (config.hasProperty(prefix + "token_file")) {
        repo.token = readSecretFile(prefix + "token_file", required(config, prefix + "token_file"));
    }
    return repo;
}

std::pair<std::string, std::uint16_t> hostPort(const std::string& key, const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw ConfigError(key + ": expected host:port, got '" + text + "'");
    }
    unsigned port = 0;
    if (!Poco::NumberParser::tryParseUnsigned(text.substr(colon + 1), port) || port == 0 || port > 65535) {
        throw ConfigError(key + ": bad port in '" + text + "'");
    }
    return {text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

}  // namespace

const RepoSettings* Settings::repoByName(const std::string& fullName) const {
    for (const RepoSettings& repo : repos) {
        if (Poco::icompare(repo.name, fullName) == 0) return &repo;
    }
    return nullptr;
}

const RepoSettings* Settings::repoByAlias(const std::string& alias) const {
    for (const RepoSettings& repo : repos) {
        if (repo.alias == alias) return &repo;
    }
    return nullptr;
}

Settings loadSettings(const AbstractConfiguration& config) {
    Settings s;
    std::tie(s.listenHost, s.listenPort) =
        hostPort("server.listen", string(config, "server.listen", "127.0.0.1:8080"));

    s.webhookSecret = readSecretFile("webhook.secret_file", required(config, "webhook.secret_file"));
    s.maxBodyBytes = static_cast<std::size_t>(
        integer(config, "webhook.max_body_bytes", 25 * 1024 * 1024, 1024, 1LL << 30));

    s.registryHost = required(config, "registry.host");
    if (!isValidRegistryHost(s.registryHost)) {
        throw ConfigError("registry.host: expected host[:port], got '" + s.registryHost + "'");
    }

    s.registryUser = string(config, "registry.username", "");
    if (!s.registryUser.empty()) {
        s.registryPassword = readSecretFile("registry.password_file", required(config, "registry.password_file"));
    }

    s.backend = string(config, "builder.backend", "cli");
    if (s.backend != "cli" && s.backend != "api") {
        throw ConfigError("builder.backend: unknown backend '" + s.backend + "' (cli | api)");
    }
    s.dockerCommand = string(config, "builder.docker_command", "docker");
    s.dockerHost = string(config, "builder.docker_host", s.dockerHost);
    if (s.backend == "api") {
        // The CLI takes any DOCKER_HOST it knows; the API backend speaks only these.
        try {
            parseEngineEndpoint(s.dockerHost);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(std::string("builder.docker_host: ") + e.what());
        }
    }
    s.concurrency = static_cast<unsigned>(integer(config, "builder.concurrency", 2, 1, 64));
    s.keepImages = boolean(config, "builder.keep_images", false);
    s.fetchTimeout = std::chrono::seconds(integer(config, "builder.fetch_timeout", 600, 1, 86400));
    s.buildTimeout = std::chrono::seconds(integer(config, "builder.build_timeout", 3600, 1, 86400));
    s.pushTimeout = std::chrono::seconds(integer(config, "builder.push_timeout", 1800, 1, 86400));

    s.stateDir = string(config, "storage.state_dir", s.stateDir);
    if (s.stateDir.empty() || s.stateDir[0] != '/') {
        throw ConfigError("storage.state_dir: expected an absolute path, got '" + s.stateDir + "'");
    }

    if (config.hasProperty("api.token_file")) {
        s.apiToken = readSecretFile("api.token_file", required(config, "api.token_file"));
    }

    AbstractConfiguration::Keys aliases;
    config.keys("repo", aliases);
    for (const std::string& alias : aliases) s.repos.push_back(loadRepo(config, alias));
    return s;
}

}  // namespace slipway
