# Sourced by tests/deps/build_*.sh: fetch a Debian source package once per
# build tree with `apt-get source`, through a private apt configuration kept
# in the build tree (a deb-src line for one suite; the system's sources and
# the _apt user are not touched).
#
#   debian_source <package> <suite> <mirror> <dir-glob> <marker> <apt-dir> <src-dir>
# unpacks <package> into <src-dir>/<dir> unless <src-dir>/<dir-glob>/<marker>
# already exists; serialised with flock on <src-dir>.<package>.lock.
debian_source() {
  local pkg=$1 suite=$2 mirror=$3 glob=$4 marker=$5 apt=$6 src=$7
  mkdir -p "$src"
  (
    flock 9
    compgen -G "$src/$glob/$marker" >/dev/null && exit 0
    printf 'fetching Debian %s'"'"'s %s source package\n' "$suite" "$pkg" >&2
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    printf 'deb-src %s %s main\n' "$mirror" "$suite" >"$apt/sources.list"
    local opts=(
      -o "Dir::Etc::SourceList=$apt/sources.list"
      -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists"
      -o "Dir::Cache=$apt/cache"
      -o APT::Sandbox::User=root   # files in build/: no _apt user needed
    )
    apt-get "${opts[@]}" update >&2
    local tmp=$src.$pkg.tmp dir
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$tmp" && apt-get "${opts[@]}" source "$pkg") >&2
    dir=$(find "$tmp" -maxdepth 1 -type d -name "$glob" | head -n1)
    [[ -n $dir ]] || { echo "no $glob directory from apt-get source $pkg" >&2; exit 1; }
    mv "$dir" "$src/"
    rm -rf "$tmp"
  ) 9>"$src.$pkg.lock"
}
