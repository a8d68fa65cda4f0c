// examples/harness/http.hpp — --http: a replica's endpoints (/health, /metrics,
// /scheduler/status, the dashboard, pause/resume/run with --http-token) while it runs in
// real time. Not part of what a user copies; docs/http.md shows the three lines a
// service needs.
//
// Boost.Beast is compiled once, in http.cpp (the library example_http), not in every
// example: this header needs only the standard library.
#pragma once

#include <memory>
#include <string>

#ifdef SKED_EXAMPLES_WITH_HTTP
#include <sked/http/handler.hpp>
#endif

namespace example {

#ifdef SKED_EXAMPLES_WITH_HTTP
/// One replica's server, on an io_context of its own thread, until it goes. Throws
/// std::runtime_error naming the address when it cannot listen.
class http_service {
public:
    http_service(sked::scheduler& s, std::string address, unsigned short port, sked::http::handler_options handler);
    http_service(const http_service&) = delete;
    http_service& operator=(const http_service&) = delete;
    ~http_service();
    [[nodiscard]] unsigned short port() const;

private:
    struct running;
    std::unique_ptr<running> running_;
};
#else
class http_service {};  // this build has no HTTP support: --http is refused when parsed
#endif

}  // namespace example
