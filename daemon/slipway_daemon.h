#pragma once

#include <Poco/Util/ServerApplication.h>

namespace slipway {

// slipwayd: reads the configuration once, opens the store, starts the build
// workers and the HTTP server, and on SIGTERM or SIGINT stops taking requests
// and lets running jobs finish before it exits.
class SlipwayDaemon : public Poco::Util::ServerApplication {
protected:
    void initialize(Poco::Util::Application& self) override;
    void defineOptions(Poco::Util::OptionSet& options) override;
    int main(const std::vector<std::string>& args) override;

private:
    void handleHelp(const std::string& name, const std::string& value);
    void handleVersion(const std::string& name, const std::string& value);
    void handleConfig(const std::string& name, const std::string& value);
    void handleCheckConfig(const std::string& name, const std::string& value);

    bool exitEarly_ = false;
    bool checkOnly_ = false;  // --check-config: validate, report, exit
    std::string configPath_ = "/etc/slipway/slipway.ini";
};

}  // namespace slipway
