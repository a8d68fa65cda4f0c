// examples/harness/http.hpp — --http: a replica's endpoints (/health, /metrics,
// /scheduler/status, the dashboard, pause/resume/run with --http-token) while it runs in
// real time. Not part of what a user copies; docs/http.md shows the three lines a
// service needs.
#pragma once

#include <memory>
#include <string>
#include <thread>

#ifdef SKED_EXAMPLES_WITH_HTTP
#include <sked/http/server.hpp>
#endif

namespace example {

#ifdef SKED_EXAMPLES_WITH_HTTP
/// One replica's server, on an io_context of its own thread, until it goes.
class http_service {
public:
    http_service(sked::scheduler& s, sked::http::server_options options)
        : work_(boost::asio::make_work_guard(io_)),
          server_(std::make_unique<sked::http::server>(io_.get_executor(), s, std::move(options))) {
        server_->start();
        thread_ = std::jthread([this] { io_.run(); });
    }
    http_service(const http_service&) = delete;
    http_service& operator=(const http_service&) = delete;
    ~http_service() {
        server_->stop();
        work_.reset();
        thread_.join();  // the closes run, then io_.run() returns
        server_.reset();
    }
    [[nodiscard]] unsigned short port() const { return server_->port(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<sked::http::server> server_;
    std::jthread thread_;
};
#else
class http_service {};  // this build has no HTTP support: --http is refused when parsed
#endif

}  // namespace example
