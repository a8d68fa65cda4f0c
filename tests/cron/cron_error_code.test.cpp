// cron_errc plugs into std::error_code.
#include <sked/cron_error_code.hpp>

#include <doctest/doctest.h>

#include <string>
#include <system_error>

#include <sked/cron.hpp>

TEST_CASE("a parse error converts to a std::error_code in the sked.cron category") {
    const auto parsed = sked::cron::parse("0 0 30 2 *");
    REQUIRE_FALSE(parsed.has_value());
    const std::error_code ec = parsed.error().code;
    CHECK(ec == sked::cron_errc::never_fires);
    CHECK(ec != sked::cron_errc::invalid_step);
    CHECK(std::string(ec.category().name()) == "sked.cron");
    CHECK(ec.message() == "the cron expression can never fire");
    CHECK(static_cast<bool>(ec));
}

TEST_CASE("every code has its own message") {
    for (int code = 1; code <= static_cast<int>(sked::cron_errc::invalid_zone); ++code) {
        const std::error_code ec = static_cast<sked::cron_errc>(code);
        CHECK(ec.message() != "unknown cron error");
        CHECK(ec.message() != std::error_code(static_cast<sked::cron_errc>(code == 1 ? 2 : 1)).message());
    }
}
