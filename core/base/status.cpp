#include "core/base/status.h"

namespace tinyimapd {

const char* status_text(Status s) {
    switch (s) {
        case Status::Ok: return "ok";
        case Status::WouldBlock: return "would block";
        case Status::Eof: return "end of file";
        case Status::Closed: return "closed";
        case Status::Interrupted: return "interrupted";
        case Status::NotFound: return "not found";
        case Status::Exists: return "already exists";
        case Status::NotEmpty: return "not empty";
        case Status::NotDir: return "not a directory";
        case Status::IsDir: return "is a directory";
        case Status::NoSpace: return "no space left";
        case Status::Io: return "i/o error";
        case Status::Permission: return "permission denied";
        case Status::Busy: return "busy";
        case Status::AddrInUse: return "address in use";
        case Status::Invalid: return "invalid argument";
        case Status::TooLong: return "too long";
        case Status::Exhausted: return "no free slot";
        case Status::Unsupported: return "unsupported";
        case Status::Error: return "error";
    }
    return "error";
}

}  // namespace tinyimapd
