#include "daemon/source/fetch_deadline.h"

#include <optional>
#include <string>

#include <git2.h>
#include <git2/sys/stream.h>

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace slipway {
namespace {

thread_local const std::chrono::steady_clock::time_point* currentDeadline = nullptr;

// What is left of this thread's deadline; nullopt without one.
std::optional<Poco::Timespan> remaining() {
    if (!currentDeadline) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(*currentDeadline -
                                                                             std::chrono::steady_clock::now());
    return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(left.count(), 0));
}

// libgit2 casts the git_stream it is handed back to this: `parent` comes first.
struct DeadlineSocket {
    git_stream parent;
    std::string host;
    std::string port;
    Poco::Net::StreamSocket socket;
};

DeadlineSocket& self(git_stream* stream) { return *reinterpret_cast<DeadlineSocket*>(stream); }

// Sets libgit2's error (a network one, which a fetch's caller may try again) and returns -1.
int fail(const DeadlineSocket& s, const std::string& what, const Poco::Exception& e) {
    const bool late = dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr;
    const std::string message = what + " " + s.host + ":" + s.port + ": " +
                                (late ? std::string("nothing came before the fetch's deadline") : e.displayText());
    git_error_set_str(GIT_ERROR_NET, message.c_str());
    return -1;
}

// An expired deadline: nothing more is tried.
int expired(const DeadlineSocket& s, const std::string& what) {
    git_error_set_str(GIT_ERROR_NET, (what + " " + s.host + ":" + s.port + ": the fetch's deadline has passed").c_str());
    return -1;
}

int connectSocket(git_stream* stream) {
    DeadlineSocket& s = self(stream);
    try {
        const Poco::Net::SocketAddress address(s.host, s.port);
        const std::optional<Poco::Timespan> left = remaining();
        if (!left) {
            s.socket.connect(address);
        } else if (left->totalMicroseconds() == 0) {
            return expired(s, "connecting to");
        } else {
            s.socket.connect(address, *left);
        }
        return 0;
    } catch (const Poco::Exception& e) {
        return fail(s, "connecting to", e);
    } catch (const std::exception& e) {
        return fail(s, "connecting to", Poco::Exception(e.what()));
    }
}

ssize_t readSocket(git_stream* stream, void* data, size_t length) {
    DeadlineSocket& s = self(stream);
    try {
        const std::optional<Poco::Timespan> left = remaining();
        if (left && left->totalMicroseconds() == 0) return expired(s, "reading from");
        // Zero: no timeout.
        s.socket.setReceiveTimeout(left.value_or(Poco::Timespan(0)));
        return s.socket.receiveBytes(data, static_cast<int>(std::min<size_t>(length, 1 << 30)));
    } catch (const Poco::Exception& e) {
        return fail(s, "reading from", e);
    } catch (const std::exception& e) {
        return fail(s, "reading from", Poco::Exception(e.what()));
    }
}

ssize_t writeSocket(git_stream* stream, const char* data, size_t length, int /*flags*/) {
    DeadlineSocket& s = self(stream);
    try {
        const std::optional<Poco::Timespan> left = remaining();
        if (left && left->totalMicroseconds() == 0) return expired(s, "writing to");
        s.socket.setSendTimeout(left.value_or(Poco::Timespan(0)));
        return s.socket.sendBytes(data, static_cast<int>(std::min<size_t>(length, 1 << 30)));
    } catch (const Poco::Exception& e) {
        return fail(s, "writing to", e);
    } catch (const std::exception& e) {
        return fail(s, "writing to", Poco::Exception(e.what()));
    }
}

int closeSocket(git_stream* stream) {
    try {
        self(stream).socket.close();
    } catch (const Poco::Exception&) {
        // Closing is all that is left to do with it.
    }
    return 0;
}

void freeSocket(git_stream* stream) { delete &self(stream); }

int newSocket(git_stream** out, const char* host, const char* port) {
    auto* s = new DeadlineSocket{};
    s->parent.version = GIT_STREAM_VERSION;
    s->parent.connect = connectSocket;
    s->parent.read = readSocket;
    s->parent.write = writeSocket;
    s->parent.close = closeSocket;
    s->parent.free = freeSocket;
    s->host = host;
    s->port = port ? port : "";
    *out = &s->parent;
    return 0;
}

}  // namespace

void registerDeadlineSockets() {
    git_stream_registration registration{};
    registration.version = GIT_STREAM_VERSION;
    registration.init = newSocket;
    git_stream_register(GIT_STREAM_STANDARD, &registration);
}

FetchDeadline::FetchDeadline(std::chrono::steady_clock::time_point deadline)
    : previous_(currentDeadline), deadline_(deadline) {
    currentDeadline = &deadline_;
}

FetchDeadline::~FetchDeadline() { currentDeadline = previous_; }

}  // namespace slipway
