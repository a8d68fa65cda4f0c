// JSON strings: the one quoting every JSON sked writes goes through.
#include "sked/json.hpp"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("json: quotes, backslashes and control characters are escaped -- other bytes are kept") {
    CHECK(sked::json_quoted("daily_reward") == R"("daily_reward")");
    CHECK(sked::json_quoted(R"(fails "quoted")") == R"("fails \"quoted\"")");
    CHECK(sked::json_quoted(R"(C:\jobs)") == R"("C:\\jobs")");
    CHECK(sked::json_quoted("line\nbreak\ttab") == R"("line\u000abreak\u0009tab")");
    CHECK(sked::json_quoted(std::string("nul\0byte", 8)) == R"("nul\u0000byte")");
    CHECK(sked::json_quoted("\x1f\x7f") == "\"\\u001f\x7f\"");
    CHECK(sked::json_quoted("Maynila ☀") == "\"Maynila ☀\"");
    CHECK(sked::json_quoted("") == R"("")");
    std::string out = "[";
    sked::append_json_quoted(out, "a");
    CHECK(out == "[\"a\"");
}
