#include "daemon/github/webhook_event.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <new>
#include <optional>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/MediaType.h>
#include <Poco/String.h>
#include <simdjson.h>

namespace slipway {
namespace {

// Real payloads nest a few levels; deeper is refused.
constexpr std::size_t kMaxDepth = 64;
// Bodies up to this size are parsed by their thread's own parser, kept for
// the next: its buffers, sized to the largest body it parsed, take some 14
// bytes per byte of body (a fresh parser per request would cost their
// allocation and page faults every time). A larger body gets a parser of
// its own, freed after it.
constexpr std::size_t kKeptParserBytes = 64 * 1024;

// The JSON text of a body.
std::string jsonText(const std::string& contentType, std::string body) {
    std::string type;
    try {
        type = Poco::toLower(Poco::Net::MediaType(contentType).getType() + "/" +
                             Poco::Net::MediaType(contentType).getSubType());
    } catch (const Poco::Exception&) {
        throw WebhookError("Content-Type '" + contentType + "' cannot be parsed");
    }
    if (type == "application/json") return body;
    if (type == "application/x-www-form-urlencoded") {
        Poco::Net::HTMLForm form;
        // The body is already bounded by webhook.max_body_bytes.
        form.setValueLengthLimit(static_cast<int>(std::min<std::size_t>(body.size(), INT_MAX)));
        try {
            form.read(body);
        } catch (const Poco::Exception& e) {
            throw WebhookError("form body cannot be read: " + e.message());
        }
        if (form.has("payload")) return form.get("payload");
        throw WebhookError("form body has no 'payload' field");
    }
    throw WebhookError("Content-Type must be application/json or application/x-www-form-urlencoded, got '" +
                       contentType + "'");
}

using simdjson::dom::element;

// The last member named `key`: JSON leaves a name given twice to the reader,
// and slipway takes the later value whole, as a parsed object keeps it.
std::optional<element> lastMember(simdjson::dom::object object, std::string_view key) {
    std::optional<element> found;
    for (const simdjson::dom::key_value_pair field : object) {
        if (field.key == key) found = field.value;
    }
    return found;
}

// The value at a path of object members ("pull_request.base.ref"); nullopt
// when a member on the way is missing or not an object. Matched member by
// member, so that a key with a dot never passes for a path
// ("repository.full_name" at the top level).
std::optional<element> at(element root, std::string_view path) {
    element current = root;
    while (true) {
        const std::size_t dot = path.find('.');
        simdjson::dom::object object;
        if (current.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
        const std::optional<element> member = lastMember(object, path.substr(0, dot));
        if (!member || dot == std::string_view::npos) return member;
        current = *member;
        path.remove_prefix(dot + 1);
    }
}

// A member that was read: missing, or not of the kind wanted, is an error naming it.
element member(element root, const std::string& path, simdjson::dom::element_type type, const char* what) {
    const std::optional<element> found = at(root, path);
    if (!found) throw WebhookError("missing " + path);
    if (found->type() != type) throw WebhookError(path + " must be " + what);
    return *found;
}

std::string stringAt(element root, const std::string& path) {
    return std::string(member(root, path, simdjson::dom::element_type::STRING, "a string").get_string().value_unsafe());
}

bool boolAt(element root, const std::string& path) {
    return member(root, path, simdjson::dom::element_type::BOOL, "true or false").get_bool().value_unsafe();
}

void objectAt(element root, const std::string& path) {
    member(root, path, simdjson::dom::element_type::OBJECT, "an object");
}

bool isAbsent(element root, const std::string& path) { return !at(root, path); }

bool isNull(element root, const std::string& path) {
    const std::optional<element> found = at(root, path);
    return !found || found->is_null();
}

void readPullRequest(element body, WebhookEvent& out) {
    objectAt(body, "pull_request");
    out.merged = !isNull(body, "pull_request.merged") && boolAt(body, "pull_request.merged");
    objectAt(body, "pull_request.base");
    out.branch = stringAt(body, "pull_request.base.ref");
    if (out.action == "closed" && out.merged) {
        if (isNull(body, "pull_request.merge_commit_sha")) throw WebhookError("pull_request.merge_commit_sha is null");
        out.sha = stringAt(body, "pull_request.merge_commit_sha");
        if (!isCommitSha(out.sha)) {
            throw WebhookError("pull_request.merge_commit_sha is not 40 hex characters");
        }
    }
}

void readPush(element body, WebhookEvent& out) {
    const std::string ref = stringAt(body, "ref");
    static const std::string heads = "refs/heads/";
    out.branch = ref.rfind(heads, 0) == 0 ? ref.substr(heads.size()) : std::string();
    out.deleted = !isAbsent(body, "deleted") && boolAt(body, "deleted");
    out.sha = stringAt(body, "after");
    if (!isCommitSha(out.sha)) throw WebhookError("after is not 40 hex characters");
}

// A parser for `bytes` of JSON nested at most kMaxDepth deep (simdjson
// counts the root container as depth 1, refuses at its maximum, and does not
// count an empty container innermost).
simdjson::dom::parser parserFor(std::size_t bytes) {
    simdjson::dom::parser parser;
    if (parser.allocate(bytes, kMaxDepth + 1) != simdjson::SUCCESS) {
        throw std::bad_alloc();  // not the sender's fault: not a WebhookError
    }
    return parser;
}

// What is wrong with a body simdjson refused.
std::string parseFailure(simdjson::error_code error) {
    switch (error) {
        case simdjson::DEPTH_ERROR:
            return "body is not valid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels";
        case simdjson::NUMBER_ERROR:
            return "body is not valid JSON: a number is malformed or out of range (an integer beyond 64 bits, a "
                   "double beyond its range)";
        default:
            return std::string("body is not valid JSON: ") + simdjson::error_message(error);
    }
}

}  // namespace

bool isCommitSha(const std::string& sha) {
    if (sha.size() != 40) return false;
    for (char c : sha) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

WebhookEvent parseWebhook(const std::string& event, const std::string& contentType, std::string body) {
    std::string text = jsonText(contentType, std::move(body));
    // simdjson would refuse it too, but not say where.
    const std::string::size_type nul = text.find('\0');
    if (nul != std::string::npos) {
        throw WebhookError("body is not valid JSON: a NUL byte at byte " + std::to_string(nul));
    }
    // The whole body is checked (its structure, every number and string,
    // and UTF-8 throughout), not only the values slipway reads. simdjson
    // reads whole blocks, up to SIMDJSON_PADDING bytes past the end: the
    // string's capacity has them (reserved here, not copied by the parser).
    text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    // Kept only once allocated: a parser whose allocation failed would size
    // itself at its next parse, without the depth bound.
    thread_local std::optional<simdjson::dom::parser> kept;
    std::optional<simdjson::dom::parser> own;
    simdjson::dom::parser* parser = nullptr;
    if (text.size() <= kKeptParserBytes) {
        if (!kept) kept.emplace(parserFor(text.size()));
        parser = &*kept;
    } else {
        own.emplace(parserFor(text.size()));
        parser = &*own;
    }
    element root;
    const simdjson::error_code error = parser->parse(text.data(), text.size(), false).get(root);
    // The document's buffers are allocated in the parse.
    if (error == simdjson::MEMALLOC) throw std::bad_alloc();
    if (error != simdjson::SUCCESS) throw WebhookError(parseFailure(error));
    if (!root.is_object()) throw WebhookError("body must be a JSON object");

    WebhookEvent out;
    out.event = event;
    if (!isAbsent(root, "action")) out.action = stringAt(root, "action");
    if (!isAbsent(root, "repository")) {
        objectAt(root, "repository");
        out.repo = stringAt(root, "repository.full_name");
    } else if (event == "pull_request" || event == "push") {
        // Only these build, and only a repository says what. Others (ping,
        // an app's installation, an organization's events) may have none.
        throw WebhookError("missing repository");
    }
    if (event == "pull_request") readPullRequest(root, out);
    if (event == "push") readPush(root, out);
    return out;
}

}  // namespace slipway
