# shellcheck shell=sh disable=SC1090,SC3043
# Stand-in for OpenWrt's /lib/functions/procd.sh, for
# tests/package/test_openwrt_init.sh. Written from procd.sh's documented API
# (procd_open_service, procd_open_instance, procd_set_param <type> <values>,
# procd_add_jail <name> <flags>, procd_add_jail_mount[_rw] <paths>,
# procd_close_instance, procd_add_reload_trigger <config>,
# procd_close_service): instead of building JSON for ubus, each call appends
# a line to $PROCD_LOG, arguments separated by '|', for the test to read.
# Parameter types and signal names are checked as procd.sh would use them.

procd_record() {
	local IFS='|'
	echo "$*" >>"$PROCD_LOG"
}

procd_open_service() { procd_record open_service "$@"; }
procd_close_service() {
	service_triggers
	procd_record close_service "$@"
}
procd_open_instance() { procd_record open_instance "$@"; }
procd_close_instance() { procd_record close_instance; }

procd_set_param() {
	case "$1" in
	command | respawn | file | netdev | watch | env | data | limits | user | group | \
		pidfile | stdout | stderr | facility | nice | term_timeout | no_new_privs | \
		seccomp | capabilities) ;;
	reload_signal)
		# procd.sh turns the name into a number with `kill -l` (ash).
		case "$2" in
		HUP | INT | QUIT | USR1 | USR2 | TERM) ;;
		*)
			echo "procd stand-in: reload_signal: unexpected signal '$2'" >&2
			return 1
			;;
		esac
		;;
	*)
		echo "procd stand-in: unknown parameter type '$1'" >&2
		return 1
		;;
	esac
	procd_record param "$@"
}
procd_append_param() { procd_record append_param "$@"; }

procd_add_jail() { procd_record jail "$@"; }
procd_add_jail_mount() { procd_record jail_mount "$@"; }
procd_add_jail_mount_rw() { procd_record jail_mount_rw "$@"; }

procd_add_reload_trigger() { procd_record reload_trigger "$@"; }
procd_kill() { procd_record kill "$@"; }
procd_send_signal() { procd_record signal "$@"; }
