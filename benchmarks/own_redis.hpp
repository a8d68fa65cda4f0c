// benchmarks/own_redis.hpp — the Redis a load program measures: the one on
// $SKED_REDIS_PORT, or one it starts on a free 127.0.0.1 port and stops at exit.
#pragma once

#include <cstdlib>
#include <memory>

#include "../tests/support/redis_server.hpp"

namespace sked::bench {

inline int redis_port() {
    static std::unique_ptr<sked::test::redis_server> own;
    if (const char* p = std::getenv("SKED_REDIS_PORT")) return std::atoi(p);
    if (!own) own = std::make_unique<sked::test::redis_server>();
    return own->port();
}

}  // namespace sked::bench
