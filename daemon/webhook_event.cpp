#include "daemon/webhook_event.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/MediaType.h>
#include <Poco/String.h>

namespace slipway {
namespace {

using Poco::JSON::Object;

// Real payloads nest a few levels; this bounds the parser's stack.
constexpr std::size_t kMaxDepth = 64;

std::string jsonText(const std::string& contentType, const std::string& body) {
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

Object::Ptr objectAt(const Object::Ptr& parent, const std::string& key, const std::string& path) {
    if (!parent->has(key)) throw WebhookError("missing " + path);
    const Poco::Dynamic::Var value = parent->get(key);
    if (value.type() != typeid(Object::Ptr)) throw WebhookError(path + " must be an object");
    return value.extract<Object::Ptr>();
}

std::string stringAt(const Object::Ptr& parent, const std::string& key, const std::string& path) {
    if (!parent->has(key)) throw WebhookError("missing " + path);
    const Poco::Dynamic::Var value = parent->get(key);
    if (!value.isString()) throw WebhookError(path + " must be a string");
    return value.extract<std::string>();
}

bool boolAt(const Object::Ptr& parent, const std::string& key, const std::string& path) {
    if (!parent->has(key)) throw WebhookError("missing " + path);
    const Poco::Dynamic::Var value = parent->get(key);
    if (value.type() != typeid(bool)) throw WebhookError(path + " must be true or false");
    return value.extract<bool>();
}

void readPullRequest(const Object::Ptr& root, WebhookEvent& out) {
    const Object::Ptr pr = objectAt(root, "pull_request", "pull_request");
    out.merged = pr->has("merged") && !pr->isNull("merged") && boolAt(pr, "merged", "pull_request.merged");
    out.branch = stringAt(objectAt(pr, "base", "pull_request.base"), "ref", "pull_request.base.ref");
    if (out.action == "closed" && out.merged) {
        if (pr->isNull("merge_commit_sha")) throw WebhookError("pull_request.merge_commit_sha is null");
        out.sha = stringAt(pr, "merge_commit_sha", "pull_request.merge_commit_sha");
        if (!isCommitSha(out.sha)) {
            throw WebhookError("pull_request.merge_commit_sha is not 40 hex characters");
        }
    }
}

void readPush(const Object::Ptr& root, WebhookEvent& out) {
    const std::string ref = stringAt(root, "ref", "ref");
    static const std::string heads = "refs/heads/";
    out.branch = ref.rfind(heads, 0) == 0 ? ref.substr(heads.size()) : std::string();
    out.deleted = root->has("deleted") && boolAt(root, "deleted", "deleted");
    out.sha = stringAt(root, "after", "after");
    if (!isCommitSha(out.sha)) throw WebhookError("after is not 40 hex characters");
}

}  // namespace

bool isCommitSha(const std::string& sha) {
    if (sha.size() != 40) return false;
    for (char c : sha) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

WebhookEvent parseWebhook(const std::string& event, const std::string& contentType,
                          const std::string& body) {
    const std::string text = jsonText(contentType, body);
    Poco::Dynamic::Var parsed;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(kMaxDepth);
        parsed = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw WebhookError("body is not valid JSON: " + e.message());
    }
    if (parsed.type() != typeid(Object::Ptr)) throw WebhookError("body must be a JSON object");
    const Object::Ptr root = parsed.extract<Object::Ptr>();

    WebhookEvent out;
    out.event = event;
    if (root->has("action")) out.action = stringAt(root, "action", "action");
    if (root->has("repository")) {
        out.repo = stringAt(objectAt(root, "repository", "repository"), "full_name",
                            "repository.full_name");
    } else if (event != "ping") {
        throw WebhookError("missing repository");
    }
    if (event == "pull_request") readPullRequest(root, out);
    if (event == "push") readPush(root, out);
    return out;
}

}  // namespace slipway
