#include "daemon/source/fetch_deadline.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>
#include <string>

#include <git2.h>
#include <git2/sys/stream.h>

#include <Poco/Net/DNS.h>
#include <Poco/Net/HostEntry.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/NumberParser.h>
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
        // Each address the name has, in turn, as libgit2's own socket does.
        std::vector<Poco::Net::SocketAddress> addresses;
        Poco::Net::IPAddress literal;
        unsigned number = 0;
        if (!Poco::NumberParser::tryParseUnsigned(s.port, number) || number > 65535) {
            addresses.emplace_back(s.host, s.port);  // a service name: resolved with the host
        } else if (Poco::Net::IPAddress::tryParse(s.host, literal)) {
            addresses.emplace_back(literal, static_cast<std::uint16_t>(number));
        } else {
            const Poco::Net::HostEntry entry = Poco::Net::DNS::hostByName(s.host);
            for (const Poco::Net::IPAddress& ip : entry.addresses()) {
                addresses.emplace_back(ip, static_cast<std::uint16_t>(number));
            }
        }
        // IPv4 first, as Poco's own resolution prefers; each address gets an
        // even share of the time left, so one that drops packets does not
        // use up the deadline the next one would have answered within.
        std::stable_partition(addresses.begin(), addresses.end(), [](const Poco::Net::SocketAddress& a) {
            return a.family() == Poco::Net::AddressFamily::IPv4;
        });
        std::string failures;
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            const Poco::Net::SocketAddress& address = addresses[i];
            const std::optional<Poco::Timespan> left = remaining();
            if (left && left->totalMicroseconds() == 0) return expired(s, "connecting to");
            try {
                s.socket = Poco::Net::StreamSocket();
                if (left) {
                    s.socket.connect(address, Poco::Timespan(left->totalMicroseconds() /
                                                             static_cast<Poco::Timespan::TimeDiff>(addresses.size() - i)));
                } else {
                    s.socket.connect(address);
                }
                return 0;
            } catch (const Poco::Exception& e) {
                failures += (failures.empty() ? "" : "; ") + address.toString() + ": " + e.displayText();
            }
        }
        git_error_set_str(GIT_ERROR_NET, ("connecting to " + s.host + ":" + s.port + ": " +
                                          (failures.empty() ? std::string("no address") : failures))
                                             .c_str());
        return -1;
    } catch (const Poco::Exception& e) {
        return fail(s, "connecting to", e);
    } catch (const std::exception& e) {
        return fail(s, "connecting to", Poco::Exception(e.what()));
    }
}

// Runs `io` once `setTimeout` has given the socket what is left of the
// deadline (zero: no timeout); libgit2's error and -1 when it fails.
template <typename SetTimeout, typename Io>
ssize_t timed(DeadlineSocket& s, const std::string& what, SetTimeout setTimeout, Io io) {
    try {
        const std::optional<Poco::Timespan> left = remaining();
        if (left && left->totalMicroseconds() == 0) return expired(s, what);
        setTimeout(left.value_or(Poco::Timespan(0)));
        return io();
    } catch (const Poco::Exception& e) {
        return fail(s, what, e);
    } catch (const std::exception& e) {
        return fail(s, what, Poco::Exception(e.what()));
    }
}

ssize_t readSocket(git_stream* stream, void* data, size_t length) {
    DeadlineSocket& s = self(stream);
    return timed(
        s, "reading from", [&](const Poco::Timespan& t) { s.socket.setReceiveTimeout(t); },
        [&] { return s.socket.receiveBytes(data, static_cast<int>(std::min<size_t>(length, 1 << 30))); });
}

ssize_t writeSocket(git_stream* stream, const char* data, size_t length, int /*flags*/) {
    DeadlineSocket& s = self(stream);
    return timed(
        s, "writing to", [&](const Poco::Timespan& t) { s.socket.setSendTimeout(t); },
        [&] { return s.socket.sendBytes(data, static_cast<int>(std::min<size_t>(length, 1 << 30))); });
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
    DeadlineSocket* s = nullptr;
    try {
        s = new DeadlineSocket{};
    } catch (const std::bad_alloc&) {
        git_error_set_str(GIT_ERROR_NOMEMORY, "no memory for a socket");
        return -1;
    }
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
    if (git_stream_register(GIT_STREAM_STANDARD, &registration) < 0) {
        // Only a libgit2 built without stream registration says no: fetches
        // would then wait on a stalled server for ever.
        throw std::runtime_error("libgit2 refused slipway's socket stream: fetches would have no deadline");
    }
}

FetchDeadline::FetchDeadline(std::chrono::steady_clock::time_point deadline)
    : previous_(currentDeadline), deadline_(deadline) {
    currentDeadline = &deadline_;
}

FetchDeadline::~FetchDeadline() { currentDeadline = previous_; }

}  // namespace slipway
