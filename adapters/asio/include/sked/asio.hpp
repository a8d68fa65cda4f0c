// sked/asio.hpp — sked on an asio io_context: the driver and coroutine jobs.
// Target sked::asio (Boost.Asio) or sked::asio_standalone (standalone asio, which defines
// SKED_ASIO_STANDALONE). See docs/asio.md.
#pragma once

#include "asio/coroutine_job.hpp"
#include "asio/driver.hpp"
#include "asio/net.hpp"
