#include "daemon/github/webhook_event.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/MediaType.h>
#include <Poco/String.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>

namespace slipway {
namespace {

// Real payloads nest a few levels; this bounds the parser's stack.
constexpr std::size_t kMaxDepth = 64;

// With RAPIDJSON_SSE2 (daemon/CMakeLists.txt) RapidJSON loads whole aligned
// 16-byte blocks, so it may read up to 15 bytes past the NUL that ends the
// text: the buffer has them, as NULs.
constexpr std::size_t kScanPadding = 15;

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

// What a body holds at one of the few paths slipway reads.
struct Field {
    enum Kind { kAbsent, kObject, kArray, kString, kBool, kNumber, kNull };
    Kind kind = kAbsent;
    std::string text;  // kString
    bool flag = false;  // kBool
};

// The objects whose members slipway reads (by path; the root's is ""), and
// the members it reads. Every other value is skipped as it streams past.
struct ReadObject {
    const char* path;
    std::vector<std::string_view> members;
};
const ReadObject kReadObjects[] = {
    {"", {"action", "repository", "pull_request", "ref", "deleted", "after"}},
    {"repository", {"full_name"}},
    {"pull_request", {"merged", "base", "merge_commit_sha"}},
    {"pull_request.base", {"ref"}},
};

// A SAX handler for RapidJSON's reader that keeps only the fields above. A
// webhook body is tens of kilobytes of which slipway needs six values:
// building the whole document (a map and a Var for each of some 600 values,
// with Poco's parser) and even Poco's tokenizer alone were most of a
// delivery's CPU time. Keys repeat the way a parsed object treats them: the
// last one wins, and an object given again replaces everything read from the
// earlier one.
class FieldCollector {
public:
    const Field& at(const std::string& path) const {
        static const Field absent;
        const auto it = fields_.find(path);
        return it == fields_.end() ? absent : it->second;
    }
    bool rootIsObject() const { return rootIsObject_; }
    bool tooDeep() const { return tooDeep_; }
    // The path of a kept string that is not UTF-8; empty when there is none.
    const std::string& badEncoding() const { return badEncoding_; }

    // RapidJSON's handler concept; returning false stops the parse.
    bool StartObject() {
        const std::string* path = begin(Field::kObject);
        if (frames_.empty()) rootIsObject_ = true;
        const ReadObject* read = nullptr;
        if (path) {
            for (const ReadObject& object : kReadObjects) {
                if (*path == object.path) read = &object;
            }
        }
        frames_.push_back({read, read ? *path : std::string(), {}, false});
        return deeper();
    }
    bool EndObject(rapidjson::SizeType) { return end(); }
    bool StartArray() {
        begin(Field::kArray);
        frames_.push_back({nullptr, {}, {}, false});
        return deeper();
    }
    bool EndArray(rapidjson::SizeType) { return end(); }
    bool Key(const char* k, rapidjson::SizeType length, bool) {
        Frame& frame = frames_.back();
        if (!frame.read) return true;
        // Matched whole against the object's own members, so that a key with
        // a dot never passes for a path ("repository.full_name" at the top level).
        const std::string_view key(k, length);
        const std::vector<std::string_view>& members = frame.read->members;
        frame.keyRead = std::find(members.begin(), members.end(), key) != members.end();
        if (frame.keyRead) {
            frame.key = frame.path;
            if (!frame.key.empty()) frame.key += '.';
            frame.key += key;
        }
        return true;
    }
    bool Null() { return begin(Field::kNull), true; }
    bool Bool(bool b) {
        if (const std::string* path = begin(Field::kBool)) fields_[*path].flag = b;
        return true;
    }
    bool RawNumber(const char*, rapidjson::SizeType, bool) { return begin(Field::kNumber), true; }
    bool String(const char* v, rapidjson::SizeType length, bool) {
        const std::string* path = begin(Field::kString);
        if (!path) return true;
        // Only the strings slipway keeps are checked for UTF-8: checking every
        // byte of the body was a third of the parse, for values never used.
        rapidjson::MemoryStream in(v, length);
        rapidjson::StringBuffer copy;
        while (static_cast<rapidjson::SizeType>(in.Tell()) < length) {
            if (!rapidjson::UTF8<>::Validate(in, copy)) {
                badEncoding_ = *path;
                return false;
            }
        }
        fields_[*path].text.assign(v, length);
        return true;
    }
    // Numbers arrive as RawNumber (kParseNumbersAsStringsFlag); these complete the concept.
    bool Int(int) { return begin(Field::kNumber), true; }
    bool Uint(unsigned) { return begin(Field::kNumber), true; }
    bool Int64(std::int64_t) { return begin(Field::kNumber), true; }
    bool Uint64(std::uint64_t) { return begin(Field::kNumber), true; }
    bool Double(double) { return begin(Field::kNumber), true; }

private:
    struct Frame {
        const ReadObject* read;  // an object whose members are read, or null
        std::string path;        // of that object
        std::string key;         // path of the member whose value comes next, when read
        bool keyRead;            // whether that member is one slipway reads
    };

    bool deeper() {
        tooDeep_ = frames_.size() > kMaxDepth;
        return !tooDeep_;
    }
    bool end() {
        frames_.pop_back();
        return true;
    }

    // Records that a value of `kind` starts at the current position; returns
    // its path when it is one slipway reads (the root object has path "").
    const std::string* begin(Field::Kind kind) {
        if (frames_.empty()) {
            static const std::string root;
            return kind == Field::kObject ? &root : nullptr;
        }
        const Frame& frame = frames_.back();
        if (!frame.read || !frame.keyRead) return nullptr;
        // A member given twice: the later value replaces the earlier one and all under it.
        const std::string prefix = frame.key + ".";
        for (auto it = fields_.lower_bound(prefix); it != fields_.end() && it->first.rfind(prefix, 0) == 0;) {
            it = fields_.erase(it);
        }
        Field& field = fields_[frame.key];
        field = Field();
        field.kind = kind;
        return &frame.key;
    }

    std::map<std::string, Field> fields_;
    std::vector<Frame> frames_;
    bool rootIsObject_ = false;
    bool tooDeep_ = false;
    std::string badEncoding_;
};

// A member of an object that was read: missing, or not of the kind wanted, is an error naming it.
const Field& member(const FieldCollector& body, const std::string& path, Field::Kind kind, const char* what) {
    const Field& field = body.at(path);
    if (field.kind == Field::kAbsent) throw WebhookError("missing " + path);
    if (field.kind != kind) throw WebhookError(path + " must be " + what);
    return field;
}

std::string stringAt(const FieldCollector& body, const std::string& path) {
    return member(body, path, Field::kString, "a string").text;
}

bool boolAt(const FieldCollector& body, const std::string& path) {
    return member(body, path, Field::kBool, "true or false").flag;
}

void objectAt(const FieldCollector& body, const std::string& path) {
    member(body, path, Field::kObject, "an object");
}

bool isNull(const FieldCollector& body, const std::string& path) {
    const Field::Kind kind = body.at(path).kind;
    return kind == Field::kAbsent || kind == Field::kNull;
}

void readPullRequest(const FieldCollector& body, WebhookEvent& out) {
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

void readPush(const FieldCollector& body, WebhookEvent& out) {
    const std::string ref = stringAt(body, "ref");
    static const std::string heads = "refs/heads/";
    out.branch = ref.rfind(heads, 0) == 0 ? ref.substr(heads.size()) : std::string();
    out.deleted = body.at("deleted").kind != Field::kAbsent && boolAt(body, "deleted");
    out.sha = stringAt(body, "after");
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

WebhookEvent parseWebhook(const std::string& event, const std::string& contentType, std::string body) {
    std::string text = jsonText(contentType, std::move(body));
    FieldCollector fields;
    rapidjson::Reader reader;
    // Parsed in place (strings are unescaped inside the body, not copied
    // out), iteratively (no recursion however deep the input); numbers are
    // only skipped, so integers of any size pass (a double beyond its range
    // does not). A NUL byte would end the text early: one is an error.
    const std::string::size_type nul = text.find('\0');
    if (nul != std::string::npos) {
        throw WebhookError("body is not valid JSON: a NUL byte at byte " + std::to_string(nul));
    }
    text.append(kScanPadding, '\0');
    rapidjson::InsituStringStream stream(text.data());
    constexpr unsigned kFlags =
        rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
    const rapidjson::ParseResult parsed = reader.Parse<kFlags>(stream, fields);
    if (fields.tooDeep()) {
        throw WebhookError("body is not valid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (!fields.badEncoding().empty()) throw WebhookError(fields.badEncoding() + " is not UTF-8");
    if (parsed.IsError()) {
        throw WebhookError(std::string("body is not valid JSON: ") + rapidjson::GetParseError_En(parsed.Code()) +
                           " (at byte " + std::to_string(parsed.Offset()) + ")");
    }
    if (!fields.rootIsObject()) throw WebhookError("body must be a JSON object");

    WebhookEvent out;
    out.event = event;
    if (fields.at("action").kind != Field::kAbsent) out.action = stringAt(fields, "action");
    if (fields.at("repository").kind != Field::kAbsent) {
        objectAt(fields, "repository");
        out.repo = stringAt(fields, "repository.full_name");
    } else if (event == "pull_request" || event == "push") {
        // Only these build, and only a repository says what. Others (ping,
        // an app's installation, an organization's events) may have none.
        throw WebhookError("missing repository");
    }
    if (event == "pull_request") readPullRequest(fields, out);
    if (event == "push") readPush(fields, out);
    return out;
}

}  // namespace slipway
