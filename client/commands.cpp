#include "client/commands.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "client/api_client.h"
#include "client/table.h"

namespace slipway::client {
namespace {

const char* const kUsageText =
    "usage: slipway [--url URL] [--token-file FILE] [--timeout SECONDS] COMMAND\n"
    "\n"
    "commands:\n"
    "  builds [--repo R] [--service S] [--state STATE] [--sha PREFIX] [--limit N]   recent builds, newest first\n"
    "  log ID [-f]        a build's log; -f follows it until the build ends\n"
    "  build REPO SHA     queue a build of commit SHA of repository REPO (alias or owner/name)\n"
    "  retry ID           build a failed build's service again\n"
    "\n"
    "URL defaults to $SLIPWAY_URL or http://127.0.0.1:8080; the API token is read from\n"
    "FILE or $SLIPWAY_TOKEN_FILE. slipwayd must connect and answer within SECONDS\n"
    "(default 30; a followed log may be silent for as long as its build is).\n"
    "Exit status: 0 ok, 1 slipwayd refused, 2 usage, 3 slipwayd unreachable or\n"
    "too slow, 4 the followed build failed.\n";

struct Usage {
    std::string message;
};

std::string text(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    if (!object->has(key) || object->isNull(key)) return "";
    return object->get(key).convert<std::string>();
}

std::string readToken(const std::string& file) {
    if (file.empty()) return "";
    std::ifstream in(file);
    if (!in) throw Usage{"cannot read the token file " + file};
    std::stringstream content;
    content << in.rdbuf();
    return Poco::trim(content.str());
}

std::string query(const std::map<std::string, std::string>& params) {
    std::string q;
    for (const auto& [name, value] : params) {
        std::string encoded;
        Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]% ", encoded);
        q += (q.empty() ? "?" : "&") + name + "=" + encoded;
    }
    return q;
}

// Refuses what Poco would only call a "Syntax error", take for a path, or
// put the API's paths behind (a query or fragment). `source` names where it came from.
void checkUrl(const std::string& url, const std::string& source) {
    const std::string expected = source + ": expected http://HOST:PORT or https://HOST:PORT, got '" + url + "'";
    try {
        const Poco::URI uri(url);
        if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty() ||
            !uri.getUserInfo().empty() || url.find_first_of("?#") != std::string::npos) {
            throw Usage{expected};
        }
    } catch (const Poco::SyntaxException&) {
        throw Usage{expected};
    }
}

std::string jsonString(const std::string& value) {
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(value, out);
    return out.str();
}

int builds(const ApiClient& api, const std::vector<std::string>& args, std::ostream& out) {
    std::map<std::string, std::string> params;
    static const std::map<std::string, std::string> flags = {
        {"--repo", "repo"}, {"--service", "service"}, {"--state", "state"}, {"--sha", "sha"}, {"--limit", "limit"}};
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto flag = flags.find(args[i]);
        if (flag == flags.end() || i + 1 == args.size()) throw Usage{"builds: unexpected '" + args[i] + "'"};
        params[flag->second] = args[++i];
    }
    const Poco::JSON::Array::Ptr items = api.get("/api/builds" + query(params))->getArray("builds");
    Table table({"ID", "STATE", "REPO", "SERVICE", "VERSION", "SHA", "FINISHED", "ERROR"});
    for (std::size_t i = 0; i < items->size(); ++i) {
        const Poco::JSON::Object::Ptr b = items->getObject(static_cast<unsigned>(i));
        table.add({text(b, "id"), text(b, "state"), text(b, "repo"), text(b, "service"), text(b, "version"),
                   text(b, "sha").substr(0, 12), text(b, "finished_at"), text(b, "error")});
    }
    table.print(out);
    return kOk;
}

std::string idArgument(const std::string& command, const std::string& value) {
    if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos) {
        throw Usage{command + ": '" + value + "' is not a build id"};
    }
    return value;
}

int log(const ApiClient& api, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    bool follow = false;
    std::string id;
    for (const std::string& arg : args) {
        if (arg == "-f" || arg == "--follow") {
            follow = true;
        } else if (id.empty()) {
            id = idArgument("log", arg);
        } else {
            throw Usage{"log: unexpected '" + arg + "'"};
        }
    }
    if (id.empty()) throw Usage{"log: which build? give its id"};
    try {
        api.stream("/api/builds/" + id + "/log" + (follow ? "?follow=1" : ""), out, follow);
    } catch (const ApiError& e) {
        // A build that never ran has no log; followed, it is a build that failed (exit 4) all the same.
        if (!follow || e.status() != 404 || text(api.get("/api/builds/" + id), "state") != "failed") throw;
        err << "slipway: " << e.what() << "\n";
        return kBuildFailed;
    }
    if (follow && text(api.get("/api/builds/" + id), "state") == "failed") return kBuildFailed;
    return kOk;
}

int queue(const ApiClient& api, const std::vector<std::string>& args, std::ostream& out) {
    if (args.size() != 2) throw Usage{"build: give REPO and SHA"};
    const Poco::JSON::Object::Ptr answer =
        api.post("/api/builds", "{\"repo\": " + jsonString(args[0]) + ", \"sha\": " + jsonString(args[1]) + "}");
    out << (text(answer, "outcome") == "queued" ? "queued job " : "already queued or running: job ") << text(answer, "job")
        << "\n";
    return kOk;
}

int retry(const ApiClient& api, const std::vector<std::string>& args, std::ostream& out) {
    if (args.size() != 1) throw Usage{"retry: give one build id"};
    const Poco::JSON::Object::Ptr answer = api.post("/api/builds/" + idArgument("retry", args[0]) + "/retry", "");
    out << (text(answer, "outcome") == "queued" ? "queued job " : "already queued or running: job ") << text(answer, "job")
        << "\n";
    return kOk;
}

}  // namespace

int runCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    const char* envUrl = std::getenv("SLIPWAY_URL");
    const char* envToken = std::getenv("SLIPWAY_TOKEN_FILE");
    std::string url = envUrl ? envUrl : "http://127.0.0.1:8080";
    std::string urlSource = envUrl ? "$SLIPWAY_URL" : "the default URL";
    std::string tokenFile = envToken ? envToken : "";
    int timeout = 30;
    try {
        std::size_t i = 0;
        for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
            if (args[i] == "--help") {
                out << kUsageText;
                return kOk;
            }
            if (i + 1 == args.size()) throw Usage{args[i] + " needs a value"};
            if (args[i] == "--url") {
                url = args[++i];
                urlSource = "--url";
            } else if (args[i] == "--token-file") {
                tokenFile = args[++i];
            } else if (args[i] == "--timeout") {
                const std::string value = args[++i];
                int seconds = 0;
                if (!Poco::NumberParser::tryParse(value, seconds) || seconds < 1 || seconds > 3600) {
                    throw Usage{"--timeout: expected seconds from 1 to 3600, got '" + value + "'"};
                }
                timeout = seconds;
            } else {
                throw Usage{"unknown option " + args[i]};
            }
        }
        if (i == args.size()) throw Usage{"which command?"};
        const std::string command = args[i];
        const std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
        checkUrl(url, urlSource);
        const ApiClient api(url, readToken(tokenFile), std::chrono::seconds(timeout));
        if (command == "builds") return builds(api, rest, out);
        if (command == "log") return log(api, rest, out, err);
        if (command == "build") return queue(api, rest, out);
        if (command == "retry") return retry(api, rest, out);
        throw Usage{"unknown command '" + command + "'"};
    } catch (const Usage& usage) {
        err << "slipway: " << usage.message << "\n\n" << kUsageText;
        return kUsage;
    } catch (const ApiError& e) {
        err << "slipway: " << e.what() << "\n";
        return kServerRefused;
    } catch (const ConnectionError& e) {
        err << "slipway: " << e.what() << "\n";
        return kUnreachable;
    } catch (const std::exception& e) {
        err << "slipway: " << e.what() << "\n";
        return kServerRefused;
    }
}

}  // namespace slipway::client
