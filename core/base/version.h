// The server's name and version: CAPABILITY-independent identification for
// ID (RFC 2971) and `tinyimapd --version`.
#pragma once

#define TINYIMAPD_VERSION "0.2.0"

namespace tinyimapd {
inline constexpr const char* kServerName = "tinyimapd";
inline constexpr const char* kServerVersion = TINYIMAPD_VERSION;
}  // namespace tinyimapd
