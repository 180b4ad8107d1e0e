#include "core/base/assert.h"

namespace tinyimapd {
namespace {

AssertHandler g_handler = nullptr;  // constant-initialised: no static constructor

}  // namespace

void set_assert_handler(AssertHandler handler) {
    g_handler = handler;
}

void assert_failed(const char* expression, const char* file, int line) {
    if (g_handler != nullptr) g_handler(expression, file, line);
    __builtin_trap();
}

}  // namespace tinyimapd
