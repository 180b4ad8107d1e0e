# shellcheck shell=sh disable=SC1090,SC3043
# Stand-in for OpenWrt's /lib/functions.sh (the UCI part), for
# tests/package/test_openwrt_init.sh. Written from OpenWrt's documented
# behaviour: config_load <package> reads /etc/config/<package> (here
# $UCI_CONFIG_DIR/<package>) through the callbacks config/option/list; an
# option is stored as CONFIG_<section>_<option>; a list's items are joined
# with spaces there (and kept one by one for config_list_foreach);
# config_get <var> <section> <option> [default] gives the default when the
# value is empty; get_bool knows 1/on/true/yes/enabled and
# 0/off/false/no/disabled. Plain POSIX sh (the real one uses ash's
# `export -n`), so that the test can run it under dash and busybox ash.

CONFIG_SECTIONS=
CONFIG_SECTION=

config() {
	CONFIG_SECTION=${2:-cfg$((${CONFIG_NUM_SECTIONS:-0} + 1))}
	CONFIG_NUM_SECTIONS=$((${CONFIG_NUM_SECTIONS:-0} + 1))
	CONFIG_SECTIONS="$CONFIG_SECTIONS $CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
}

option() {
	local name="$1"
	shift
	config_set "$CONFIG_SECTION" "$name" "$*"
}

list() {
	local name="$1" len old
	shift
	config_get len "$CONFIG_SECTION" "${name}_LENGTH" 0
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${name}_ITEM$len" "$*"
	config_set "$CONFIG_SECTION" "${name}_LENGTH" "$len"
	config_get old "$CONFIG_SECTION" "$name"
	config_set "$CONFIG_SECTION" "$name" "${old:+$old }$*"
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

config_load() {
	local file="${UCI_CONFIG_DIR:-/etc/config}/$1"
	[ -f "$file" ] || return 1
	. "$file"
}

config_get() {
	case "$2${3:-$1}" in
	*[!A-Za-z0-9_]*) return 0 ;;
	esac
	if [ -z "$3" ]; then
		eval "echo \"\${CONFIG_${1}_${2}}\""
	else
		eval "$1=\${CONFIG_${2}_${3}:-\$4}"
	fi
}

get_bool() {
	case "$1" in
	1 | on | true | yes | enabled) echo 1 ;;
	0 | off | false | no | disabled) echo 0 ;;
	*) echo "$2" ;;
	esac
}

config_get_bool() {
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	eval "$1=\$(get_bool \"\$_tmp\" \"\$4\")"
}

config_list_foreach() {
	local section="$1" option="$2" function="$3" len c=1 val
	shift 3
	config_get len "$section" "${option}_LENGTH" 0
	while [ "$c" -le "$len" ]; do
		config_get val "$section" "${option}_ITEM$c"
		"$function" "$val" "$@"
		c=$((c + 1))
	done
}
