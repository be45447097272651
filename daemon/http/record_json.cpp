#include "daemon/http/record_json.h"

#include <Poco/JSON/Array.h>

namespace slipway {
namespace {

void setText(Poco::JSON::Object& object, const std::string& key, const std::string& value) {
    if (value.empty()) {
        object.set(key, Poco::Dynamic::Var());
    } else {
        object.set(key, value);
    }
}

}  // namespace

Poco::JSON::Object::Ptr buildToJson(const Build& b) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", b.id);
    o->set("job", b.jobId);
    setText(*o, "delivery", b.deliveryId);
    o->set("repo", b.repo);
    o->set("sha", b.sha);
    o->set("service", b.service);
    setText(*o, "version", b.version);
    o->set("image", b.image);
    o->set("state", toString(b.state));
    o->set("reused", b.reused);
    setText(*o, "digest", b.digest);
    setText(*o, "error", b.error);
    o->set("attempt", b.attempt);
    setText(*o, "queued_at", b.queuedAt);
    setText(*o, "started_at", b.startedAt);
    setText(*o, "finished_at", b.finishedAt);
    setText(*o, "content_key", b.contentKey);
    Poco::JSON::Array::Ptr platforms = new Poco::JSON::Array;
    for (const BuildPlatform& platform : b.platforms) {
        Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
        p->set("platform", platform.platform);
        setText(*p, "digest", platform.digest);
        platforms->add(p);
    }
    o->set("platforms", platforms);
    setText(*o, "node", b.node);
    return o;
}

Poco::JSON::Object::Ptr commitStatusToJson(const CommitStatus& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("context", s.context);
    o->set("state", toString(s.state));
    o->set("delivery", toString(s.delivery));
    o->set("attempts", s.attempts);
    setText(*o, "detail", s.detail);
    setText(*o, "updated_at", s.updatedAt);
    return o;
}

Poco::JSON::Object::Ptr jobToJson(const Job& j) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", j.id);
    setText(*o, "delivery", j.deliveryId);
    o->set("repo", j.repo);
    o->set("sha", j.sha);
    o->set("state", toString(j.state));
    setText(*o, "error", j.error);
    o->set("attempt", j.attempt);
    setText(*o, "service", j.service);
    setText(*o, "queued_at", j.queuedAt);
    setText(*o, "started_at", j.startedAt);
    setText(*o, "finished_at", j.finishedAt);
    setText(*o, "node", j.node);
    setText(*o, "lease_until", j.leaseUntil);
    return o;
}

Poco::JSON::Object::Ptr deliveryToJson(const Delivery& d) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", d.id);
    o->set("event", d.event);
    setText(*o, "action", d.action);
    setText(*o, "repo", d.repo);
    o->set("outcome", toString(d.outcome));
    setText(*o, "detail", d.detail);
    setText(*o, "received_at", d.receivedAt);
    Poco::JSON::Array::Ptr jobs = new Poco::JSON::Array;
    for (std::int64_t id : d.jobIds) jobs->add(id);
    o->set("jobs", jobs);
    Poco::JSON::Array::Ptr builds = new Poco::JSON::Array;
    for (std::int64_t id : d.buildIds) builds->add(id);
    o->set("builds", builds);
    return o;
}

}  // namespace slipway
