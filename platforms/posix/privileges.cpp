#include "platforms/posix/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>

#include "platforms/posix/errno_posix.h"

namespace tinyimapd::posix {
namespace {

// User and group names (config: at most 64 bytes) and the chroot path, as C
// strings.
constexpr std::size_t kNameMax = 256;
constexpr std::size_t kPathMax = 4096;
// getpwnam_r/getgrnam_r scratch. sysconf(_SC_GETPW_R_SIZE_MAX) is only a
// hint (glibc says 1024, or -1); a group with many members needs more, so
// this is generous and an entry that still does not fit is TooLong. Static:
// the process is single-threaded and this runs once.
constexpr std::size_t kNssBufferSize = 16 * 1024;
char g_nss_buffer[kNssBufferSize];

bool copy_cstr(std::string_view s, char* out, std::size_t capacity) {
    if (s.size() >= capacity || s.find('\0') != std::string_view::npos) return false;
    memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return true;
}

Status fail(TextWriter& error, Status st, std::string_view what, std::string_view name,
            std::string_view why) {
    error.clear();
    error.put(what);
    if (!name.empty()) error.put(" '").put(name).put('\'');
    error.put(": ").put(why);
    return st;
}

Status fail_errno(TextWriter& error, int err, std::string_view what, std::string_view name) {
    const Status st = status_from_errno(err);
    return fail(error, st, what, name, status_text(st));
}

Status lookup_user(std::string_view name, uid_t* uid, gid_t* gid, TextWriter& error) {
    char cname[kNameMax];
    if (!copy_cstr(name, cname, sizeof cname)) {
        return fail(error, Status::Invalid, "user", name, "invalid name");
    }
    struct passwd entry;
    struct passwd* found = nullptr;
    int rc;
    do {
        rc = getpwnam_r(cname, &entry, g_nss_buffer, sizeof g_nss_buffer, &found);
    } while (rc == EINTR);
    if (rc == ERANGE) return fail(error, Status::TooLong, "user", name, "entry too long");
    if (rc != 0) return fail_errno(error, rc, "user", name);
    if (found == nullptr) return fail(error, Status::NotFound, "user", name, "no such user");
    *uid = entry.pw_uid;
    *gid = entry.pw_gid;
    return Status::Ok;
}

Status lookup_group(std::string_view name, gid_t* gid, TextWriter& error) {
    char cname[kNameMax];
    if (!copy_cstr(name, cname, sizeof cname)) {
        return fail(error, Status::Invalid, "group", name, "invalid name");
    }
    struct group entry;
    struct group* found = nullptr;
    int rc;
    do {
        rc = getgrnam_r(cname, &entry, g_nss_buffer, sizeof g_nss_buffer, &found);
    } while (rc == EINTR);
    if (rc == ERANGE) return fail(error, Status::TooLong, "group", name, "entry too long");
    if (rc != 0) return fail_errno(error, rc, "group", name);
    if (found == nullptr) return fail(error, Status::NotFound, "group", name, "no such group");
    *gid = entry.gr_gid;
    return Status::Ok;
}

// chdir first so that no directory outside the new root stays the working
// directory (the classic chroot escape), then "/" inside it.
Status enter_chroot(std::string_view dir, TextWriter& error) {
    char path[kPathMax];
    if (dir.front() != '/' || !copy_cstr(dir, path, sizeof path)) {
        return fail(error, Status::Invalid, "chroot", dir, "not an absolute path");
    }
    if (chdir(path) != 0) return fail_errno(error, errno, "chroot", dir);
    if (chroot(".") != 0) return fail_errno(error, errno, "chroot", dir);
    if (chdir("/") != 0) return fail_errno(error, errno, "chroot", dir);
    return Status::Ok;
}

}  // namespace

bool running_as_root() {
    return geteuid() == 0;
}

Status drop_privileges(std::string_view user, std::string_view group, std::string_view chroot_dir,
                       TextWriter& error) {
    error.clear();
    if (user.empty()) {
        if (!group.empty() || !chroot_dir.empty()) {
            return fail(error, Status::Invalid, "privileges", {},
                        "'group' and 'chroot' need 'user'");
        }
        return Status::Ok;
    }
    uid_t uid = 0;
    gid_t gid = 0;
    Status st = lookup_user(user, &uid, &gid, error);
    if (st != Status::Ok) return st;
    if (!group.empty()) {
        st = lookup_group(group, &gid, error);
        if (st != Status::Ok) return st;
    }

    if (!running_as_root()) {
        // Started unprivileged: fine if that is already the configured user.
        if (!chroot_dir.empty()) {
            return fail(error, Status::Permission, "chroot", chroot_dir, "needs root");
        }
        if (geteuid() != uid || getuid() != uid || getegid() != gid || getgid() != gid) {
            return fail(error, Status::Permission, "user", user,
                        "cannot switch users without root");
        }
        return Status::Ok;
    }
    if (uid == 0) return fail(error, Status::Invalid, "user", user, "is root (uid 0)");

    if (!chroot_dir.empty()) {
        st = enter_chroot(chroot_dir, error);
        if (st != Status::Ok) return st;
    }
    // Groups first: once the uid is gone, they can no longer be changed.
    if (setgroups(1, &gid) != 0) return fail_errno(error, errno, "setgroups", group);
    if (setgid(gid) != 0) return fail_errno(error, errno, "setgid", group);
    if (setuid(uid) != 0) return fail_errno(error, errno, "setuid", user);

    // Root must be out of reach now: real, effective and saved ids all moved.
    if (setuid(0) == 0 || seteuid(0) == 0 || (gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
        return fail(error, Status::Error, "user", user, "root could be regained; refusing");
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
        return fail(error, Status::Error, "user", user, "ids did not change as expected");
    }
    return Status::Ok;
}

}  // namespace tinyimapd::posix
