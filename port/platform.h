// port/platform.h — the references core is given at construction.
//
// core never reaches for a global: the program (platforms/posix/main.cpp, or a
// test on platforms/sim) builds one Platform and passes it down.
#pragma once

#include "port/clock.h"
#include "port/compress.h"
#include "port/entropy.h"
#include "port/fs.h"
#include "port/log.h"
#include "port/net.h"
#include "port/password.h"
#include "port/tls.h"

namespace tinyimapd::port {

struct Platform {
    Net& net;
    Fs& fs;
    Clock& clock;
    Entropy& entropy;
    Log& log;
    Tls* tls = nullptr;            // nullptr: built without TLS, or none configured
    Password* password = nullptr;  // nullptr: only {PLAIN}/{CLEARTEXT} passwords
    Compress* compress = nullptr;  // nullptr: built without zlib (no COMPRESS=DEFLATE)
};

}  // namespace tinyimapd::port
