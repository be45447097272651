#include "daemon/github/webhook_event.h"

#include <algorithm>
#include <array>
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
        const Poco::Net::MediaType media(contentType);
        type = Poco::toLower(media.getType() + "/" + media.getSubType());
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

// A member slipway reads, found or not, with its path ("pull_request.base")
// for the error that names it.
struct Member {
    std::optional<element> value;
    std::string_view path;

    bool absent() const { return !value; }
    bool null() const { return !value || value->is_null(); }

    // Its value; missing, or not of the kind wanted, is an error naming it.
    element as(simdjson::dom::element_type type, const char* what) const {
        if (!value) throw WebhookError("missing " + std::string(path));
        if (value->type() != type) throw WebhookError(std::string(path) + " must be " + what);
        return *value;
    }
    std::string string() const {
        return std::string(as(simdjson::dom::element_type::STRING, "a string").get_string().value_unsafe());
    }
    bool boolean() const { return as(simdjson::dom::element_type::BOOL, "true or false").get_bool().value_unsafe(); }
    simdjson::dom::object object() const {
        return as(simdjson::dom::element_type::OBJECT, "an object").get_object().value_unsafe();
    }
};

// The members of `object` at `paths`, each path's last name looked up among
// the object's own members (never deeper, so that a key with a dot never
// passes for a path), all in one pass over them. JSON leaves a name given
// twice to the reader: slipway takes the later value whole, as a parsed
// object keeps it.
template <std::size_t N>
std::array<Member, N> membersOf(simdjson::dom::object object, const std::array<std::string_view, N>& paths) {
    std::array<Member, N> members;
    std::array<std::string_view, N> names;
    for (std::size_t i = 0; i < N; ++i) {
        members[i].path = paths[i];
        const std::size_t dot = paths[i].rfind('.');
        names[i] = dot == std::string_view::npos ? paths[i] : paths[i].substr(dot + 1);
    }
    for (const simdjson::dom::key_value_pair field : object) {
        for (std::size_t i = 0; i < N; ++i) {
            if (field.key == names[i]) members[i].value = field.value;
        }
    }
    return members;
}

void readPullRequest(const Member& pullRequest, WebhookEvent& out) {
    const auto [merged, base, mergeCommit] =
        membersOf<3>(pullRequest.object(), {"pull_request.merged", "pull_request.base", "pull_request.merge_commit_sha"});
    out.merged = !merged.null() && merged.boolean();
    const auto [ref] = membersOf<1>(base.object(), {"pull_request.base.ref"});
    out.branch = ref.string();
    if (out.action == "closed" && out.merged) {
        if (mergeCommit.null()) throw WebhookError("pull_request.merge_commit_sha is null");
        out.sha = mergeCommit.string();
        if (!isCommitSha(out.sha)) {
            throw WebhookError("pull_request.merge_commit_sha is not 40 hex characters");
        }
    }
}

void readPush(const Member& ref, const Member& deleted, const Member& after, WebhookEvent& out) {
    const std::string name = ref.string();
    static const std::string heads = "refs/heads/";
    out.branch = name.rfind(heads, 0) == 0 ? name.substr(heads.size()) : std::string();
    out.deleted = !deleted.absent() && deleted.boolean();
    out.sha = after.string();
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
    if (error != simdjson::SUCCESS) {
        // simdjson refuses a NUL byte anywhere (a control character in a
        // string, no JSON outside one) but does not say where: looked for
        // only in a body refused, not in every one.
        const std::string::size_type nul = text.find('\0');
        if (nul != std::string::npos) {
            throw WebhookError("body is not valid JSON: a NUL byte at byte " + std::to_string(nul));
        }
        throw WebhookError(parseFailure(error));
    }
    if (!root.is_object()) throw WebhookError("body must be a JSON object");

    WebhookEvent out;
    out.event = event;
    const auto [action, repository, pullRequest, ref, deleted, after] = membersOf<6>(
        root.get_object().value_unsafe(), {"action", "repository", "pull_request", "ref", "deleted", "after"});
    if (!action.absent()) out.action = action.string();
    if (!repository.absent()) {
        const auto [fullName] = membersOf<1>(repository.object(), {"repository.full_name"});
        out.repo = fullName.string();
    } else if (event == "pull_request" || event == "push") {
        // Only these build, and only a repository says what. Others (ping,
        // an app's installation, an organization's events) may have none.
        throw WebhookError("missing repository");
    }
    if (event == "pull_request") readPullRequest(pullRequest, out);
    if (event == "push") readPush(ref, deleted, after, out);
    return out;
}

}  // namespace slipway
