#include <iostream>

#include "daemon/slipway_daemon.h"

POCO_SERVER_MAIN(slipway::SlipwayDaemon)
