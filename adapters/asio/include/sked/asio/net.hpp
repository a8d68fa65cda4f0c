// sked/asio/net.hpp — which asio this adapter is built on, under one name: sked::asio::net.
//
// Target sked::asio uses Boost.Asio (boost::asio); sked::asio_standalone defines
// SKED_ASIO_STANDALONE and uses standalone asio (::asio). Everything else in the adapter
// is written once, against `net`.
//
// Two facts of the versions Debian ships shape the adapter:
// - Boost 1.74 bundles asio 1.18, which has no per-operation cancellation slots (they came
//   in 1.19): there a coroutine job is stopped through sked::asio::sleep_for and its stop
//   token, and from 1.19 on also by terminal cancellation of the whole coroutine.
// - boost/asio/awaitable.hpp of 1.74 uses std::exchange without including <utility>,
//   which GCC 12's headers no longer pull in by themselves.
#pragma once

#include <utility>  // first: see above

#include <system_error>

#ifdef SKED_ASIO_STANDALONE
#include <asio.hpp>
#include <asio/version.hpp>
#define SKED_ASIO_VERSION ASIO_VERSION
#else
#include <boost/asio.hpp>
#include <boost/asio/version.hpp>
#define SKED_ASIO_VERSION BOOST_ASIO_VERSION
#endif

#if SKED_ASIO_VERSION >= 101900
#define SKED_ASIO_HAS_CANCELLATION_SLOTS 1
#else
#define SKED_ASIO_HAS_CANCELLATION_SLOTS 0
#endif

namespace sked::asio {

#ifdef SKED_ASIO_STANDALONE
namespace net = ::asio;
using error_code = std::error_code;
using system_error = std::system_error;
#else
namespace net = ::boost::asio;
using error_code = ::boost::system::error_code;
using system_error = ::boost::system::system_error;
#endif

/// What an asio operation throws when it is cancelled.
[[noreturn]] inline void throw_operation_aborted() {
    throw system_error{make_error_code(net::error::operation_aborted)};
}

}  // namespace sked::asio
