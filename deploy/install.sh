#!/bin/sh
# Installs ovn-k8s on a host from the one executable:
#   deploy/install.sh [--binary PATH] [--prefix /usr/local] [--root /] [--unit NAME]...
# - copies the binary to PREFIX/bin/ovn-k8s (atomically: temp file, then rename);
# - links the original command names to it (ovn-k8s-overlay, ovn-k8s-util,
#   ovn-k8s-gateway-helper, ovn-k8s-watcher, ovn-k8s-cni-overlay) so existing scripts keep
#   working; the CNI link (ovn_cni) is made by minion-init in the CNI bin directory;
# - installs the systemd units from deploy/systemd (all, or the --unit ones) into
#   ROOT/etc/systemd/system, pointing ExecStart at PREFIX/bin/ovn-k8s.
# It does not enable or start anything: `systemctl enable --now ovn-k8s` does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
binary=""; prefix=/usr/local; root=/; units=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --unit) units="$units $2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument \"$1\"; see --help" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ]; then
  echo "install.sh: --binary PATH is required (the file built by 'deno task compile')" >&2; exit 2
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
  echo "install.sh: cannot install --binary \"$binary\": not an executable file" >&2; exit 2
fi
bindir="$root/${prefix#/}/bin"; bindir=$(echo "$bindir" | sed 's#//*#/#g')
unitdir=$(echo "$root/etc/systemd/system" | sed 's#//*#/#g')
mkdir -p "$bindir" "$unitdir"
cp "$binary" "$bindir/.ovn-k8s.tmp.$$"
chmod 0755 "$bindir/.ovn-k8s.tmp.$$"
mv -f "$bindir/.ovn-k8s.tmp.$$" "$bindir/ovn-k8s"
for name in ovn-k8s-overlay ovn-k8s-util ovn-k8s-gateway-helper ovn-k8s-watcher ovn-k8s-cni-overlay; do
  ln -sfn ovn-k8s "$bindir/$name"
done
[ -n "$units" ] || units=$(cd "$here/systemd" && ls *.service)
for u in $units; do
  src="$here/systemd/$u"
  [ -f "$src" ] || { echo "install.sh: no unit \"$u\" in $here/systemd" >&2; exit 2; }
  sed "s#/usr/local/bin/ovn-k8s#$prefix/bin/ovn-k8s#g" "$src" > "$unitdir/.$u.tmp.$$"
  mv -f "$unitdir/.$u.tmp.$$" "$unitdir/$u"
done
echo "installed $bindir/ovn-k8s (+ original command names) and units:$units"
