#include "daemon/config/settings.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <libpq-fe.h>

#include <Poco/Environment.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>

#include "backends/engine_client.h"
#include "backends/image_name.h"

namespace slipway {
namespace {

using Poco::Util::AbstractConfiguration;

// Every key slipwayd reads, by section; "repo.*" stands for each [repo.<alias>].
// A key read below but missing here is a programming error (see listed()).
const std::map<std::string, std::set<std::string>> kKnownKeys = {
    {"server",
     {"listen", "request_timeout", "header_timeout", "idle_timeout", "max_connections", "max_buffered_bytes",
      "tls_certificate", "tls_key", "public_url"}},
    {"webhook", {"secret_file", "max_body_bytes"}},
    {"registry", {"host", "username", "password_file"}},
    {"builder",
     {"backend", "docker_command", "docker_host", "concurrency", "keep_images", "republish", "fetch_timeout",
      "build_timeout", "push_timeout", "max_attempts", "stop_timeout", "max_log_bytes", "retries", "retry_delay_ms",
      "platforms"}},
    {"storage", {"state_dir", "keep_days", "keep_builds", "backend", "url", "password_file"}},
    {"cluster", {"node", "lease"}},
    {"api", {"token_file"}},
    {"github", {"api_url", "ca_file", "context_prefix"}},
    {"repo.*", {"name", "url", "events", "branches", "token_file", "commit_statuses", "submodules"}},
};

std::string joined(const std::set<std::string>& names, const std::string& separator) {
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : separator) + name;
    return text;
}

// Throws std::logic_error when `key` is read but not listed in kKnownKeys,
// which would make refuseUnknownKeys() reject a key the loader uses.
const std::string& listed(const std::string& key) {
    const auto dot = key.rfind('.');
    std::string section = key.substr(0, dot);
    if (section.rfind("repo.", 0) == 0) section = "repo.*";
    const auto known = kKnownKeys.find(section);
    if (dot == std::string::npos || known == kKnownKeys.end() || !known->second.count(key.substr(dot + 1))) {
        throw std::logic_error("settings: " + key + " is read but not listed in kKnownKeys");
    }
    return key;
}

// Names every key in a section slipwayd knows that it does not read, and every
// section it does not know: a typo would otherwise fall back to a default.
void refuseUnknownKeys(const AbstractConfiguration& config) {
    std::vector<std::string> problems;
    const auto check = [&](const std::string& section, const std::string& pattern) {
        const std::set<std::string>& known = kKnownKeys.at(pattern);
        AbstractConfiguration::Keys names;
        config.keys(section, names);
        for (const std::string& name : names) {
            if (!known.count(name)) {
                problems.push_back(section + "." + name + ": unknown key ([" + section + "] knows " +
                                   joined(known, ", ") + ")");
            }
        }
    };
    AbstractConfiguration::Keys sections;
    config.keys(sections);
    for (const std::string& section : sections) {
        if (section == "repo") {
            AbstractConfiguration::Keys aliases;
            config.keys("repo", aliases);
            for (const std::string& alias : aliases) check("repo." + alias, "repo.*");
        } else if (kKnownKeys.count(section)) {
            check(section, section);
        } else if (config.hasProperty(section)) {
            problems.push_back(section + ": a key outside any section");
        } else {
            std::set<std::string> names;
            for (const auto& [name, keys] : kKnownKeys) names.insert(name == "repo.*" ? "repo.<alias>" : name);
            problems.push_back("[" + section + "]: unknown section (slipwayd reads " + joined(names, ", ") + ")");
        }
    }
    if (problems.empty()) return;
    std::string message;
    for (const std::string& problem : problems) message += (message.empty() ? "" : "; ") + problem;
    throw ConfigError(message);
}

std::string trimmed(const std::string& s) { return Poco::trim(s); }

bool has(const AbstractConfiguration& config, const std::string& key) { return config.hasProperty(listed(key)); }

// The value of `key` without an inline "; comment", which Poco's INI reader keeps.
std::string raw(const AbstractConfiguration& config, const std::string& key) {
    std::string value = config.getRawString(listed(key));
    for (std::size_t i = 1; i < value.size(); ++i) {
        if (value[i] == ';' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
            value.erase(i);
            break;
        }
    }
    return trimmed(value);
}

// Where the file that `key` names is: an absolute path as it is; a bare name is
// a credential, the file of that name in `credentialsDir` (see loadSettings).
std::string filePath(const std::string& key, const std::string& value, const std::string& credentialsDir) {
    if (value[0] == '/') return value;
    if (value.find('/') != std::string::npos) {
        throw ConfigError(key + ": expected an absolute path or a credential name without '/', got '" + value + "'");
    }
    if (credentialsDir.empty()) {
        throw ConfigError(key + ": '" + value +
                          "' is a credential name, but $CREDENTIALS_DIRECTORY is not set (systemd's LoadCredential= "
                          "sets it); give an absolute path otherwise");
    }
    return credentialsDir + "/" + value;
}

void requireReadable(const std::string& key, const std::string& path) {
    if (!std::ifstream(path, std::ios::binary)) throw ConfigError(key + ": cannot read " + path);
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
    if (!has(config, key)) return fallback;
    const std::string text = raw(config, key);
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(text, value) || value < min || value > max) {
        throw ConfigError(key + ": expected an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got '" + text + "'");
    }
    return value;
}

bool boolean(const AbstractConfiguration& config, const std::string& key, bool fallback) {
    if (!has(config, key)) return fallback;
    const std::string text = Poco::toLower(raw(config, key));
    if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
    if (text == "false" || text == "no" || text == "off" || text == "0") return false;
    throw ConfigError(key + ": expected true or false, got '" + text + "'");
}

std::string string(const AbstractConfiguration& config, const std::string& key,
                   const std::string& fallback) {
    return has(config, key) ? raw(config, key) : fallback;
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

// The secret in the file that `key` names (see filePath).
std::string secret(const AbstractConfiguration& config, const std::string& key, const std::string& credentialsDir) {
    return readSecretFile(key, filePath(key, required(config, key), credentialsDir));
}

RepoSettings loadRepo(const AbstractConfiguration& config, const std::string& alias,
                      const std::string& credentialsDir) {
    const std::string prefix = "repo." + alias + ".";
    RepoSettings repo;
    repo.alias = alias;
    repo.name = required(config, prefix + "name");
    const auto slash = repo.name.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == repo.name.size() ||
        repo.name.find('/', slash + 1) != std::string::npos) {
        throw ConfigError(prefix + "name: expected the GitHub full name owner/repository, got '" +
                          repo.name + "'");
    }
    repo.url = required(config, prefix + "url");
    // libgit2's ssh transport reads its socket past slipway's fetch deadline
    // (fetch_deadline.h), and would need keys slipway does not manage.
    const std::string urlScheme = Poco::toLower(repo.url.substr(0, repo.url.find("://")));
    if (repo.url.find("://") == std::string::npos ||
        (urlScheme != "https" && urlScheme != "http" && urlScheme != "git" && urlScheme != "file")) {
        throw ConfigError(prefix + "url: expected an https:// (or http://, git://, file:// for a local path) URL, got '" +
                          repo.url + "'; ssh is not supported: use the HTTPS URL with " + prefix + "token_file");
    }
    // A token in the URL would reach errors and logs; token_file keeps it secret.
    const auto scheme = repo.url.find("://");
    const auto at = repo.url.find('@');
    if (scheme != std::string::npos && at != std::string::npos && at < repo.url.find('/', scheme + 3)) {
        throw ConfigError(prefix + "url: must not carry credentials (user:token@); put the token in " + prefix +
                          "token_file");
    }
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
    if (!repo.onPullRequest && !repo.onPush) throw ConfigError(prefix + "events: names no event (pull_request, push)");
    repo.branches = list(string(config, prefix + "branches", "main"));
    if (repo.branches.empty()) throw ConfigError(prefix + "branches: names no branch");
    if (has(config, prefix + "token_file")) repo.token = secret(config, prefix + "token_file", credentialsDir);
    repo.submodules = boolean(config, prefix + "submodules", false);
    repo.commitStatuses = boolean(config, prefix + "commit_statuses", !repo.token.empty());
    if (repo.commitStatuses && repo.token.empty()) {
        throw ConfigError(prefix + "commit_statuses: needs " + prefix +
                          "token_file, a token that may write commit statuses");
    }
    return repo;
}

// An absolute http(s) URL with a host and nothing after its path; `httpsOnly`
// when a token travels to it.
std::string baseUrl(const AbstractConfiguration& config, const std::string& key, const std::string& fallback,
                    bool httpsOnly) {
    const std::string text = string(config, key, fallback);
    // A URL with credentials in it is not repeated in the error.
    const bool credentials = text.find('@') != std::string::npos;
    std::string problem;
    try {
        const Poco::URI uri(text);
        if (!uri.getUserInfo().empty()) {
            problem = "must not carry credentials (user:password@)";
        } else if (uri.getScheme() != "https" && (httpsOnly || uri.getScheme() != "http")) {
            problem = httpsOnly ? "expected an https:// URL (the token travels to it)" : "expected an http(s):// URL";
        } else if (uri.getHost().empty()) {
            problem = "the URL has no host";
        } else if (!uri.getRawQuery().empty() || !uri.getFragment().empty()) {
            problem = "expected no query or fragment";
        }
    } catch (const Poco::SyntaxException&) {
        problem = "not a URL";
    }
    if (!problem.empty()) throw ConfigError(key + ": " + problem + (credentials ? "" : ", got '" + text + "'"));
    std::string url = text;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
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

const RepoSettings* repoByName(const std::vector<RepoSettings>& repos, const std::string& fullName) {
    for (const RepoSettings& repo : repos) {
        if (Poco::icompare(repo.name, fullName) == 0) return &repo;
    }
    return nullptr;
}

const RepoSettings* repoByAlias(const std::vector<RepoSettings>& repos, const std::string& alias) {
    for (const RepoSettings& repo : repos) {
        if (repo.alias == alias) return &repo;
    }
    return nullptr;
}

const RepoSettings* findRepo(const std::vector<RepoSettings>& repos, const std::string& aliasOrName) {
    if (const RepoSettings* repo = repoByAlias(repos, aliasOrName)) return repo;
    return repoByName(repos, aliasOrName);
}

Settings loadSettings(const AbstractConfiguration& config, const std::string& credentialsDir) {
    refuseUnknownKeys(config);
    Settings s;
    std::tie(s.listenHost, s.listenPort) =
        hostPort("server.listen", string(config, "server.listen", "127.0.0.1:8080"));
    s.requestTimeout = std::chrono::seconds(integer(config, "server.request_timeout", 10, 1, 3600));
    // Unset, the same as the body's: a deployment that shortened one shortened both.
    s.headerTimeout =
        std::chrono::seconds(integer(config, "server.header_timeout", s.requestTimeout.count(), 1, 3600));
    s.idleTimeout = std::chrono::seconds(integer(config, "server.idle_timeout", 60, 1, 86400));
    s.maxConnections = static_cast<std::size_t>(integer(config, "server.max_connections", 8192, 16, 1000000));
    const bool certificate = has(config, "server.tls_certificate");
    if (certificate != has(config, "server.tls_key")) {
        throw ConfigError(certificate ? "server.tls_key: required with server.tls_certificate (HTTPS needs both)"
                                      : "server.tls_certificate: required with server.tls_key (HTTPS needs both)");
    }
    if (certificate) {
        s.tlsCertificate = filePath("server.tls_certificate", required(config, "server.tls_certificate"), credentialsDir);
        requireReadable("server.tls_certificate", s.tlsCertificate);
        s.tlsKey = filePath("server.tls_key", required(config, "server.tls_key"), credentialsDir);
        requireReadable("server.tls_key", s.tlsKey);
    }

    if (has(config, "server.public_url")) s.publicUrl = baseUrl(config, "server.public_url", "", false);

    s.github.apiUrl = baseUrl(config, "github.api_url", s.github.apiUrl, true);
    if (has(config, "github.ca_file")) {
        s.github.caFile = filePath("github.ca_file", required(config, "github.ca_file"), credentialsDir);
        requireReadable("github.ca_file", s.github.caFile);
    }
    s.github.contextPrefix = string(config, "github.context_prefix", s.github.contextPrefix);
    if (s.github.contextPrefix.empty() || s.github.contextPrefix.size() > 100) {
        throw ConfigError("github.context_prefix: expected 1 to 100 characters, got '" + s.github.contextPrefix + "'");
    }

    s.webhookSecret = secret(config, "webhook.secret_file", credentialsDir);
    s.maxBodyBytes = static_cast<std::size_t>(
        integer(config, "webhook.max_body_bytes", 25 * 1024 * 1024, 1024, 1LL << 30));
    s.maxBufferedBytes =
        static_cast<std::size_t>(integer(config, "server.max_buffered_bytes", 64LL << 20, 1LL << 20, 1LL << 34));
    if (s.maxBufferedBytes < s.maxBodyBytes) {
        throw ConfigError("server.max_buffered_bytes: " + std::to_string(s.maxBufferedBytes) +
                          " cannot hold one webhook of webhook.max_body_bytes (" + std::to_string(s.maxBodyBytes) +
                          "): raise it, or lower webhook.max_body_bytes");
    }

    s.registryHost = required(config, "registry.host");
    if (!isValidRegistryHost(s.registryHost)) {
        throw ConfigError("registry.host: expected host[:port], got '" + s.registryHost + "'");
    }
    if (!dockerReadsAsRegistry(s.registryHost)) {
        throw ConfigError("registry.host: '" + s.registryHost +
                          "' has no '.' or ':' and is not localhost, so Docker would read it as a Docker Hub "
                          "namespace and push there (with the registry's credentials); give its domain or a port, "
                          "such as '" + s.registryHost + ".example.com' or '" + s.registryHost + ":5000'");
    }

    s.registryUser = string(config, "registry.username", "");
    if (!s.registryUser.empty()) {
        s.registryPassword = secret(config, "registry.password_file", credentialsDir);
    } else if (has(config, "registry.password_file")) {
        // Pushing anonymously with a password configured would hide the mistake until a push is refused.
        throw ConfigError("registry.username: required with registry.password_file");
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
    const std::string republish = string(config, "builder.republish", "refuse");
    if (republish != "refuse" && republish != "overwrite") {
        throw ConfigError("builder.republish: unknown value '" + republish + "' (refuse | overwrite)");
    }
    s.republish = republish == "overwrite" ? Republish::Overwrite : Republish::Refuse;
    s.fetchTimeout = std::chrono::seconds(integer(config, "builder.fetch_timeout", 600, 1, 86400));
    s.buildTimeout = std::chrono::seconds(integer(config, "builder.build_timeout", 3600, 1, 86400));
    s.pushTimeout = std::chrono::seconds(integer(config, "builder.push_timeout", 1800, 1, 86400));
    s.maxAttempts = static_cast<int>(integer(config, "builder.max_attempts", 3, 1, 1000));
    s.stopTimeout = std::chrono::seconds(integer(config, "builder.stop_timeout", 240, 0, 86400));
    s.maxLogBytes = static_cast<std::size_t>(integer(config, "builder.max_log_bytes", 10 * 1024 * 1024, 4096, 1LL << 34));
    s.retries = static_cast<int>(integer(config, "builder.retries", 4, 0, 100));
    s.retryDelay = std::chrono::milliseconds(integer(config, "builder.retry_delay_ms", 2000, 1, 600000));
    try {
        s.platforms = parsePlatforms(list(string(config, "builder.platforms", "")));
    } catch (const PlatformError& e) {
        throw ConfigError(std::string("builder.platforms: ") + e.what());
    }

    s.stateDir = string(config, "storage.state_dir", s.stateDir);
    s.keepDays = static_cast<int>(integer(config, "storage.keep_days", s.keepDays, 0, 36500));
    s.keepBuilds = integer(config, "storage.keep_builds", s.keepBuilds, 0, 100000000);
    if (s.stateDir.empty() || s.stateDir[0] != '/') {
        throw ConfigError("storage.state_dir: expected an absolute path, got '" + s.stateDir + "'");
    }
    const std::string storage = string(config, "storage.backend", "sqlite");
    if (storage != "sqlite" && storage != "postgres") {
        throw ConfigError("storage.backend: unknown backend '" + storage + "' (sqlite | postgres)");
    }
    s.storage = storage == "postgres" ? StorageBackend::Postgres : StorageBackend::Sqlite;
    if (s.storage == StorageBackend::Postgres) {
        s.postgresUrl = required(config, "storage.url");
        const std::string problem = postgresUrlProblem(s.postgresUrl);
        if (!problem.empty()) throw ConfigError("storage.url: " + problem);
        if (has(config, "storage.password_file")) {
            s.postgresPassword = secret(config, "storage.password_file", credentialsDir);
        }
    } else {
        for (const char* key : {"storage.url", "storage.password_file"}) {
            if (has(config, key)) throw ConfigError(std::string(key) + ": only read with storage.backend = postgres");
        }
    }
    s.node = string(config, "cluster.node", Poco::Environment::nodeName());
    if (!validNodeName(s.node)) {
        throw ConfigError("cluster.node: expected 1 to 63 letters, digits, '.', '-' or '_', got '" + s.node + "'");
    }
    s.lease = std::chrono::seconds(integer(config, "cluster.lease", 60, 3, 3600));

    if (has(config, "api.token_file")) s.apiToken = secret(config, "api.token_file", credentialsDir);

    AbstractConfiguration::Keys aliases;
    config.keys("repo", aliases);
    for (const std::string& alias : aliases) {
        RepoSettings repo = loadRepo(config, alias, credentialsDir);
        // A webhook names the repository, and must lead to one section.
        if (const RepoSettings* other = repoByName(s.repos, repo.name)) {
            throw ConfigError("repo." + alias + ".name: " + repo.name + " is already repo." + other->alias + ".name");
        }
        s.repos.push_back(std::move(repo));
    }
    return s;
}

std::string postgresUrlProblem(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
        // libpq's own message quotes the text it could not read, which may
        // be a password: it is not passed on.
        PQfreemem(error);
        return "not a libpq connection string (key=value pairs) or URI (postgresql://...)";
    }
    std::string problem;
    for (PQconninfoOption* option = options; option->keyword; ++option) {
        if (option->val && std::string(option->keyword) == "password") {
            problem = "holds a password; put it in storage.password_file (or a credential) instead";
        }
    }
    PQconninfoFree(options);
    return problem;
}

bool validNodeName(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (const char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
    }
    return true;
}

}  // namespace slipway
