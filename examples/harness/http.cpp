// examples/harness/http.cpp — the Beast side of examples/harness/http.hpp.
#include "http.hpp"

#include <sked/http/server.hpp>

#include <thread>
#include <utility>

namespace example {

struct http_service::running {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
    sked::http::server server;
    std::jthread thread;

    running(sked::scheduler& s, sked::http::server_options options) : server(io.get_executor(), s, std::move(options)) {
        server.start();
        thread = std::jthread([this] { io.run(); });
    }
    ~running() {
        server.stop();
        work.reset();
        thread.join();  // the closes run, then io.run() returns
    }
};

http_service::http_service(sked::scheduler& s, std::string address, unsigned short port,
                           sked::http::handler_options handler)
    : running_(std::make_unique<running>(
          s, sked::http::server_options{.address = std::move(address), .port = port, .handler = std::move(handler)})) {}
http_service::~http_service() = default;
unsigned short http_service::port() const { return running_->server.port(); }

}  // namespace example
