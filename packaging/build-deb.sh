#!/bin/sh
# Builds the Debian package of Sahih with dpkg-deb (no cargo-deb needed):
#   packaging/build-deb.sh [OUTDIR]         # builds target/release/sahih first
#   SAHIH_BIN=/path/to/sahih packaging/build-deb.sh [OUTDIR]
# Writes OUTDIR/sahih_<version>_<arch>.deb (default OUTDIR: target/debian).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/target/debian}

if [ -z "${SAHIH_BIN:-}" ]; then
    (cd "$root" && cargo build --release -p sahih)
    SAHIH_BIN=$root/target/release/sahih
fi
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "build-deb: no version in Cargo.toml" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/pkg

install -D -m 0755 "$SAHIH_BIN" "$pkg/usr/bin/sahih"
strip --strip-unneeded "$pkg/usr/bin/sahih" 2>/dev/null || true
install -D -m 0755 "$here/sahih-setup" "$pkg/usr/sbin/sahih-setup"
install -D -m 0644 "$here/sahih.service" "$pkg/lib/systemd/system/sahih.service"
install -d -m 0750 "$pkg/etc/sahih"
install -D -m 0640 "$here/sahih.env" "$pkg/etc/sahih/sahih.env"
install -D -m 0644 "$root/README.md" "$pkg/usr/share/doc/sahih/README.md"
install -D -m 0644 "$root/docs/ARCHITECTURE.md" "$pkg/usr/share/doc/sahih/ARCHITECTURE.md"
if [ -f "$root/LICENSE" ]; then
    install -D -m 0644 "$root/LICENSE" "$pkg/usr/share/doc/sahih/copyright"
fi
install -d -m 0755 "$pkg/DEBIAN"
for f in postinst prerm postrm; do
    install -m 0755 "$here/debian/$f" "$pkg/DEBIAN/$f"
done
install -m 0644 "$here/debian/conffiles" "$pkg/DEBIAN/conffiles"

# Shared-library dependencies of the binary, as dpkg-shlibdeps computes them.
mkdir -p "$stage/src/debian"
printf 'Source: sahih\n\nPackage: sahih\nArchitecture: any\n' > "$stage/src/debian/control"
depends=$(cd "$stage/src" && dpkg-shlibdeps -O "$pkg/usr/bin/sahih" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || depends="libc6"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control" > "$pkg/DEBIAN/control"
echo "Installed-Size: $size" >> "$pkg/DEBIAN/control"

mkdir -p "$out"
deb=$out/sahih_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$pkg" "$deb" >/dev/null
echo "$deb"
