// platforms/posix/privileges: dropping root for good. Each drop happens in a
// fork()ed child (it cannot be undone), which reports through its exit code.
// Needs root (CI's containers run as root); skipped otherwise.
#include "platforms/posix/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

using namespace tinyimapd;

namespace {

// Runs `child` in a forked process; returns its exit code (or 100 + signal).
template <class F>
int in_child(F child) {
    const pid_t pid = fork();
    if (pid == 0) _exit(child());
    if (pid < 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 100 + WTERMSIG(status);
}

bool have_user(const char* name, uid_t* uid, gid_t* gid) {
    const passwd* p = getpwnam(name);
    if (p == nullptr) return false;
    *uid = p->pw_uid;
    *gid = p->pw_gid;
    return true;
}

}  // namespace

TEST_CASE("running_as_root says what geteuid says", "[privileges]") {
    CHECK(posix::running_as_root() == (geteuid() == 0));
}

TEST_CASE("drop_privileges: nothing asked, nothing done", "[privileges]") {
    FixedText<256> err;
    const uid_t before = geteuid();
    CHECK(posix::drop_privileges("", "", "", err) == Status::Ok);
    CHECK(geteuid() == before);
    CHECK(err.size() == 0);
}

TEST_CASE("drop_privileges: bad arguments are refused before any change", "[privileges]") {
    FixedText<256> err;
    const uid_t before = geteuid();
    CHECK(posix::drop_privileges("", "nogroup", "", err) == Status::Invalid);
    CHECK(err.view() == "privileges: 'group' and 'chroot' need 'user'");
    CHECK(posix::drop_privileges("", "", "/tmp", err) == Status::Invalid);
    CHECK(posix::drop_privileges("no-such-user-tinyimapd", "", "", err) == Status::NotFound);
    CHECK(err.view() == "user 'no-such-user-tinyimapd': no such user");
    CHECK(posix::drop_privileges(std::string_view("nob\0dy", 6), "", "", err) == Status::Invalid);
    CHECK(posix::drop_privileges("nobody", "no-such-group-tinyimapd", "", err) == Status::NotFound);
    CHECK(err.view() == "group 'no-such-group-tinyimapd': no such group");
    CHECK(geteuid() == before);
}

TEST_CASE("drop_privileges as root: to nobody/nogroup, for good", "[privileges]") {
    if (geteuid() != 0) {
        WARN("not root: skipped");
        return;
    }
    uid_t uid;
    gid_t user_gid;
    if (!have_user("nobody", &uid, &user_gid) || getgrnam("nogroup") == nullptr) {
        WARN("no nobody/nogroup: skipped");
        return;
    }
    const gid_t gid = getgrnam("nogroup")->gr_gid;
    const int code = in_child([&]() -> int {
        FixedText<256> err;
        if (posix::drop_privileges("nobody", "nogroup", "", err) != Status::Ok) return 1;
        if (getuid() != uid || geteuid() != uid) return 2;
        if (getgid() != gid || getegid() != gid) return 3;
        gid_t groups[8];
        const int n = getgroups(8, groups);
        if (n != 1 || groups[0] != gid) return 4;
        if (setuid(0) == 0 || seteuid(0) == 0) return 5;
        if (setgid(0) == 0 || setgroups(0, nullptr) == 0) return 6;
        if (posix::running_as_root()) return 7;
        return 0;
    });
    CHECK(code == 0);
    CHECK(geteuid() == 0);  // the parent is untouched
}

TEST_CASE("drop_privileges as root: the group defaults to the user's", "[privileges]") {
    if (geteuid() != 0) {
        WARN("not root: skipped");
        return;
    }
    uid_t uid;
    gid_t gid;
    if (!have_user("nobody", &uid, &gid)) {
        WARN("no nobody: skipped");
        return;
    }
    const int code = in_child([&]() -> int {
        FixedText<256> err;
        if (posix::drop_privileges("nobody", "", "", err) != Status::Ok) return 1;
        if (getuid() != uid || getgid() != gid || getegid() != gid) return 2;
        gid_t groups[8];
        if (getgroups(8, groups) != 1 || groups[0] != gid) return 3;
        return setuid(0) == 0 ? 4 : 0;
    });
    CHECK(code == 0);
}

TEST_CASE("drop_privileges as root: chroot, then paths resolve inside it", "[privileges]") {
    if (geteuid() != 0) {
        WARN("not root: skipped");
        return;
    }
    uid_t uid;
    gid_t gid;
    if (!have_user("nobody", &uid, &gid)) {
        WARN("no nobody: skipped");
        return;
    }
    char dir[] = "/tmp/tinyimapd-chroot-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    REQUIRE(chmod(dir, 0755) == 0);
    const std::string marker = std::string(dir) + "/marker";
    const int fd = open(marker.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    const int code = in_child([&]() -> int {
        FixedText<256> err;
        if (posix::drop_privileges("nobody", "", dir, err) != Status::Ok) return 1;
        char cwd[64];
        if (getcwd(cwd, sizeof cwd) == nullptr || std::string(cwd) != "/") return 2;
        if (access("/marker", F_OK) != 0 || access("marker", F_OK) != 0) return 3;
        if (access(marker.c_str(), F_OK) == 0) return 4;  // the outside path is gone
        if (chroot("/") == 0) return 5;                   // and no root to chroot again
        return getuid() == uid ? 0 : 6;
    });
    CHECK(code == 0);
    unlink(marker.c_str());
    rmdir(dir);

    const int bad = in_child([&]() -> int {
        FixedText<256> e;
        if (posix::drop_privileges("nobody", "", "relative/dir", e) != Status::Invalid) return 1;
        if (posix::drop_privileges("nobody", "", "/no/such/dir/tinyimapd", e) != Status::NotFound)
            return 2;
        return geteuid() == 0 ? 0 : 3;  // nothing changed on the way
    });
    CHECK(bad == 0);
}

TEST_CASE("drop_privileges as root refuses a user with uid 0", "[privileges]") {
    if (geteuid() != 0) {
        WARN("not root: skipped");
        return;
    }
    FixedText<256> err;
    CHECK(posix::drop_privileges("root", "", "", err) == Status::Invalid);
    CHECK(err.view() == "user 'root': is root (uid 0)");
    CHECK(geteuid() == 0);
}

TEST_CASE("drop_privileges not as root: only the current user is fine", "[privileges]") {
    if (geteuid() != 0) {
        WARN("not root: skipped");
        return;
    }
    uid_t uid;
    gid_t gid;
    if (!have_user("nobody", &uid, &gid)) {
        WARN("no nobody: skipped");
        return;
    }
    const int code = in_child([&]() -> int {
        if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) return 1;
        FixedText<256> err;
        if (posix::drop_privileges("nobody", "", "", err) != Status::Ok) return 2;
        if (posix::drop_privileges("root", "", "", err) != Status::Permission) return 3;
        if (posix::drop_privileges("nobody", "", "/tmp", err) != Status::Permission) return 4;
        if (err.view() != "chroot '/tmp': needs root") return 5;
        return 0;
    });
    CHECK(code == 0);
}
