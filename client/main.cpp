#include <iostream>
#include <string>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "client/commands.h"

int main(int argc, char** argv) {
    Poco::Net::initializeSSL();
    const std::vector<std::string> args(argv + 1, argv + argc);
    const int status = slipway::client::runCommand(args, std::cout, std::cerr);
    Poco::Net::uninitializeSSL();
    return status;
}
