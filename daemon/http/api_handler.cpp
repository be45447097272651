#include "daemon/http/api_handler.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <thread>
#include <typeinfo>

#include <Poco/DateTimeParser.h>
#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include "backends/image_name.h"
#include "daemon/github/webhook_event.h"
#include "daemon/http/http_response.h"
#include "daemon/http/record_json.h"
#include "storage/records.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

HttpError badParameter(const std::string& name, const std::string& reason) {
    return {HTTPResponse::HTTP_BAD_REQUEST, "bad parameter " + name, reason};
}

constexpr std::size_t kMaxParameterLength = 256;
constexpr int kMaxPageSize = 200;

// The query string, refusing parameters the endpoint does not know and values
// that are too long to be anything legitimate.
void readQuery(Poco::Net::HTTPServerRequest& request, const std::set<std::string>& known, Poco::Net::HTMLForm& query) {
    try {
        query.load(request);
    } catch (const Poco::Exception& e) {
        throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad query string", e.message()};
    }
    for (const auto& [name, value] : query) {
        if (!known.count(name)) throw badParameter(name, "unknown parameter");
        if (value.size() > kMaxParameterLength) throw badParameter(name, "longer than 256 characters");
    }
}

std::int64_t integerParameter(const Poco::Net::HTMLForm& query, const std::string& name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
    if (!query.has(name)) return fallback;
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(query.get(name), value) || value < min || value > max) {
        throw badParameter(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return value;
}

// An RFC 3339 time, converted to the form the store writes so that it compares as text.
std::string timeParameter(const Poco::Net::HTMLForm& query, const std::string& name) {
    if (!query.has(name)) return {};
    // Poco's parser is lenient; the shape and the calendar are checked first.
    static const std::regex rfc3339(
        "([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})");
    const std::string value = query.get(name);
    std::smatch m;
    Poco::DateTime parsed;
    int zone = 0;
    if (!std::regex_match(value, m, rfc3339) ||
        !Poco::DateTime::isValid(std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[5]),
                                 std::stoi(m[6])) ||
        !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, value, parsed, zone)) {
        throw badParameter(name, "must be an RFC 3339 time such as 2026-11-27T09:00:00Z");
    }
    parsed.makeUTC(zone);
    return formatRfc3339(parsed.timestamp());
}

std::optional<RunState> stateParameter(const Poco::Net::HTMLForm& query) {
    if (!query.has("state")) return std::nullopt;
    const std::optional<RunState> state = parseRunState(query.get("state"));
    if (!state) throw badParameter("state", "must be queued, running, succeeded or failed");
    return state;
}

std::string shaParameter(const Poco::Net::HTMLForm& query) {
    if (!query.has("sha")) return {};
    const std::string sha = Poco::toLower(query.get("sha"));
    static const std::regex hex("[0-9a-f]{1,40}");
    if (!std::regex_match(sha, hex)) throw badParameter("sha", "must be 1 to 40 hex characters");
    return sha;
}

std::string repoParameter(const Poco::Net::HTMLForm& query, const std::vector<RepoSettings>& repos) {
    if (!query.has("repo")) return {};
    const RepoSettings* repo = findRepo(repos, query.get("repo"));
    if (!repo) throw badParameter("repo", "no configured repository has that alias or name");
    return repo->alias;
}

// Where a build's log is read from, as it grows.
class LogSource {
public:
    virtual ~LogSource() = default;
    // Writes to `out` what the log gained since the last call.
    virtual void copyNew(std::ostream& out) = 0;
    // Whether the log will gain nothing more, the build being `build` now.
    virtual bool ended(const Build& build) = 0;
};

// A log file of this node's.
class FileLog final : public LogSource {
public:
    explicit FileLog(std::string path) : path_(std::move(path)) {}

    void copyNew(std::ostream& out) override {
        if (!file_.is_open()) file_.open(path_, std::ios::binary);
        if (!file_.is_open()) return;
        file_.clear();  // past EOF last time; the file may have grown since
        while (file_.read(buffer_, sizeof buffer_) || file_.gcount() > 0) out.write(buffer_, file_.gcount());
        out.flush();
    }
    // The runner flushes the file before it ends the build.
    bool ended(const Build& build) override { return isFinished(build.state); }

private:
    std::string path_;
    std::ifstream file_;
    char buffer_[16384];
};

// The chunks another node shipped of its build's log (LogShipper).
class StoredLog final : public LogSource {
public:
    StoredLog(Store& store, std::int64_t id) : store_(store), id_(id) {}

    void copyNew(std::ostream& out) override {
        for (const LogChunk& chunk : store_.logChunks(id_, seq_)) {
            out.write(chunk.data.data(), static_cast<std::streamsize>(chunk.data.size()));
            seq_ = chunk.seq;
            last_ = last_ || chunk.last;
        }
        out.flush();
    }
    // The node ships the end of the log just after it ends the build; one
    // that died first never does, and the build is ended by another node's
    // lease check: then what was shipped is all there will be.
    bool ended(const Build& build) override {
        if (last_) return true;
        if (!isFinished(build.state)) return false;
        const auto now = std::chrono::steady_clock::now();
        if (!finishedSeen_) finishedSeen_ = now;
        return now - *finishedSeen_ > std::chrono::seconds(5);
    }

private:
    Store& store_;
    std::int64_t id_;
    int seq_ = 0;
    bool last_ = false;
    std::optional<std::chrono::steady_clock::time_point> finishedSeen_;
};

}  // namespace

ApiHandler::ApiHandler(const ApiSettings& settings, Store& store) : settings_(settings), store_(store) {}

void ApiHandler::refuseQuery(Poco::Net::HTTPServerRequest& request) {
    Poco::Net::HTMLForm query;
    readQuery(request, {}, query);
}

void ApiHandler::listBuilds(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    Poco::Net::HTMLForm query;
    readQuery(request, {"repo", "service", "node", "state", "sha", "since", "until", "limit", "before"}, query);
    BuildQuery q;
    q.repo = repoParameter(query, settings_.repos);
    if (query.has("service")) {
        q.service = query.get("service");
        if (!isValidRepositoryName(q.service)) throw badParameter("service", "is not a service name");
    }
    if (query.has("node")) {
        q.node = query.get("node");
        if (!validNodeName(q.node)) throw badParameter("node", "is not a node name");
    }
    q.state = stateParameter(query);
    q.shaPrefix = shaParameter(query);
    q.since = timeParameter(query, "since");
    q.until = timeParameter(query, "until");
    q.limit = static_cast<int>(integerParameter(query, "limit", 50, 1, kMaxPageSize));
    q.before = integerParameter(query, "before", 0, 1, INT64_MAX);

    const std::vector<Build> builds = store_.findBuilds(q);
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const Build& b : builds) items->add(buildToJson(b));
    Poco::JSON::Object body;
    body.set("builds", items);
    // A full page may have more behind it; the cursor is the last id shown.
    if (static_cast<int>(builds.size()) == q.limit) {
        body.set("next", builds.back().id);
    } else {
        body.set("next", Poco::Dynamic::Var());
    }
    sendJson(response, HTTPResponse::HTTP_OK, body);
}

void ApiHandler::showBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    const std::optional<Build> build = store_.build(id);
    if (!build) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no such build", std::to_string(id)};
    Poco::JSON::Object::Ptr body = buildToJson(*build);
    const std::optional<CommitStatus> status = store_.commitStatusOf(id);
    body->set("commit_status", status ? Poco::Dynamic::Var(commitStatusToJson(*status)) : Poco::Dynamic::Var());
    sendJson(response, HTTPResponse::HTTP_OK, *body);
}

void ApiHandler::sendLog(std::int64_t id, Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    Poco::Net::HTMLForm query;
    readQuery(request, {"follow"}, query);
    const bool follow = integerParameter(query, "follow", 0, 0, 1) == 1;
    std::optional<Build> build = store_.build(id);
    if (!build) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no such build", std::to_string(id)};
    // Ended without running (refused for its images.json entry, or still
    // queued when slipwayd stopped): no log was ever written.
    if (isFinished(build->state) && build->startedAt.empty()) {
        throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no log",
                         "build " + std::to_string(id) + " never ran: " + build->error};
    }
    // Followers are few so that webhooks always find a server thread.
    static std::atomic<unsigned> followers{0};
    struct Follower {
        bool counted;
        explicit Follower(bool follow) : counted(follow) {
            if (counted) ++followers;
        }
        ~Follower() {
            if (counted) --followers;
        }
    } follower(follow);
    if (follow && followers > settings_.maxFollowers) {
        response.set("Retry-After", "10");
        throw HttpError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "too many followed logs",
                         std::to_string(settings_.maxFollowers) + " are being followed; try again, or read without follow"};
    }

    // This node's own builds' logs are its files; another node's, the chunks it shipped.
    std::unique_ptr<LogSource> log;
    if (settings_.sharedLogs && !build->node.empty() && build->node != settings_.node) {
        log = std::make_unique<StoredLog>(store_, id);
    } else {
        log = std::make_unique<FileLog>(settings_.logPath(id));
    }
    response.setContentType("text/plain; charset=utf-8");
    response.setChunkedTransferEncoding(true);
    std::ostream& out = response.send();
    log->copyNew(out);
    // Following ends when the build has ended and everything it wrote was sent,
    // or when the client goes away (the write fails).
    while (follow && out && !log->ended(*build) && !settings_.stopping()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        build = store_.build(id);
        log->copyNew(out);
        if (!build) break;
    }
    if (follow) log->copyNew(out);
}

void ApiHandler::answerQueued(std::int64_t queued, std::int64_t pending, Poco::Net::HTTPServerResponse& response) {
    Poco::JSON::Object body;
    if (queued != 0) {
        settings_.jobsQueued();
        body.set("outcome", "queued");
        body.set("job", queued);
        sendJson(response, HTTPResponse::HTTP_ACCEPTED, body);
        return;
    }
    body.set("outcome", "pending");
    body.set("job", pending);
    body.set("detail", "that commit is already queued or running");
    sendJson(response, HTTPResponse::HTTP_OK, body);
}

void ApiHandler::queueBuild(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    // The front door read it whole, and refused one over kMaxRequestBody.
    const std::string text(std::istreambuf_iterator<char>(request.stream()), {});
    const std::string expected = R"(expected {"repo": "...", "sha": "..."})";
    Poco::Dynamic::Var parsed;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(8);
        parsed = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad body", "not valid JSON (" + e.message() + "); " + expected};
    }
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad body", "not a JSON object; " + expected};
    }
    const Poco::JSON::Object::Ptr body = parsed.extract<Poco::JSON::Object::Ptr>();
    // A field it would ignore is refused: {"service": "api"} would build every service.
    for (const std::string& name : body->getNames()) {
        if (name != "repo" && name != "sha") {
            throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad body",
                             "unknown field \"" + name + "\": a build by hand takes \"repo\" and \"sha\" and builds every "
                             "service of that commit; " + expected};
        }
    }
    auto field = [&](const std::string& name) {
        if (!body->has(name) || !body->get(name).isString()) {
            throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad body", "\"" + name + "\" must be a string"};
        }
        return body->getValue<std::string>(name);
    };
    const std::string repoName = field("repo");
    const std::string sha = Poco::toLower(field("sha"));
    if (!isCommitSha(sha)) throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "bad body", "\"sha\" must be 40 hex characters"};
    const RepoSettings* repo = findRepo(settings_.repos, repoName);
    if (!repo) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "repository not configured", repoName};

    std::int64_t pending = 0;
    const std::int64_t queued = store_.queueJob({repo->alias, sha, "", 1}, pending);
    answerQueued(queued, pending, response);
}

void ApiHandler::retryBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    const std::optional<Build> build = store_.build(id);
    if (!build) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no such build", std::to_string(id)};
    if (build->state != RunState::Failed) {
        throw HttpError{HTTPResponse::HTTP_CONFLICT, "not failed", "build " + std::to_string(id) + " is " + toString(build->state)};
    }
    std::int64_t pending = 0;
    const std::int64_t queued =
        store_.queueJob({build->repo, build->sha, build->service, build->attempt + 1}, pending);
    answerQueued(queued, pending, response);
}

void ApiHandler::showJob(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    const std::optional<Job> job = store_.job(id);
    if (!job) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no such job", std::to_string(id)};
    Poco::JSON::Object::Ptr body = jobToJson(*job);
    Poco::JSON::Array::Ptr builds = new Poco::JSON::Array;
    for (const Build& b : store_.buildsOfJob(id)) builds->add(buildToJson(b));
    body->set("builds", builds);
    sendJson(response, HTTPResponse::HTTP_OK, *body);
}

void ApiHandler::listDeliveries(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    Poco::Net::HTMLForm query;
    readQuery(request, {"limit"}, query);
    const auto limit = static_cast<int>(integerParameter(query, "limit", 50, 1, 500));
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const Delivery& d : store_.recentDeliveries(limit)) items->add(deliveryToJson(d));
    Poco::JSON::Object body;
    body.set("deliveries", items);
    sendJson(response, HTTPResponse::HTTP_OK, body);
}

}  // namespace slipway
