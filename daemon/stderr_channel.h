#pragma once

#include <Poco/Channel.h>
#include <Poco/Message.h>

namespace slipway {

// A Poco log channel that writes each message as one line on stderr, in one
// write(2): journald keeps it as one record however many threads log at once.
// Poco's ConsoleChannel writes the text and its newline apart through the
// unbuffered stderr: two system calls per line, one line per webhook.
class StderrChannel : public Poco::Channel {
public:
    void log(const Poco::Message& message) override;
};

}  // namespace slipway
