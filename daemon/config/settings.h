#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include "backends/platform.h"

namespace slipway {

// A configuration that cannot be used; what() names the key and the reason.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// builder.republish: what a merge may do to a tag already published from
// other content (or by something other than slipway).
enum class Republish {
    Refuse,     // fail that service, saying to bump its version (the default)
    Overwrite,  // build and push over it, without asking the registry first
};

// One [repo.<alias>] section.
struct RepoSettings {
    std::string alias;
    std::string name;  // GitHub full_name, owner/repo
    std::string url;   // where slipway fetches from; never taken from a payload
    bool onPullRequest = true;
    bool onPush = false;
    std::vector<std::string> branches;
    std::string token;  // read from token_file; empty for public repositories
    // Whether its builds are reported to GitHub as commit statuses: with a
    // token unless commit_statuses = false.
    bool commitStatuses = false;
    // Whether submodules are fetched and checked out (recursively, from the
    // repository's own host, with its token); otherwise each is an empty folder.
    bool submodules = false;
};

// [github]: where the commit statuses go.
struct GitHubSettings {
    std::string apiUrl = "https://api.github.com";  // GitHub Enterprise Server: https://HOST/api/v3
    std::string caFile;                             // trusted besides the system's CAs; empty: those alone
    std::string contextPrefix = "slipway";          // a build's context is <prefix>/<service>
};

// Where the store is: a SQLite file in the state folder (one node), or a
// PostgreSQL database that several nodes share.
enum class StorageBackend { Sqlite, Postgres };

struct Settings {
    std::string listenHost = "127.0.0.1";
    std::uint16_t listenPort = 8080;
    // PEM files for HTTPS; both empty: plain HTTP. Checked readable, not parsed (see tls_context.h).
    std::string tlsCertificate;
    std::string tlsKey;
    std::chrono::seconds requestTimeout{10};  // a request's body, from the end of its header block
    std::chrono::seconds headerTimeout{10};   // a request's header block, from its first byte (or the accept);
                                              // unset: request_timeout
    std::chrono::seconds idleTimeout{60};     // a kept-alive connection between requests
    std::size_t maxConnections = 8192;        // open at once; beyond, the longest idle is closed
    std::size_t maxBufferedBytes = 64u << 20;  // of requests still arriving, over every connection
    // How people reach this slipwayd (https://ci.example.com): a commit
    // status links to its build's log there. Empty: statuses carry no link.
    std::string publicUrl;
    std::string webhookSecret;  // read from webhook.secret_file, never logged
    std::size_t maxBodyBytes = 25 * 1024 * 1024;
    std::string registryHost;
    std::string registryUser;      // empty: push anonymously
    std::string registryPassword;  // read from registry.password_file, never logged
    std::string backend = "cli";  // cli | api
    std::string dockerCommand = "docker";
    std::string dockerHost = "unix:///var/run/docker.sock";
    unsigned concurrency = 2;
    bool keepImages = false;
    Republish republish = Republish::Refuse;
    // The platforms of an images.json entry that names none; empty: the engine's own.
    std::vector<Platform> platforms;
    std::chrono::seconds fetchTimeout{600};
    std::chrono::seconds buildTimeout{3600};
    std::chrono::seconds pushTimeout{1800};
    int maxAttempts = 3;                  // runs of a job a restart may interrupt before it fails
    std::chrono::seconds stopTimeout{240};  // how long SIGTERM waits for running builds
    std::size_t maxLogBytes = 10 * 1024 * 1024;
    int retries = 4;                          // extra tries of a step that failed for a transient reason
    std::chrono::milliseconds retryDelay{2000};  // the first wait; doubled each time, with jitter
    std::string stateDir = "/var/lib/slipway";
    // Retention: builds (their rows and logs) that ended more than keepDays
    // days ago, or beyond the newest keepBuilds, are removed daily; 0 turns
    // either rule off. The newest build of each service always stays.
    int keepDays = 90;
    std::int64_t keepBuilds = 0;
    StorageBackend storage = StorageBackend::Sqlite;
    std::string postgresUrl;       // storage.url: a libpq connection string or URI, with no password
    std::string postgresPassword;  // read from storage.password_file, never logged
    // This node's name ([cluster] node, the host name unless set), on every
    // job and build it runs, and how long its claim of a job holds unrenewed.
    std::string node;
    std::chrono::seconds lease{60};
    std::string apiToken;  // read from api.token_file; empty leaves /api open
    std::vector<RepoSettings> repos;
    GitHubSettings github;
};

// What is wrong with storage.url as a libpq connection string (a password in
// it, above all: the configuration file is no place for one); empty when
// nothing is.
std::string postgresUrlProblem(const std::string& url);

// Whether `name` can name a node: 1 to 63 letters, digits, '.', '-', '_'.
bool validNodeName(const std::string& name);

// The one place a configured repository is looked up; each returns null when
// none matches. By GitHub full name, owner/repo (case-insensitive, as GitHub
// treats it): what a webhook names.
const RepoSettings* repoByName(const std::vector<RepoSettings>& repos, const std::string& fullName);
// By the alias of its [repo.<alias>] section: what jobs and builds record.
const RepoSettings* repoByAlias(const std::vector<RepoSettings>& repos, const std::string& alias);
// By alias, else by full name: what a person types (the API's repo parameter).
const RepoSettings* findRepo(const std::vector<RepoSettings>& repos, const std::string& aliasOrName);

// Reads and validates every key slipwayd uses; throws ConfigError naming the
// first bad one. A key slipwayd does not know in one of its sections, or a
// section it does not know, is an error too, so that a typo is not silently
// replaced by a default.
//
// A file key (webhook.secret_file, api.token_file, registry.password_file,
// repo.*.token_file, server.tls_certificate, server.tls_key) given as a bare
// name rather than an absolute path names a credential: the file of that name
// in `credentialsDir`, which is systemd's $CREDENTIALS_DIRECTORY (filled by
// LoadCredential=). A bare name with no `credentialsDir` is an error.
Settings loadSettings(const Poco::Util::AbstractConfiguration& config, const std::string& credentialsDir = "");

}  // namespace slipway
