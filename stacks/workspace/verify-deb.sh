#!/bin/bash
# verify-deb.sh --fingerprint FPR --key KEYFILE DEB
#
# Checks a .deb signed the way Posit signs its RStudio Server releases, without dpkg-sig (not packaged for
# Debian 12 or Ubuntu 24.04). Posit's release script runs `dpkg-sig -k KEY --sign builder`, which appends an ar
# member `_gpgbuilder`: a clear-signed manifest whose `Files:` field lists `md5 sha1 size name` for every other
# member (rstudio/rstudio docker/jenkins/sign-release.sh; the checks below follow py-dpkg-sig's verifier,
# AmitAronovitch/py-dpkg-sig dpkg_sig/core.py). Exit 0 only when all of these hold:
#   1. KEYFILE holds the key whose primary fingerprint is FPR (only that key is trusted, in a keyring of its own);
#   2. the archive has exactly one signature member, named _gpgbuilder, and no other member twice;
#   3. _gpgbuilder is one clear-signed message, with a good signature by FPR (not expired, not revoked);
#   4. every member the signed manifest lists (once) has that size, MD5 and SHA-1, and every member is listed.
# Otherwise one line `verify-deb: DEB: reason` on stderr and exit 1 (exit 2: wrong usage).
set -euo pipefail
export LC_ALL=C

usage() {
  echo "usage: verify-deb.sh --fingerprint FPR --key KEYFILE DEB" >&2
  exit 2
}

fingerprint="" key="" deb=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fingerprint) [ $# -ge 2 ] || usage; fingerprint=$2; shift 2 ;;
    --key) [ $# -ge 2 ] || usage; key=$2; shift 2 ;;
    -*) usage ;;
    *) [ -z "$deb" ] || usage; deb=$1; shift ;;
  esac
done
if [ -z "$fingerprint" ] || [ -z "$key" ] || [ -z "$deb" ]; then usage; fi
# Fingerprints are often written in groups of four; compare them as 40 upper-case hex digits.
fingerprint=$(printf '%s' "$fingerprint" | tr -d ' ' | tr '[:lower:]' '[:upper:]')
[[ "$fingerprint" =~ ^[0-9A-F]{40}$ ]] || { echo "verify-deb.sh: --fingerprint needs 40 hex digits" >&2; exit 2; }

fail() {
  printf 'verify-deb: %s: %s\n' "$deb" "$*" >&2
  exit 1
}

if [ ! -f "$deb" ] || [ ! -r "$deb" ]; then fail "cannot read the package"; fi
if [ ! -f "$key" ] || [ ! -r "$key" ]; then fail "cannot read the key file $key"; fi

work=$(mktemp -d)
# gpg may start an agent for this home; it goes with the home.
trap 'gpgconf --kill gpg-agent > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 0700 "$GNUPGHOME"

# 1. The trusted key: only what KEYFILE holds, and it must be the pinned key.
gpg --batch --quiet --import "$key" 2> /dev/null || fail "the key file $key holds no OpenPGP public key"
primaries=$(gpg --batch --with-colons --list-keys 2> /dev/null |
  awk -F: '$1 == "pub" { primary = 1; next } $1 == "sub" { primary = 0 } $1 == "fpr" && primary { print $10; primary = 0 }')
grep -qx "$fingerprint" <<< "$primaries" || fail "the key file $key does not hold key $fingerprint"

# 2. Members: exactly one signature member, called _gpgbuilder; no name twice (which copy would dpkg use?).
ar t "$deb" > "$work/members" 2> /dev/null || fail "not an ar archive (a .deb is one)"
signatures=$(grep -c '^_gpg' "$work/members" || true)
if [ "$signatures" -eq 0 ]; then
  fail "no _gpgbuilder signature member: the package is not signed"
elif [ "$signatures" -gt 1 ]; then
  fail "$signatures signature members ($(grep '^_gpg' "$work/members" | paste -sd, -)); expected exactly one _gpgbuilder"
fi
grep -qx '_gpgbuilder' "$work/members" || fail "signature member $(grep '^_gpg' "$work/members") is not _gpgbuilder"
twice=$(sort "$work/members" | uniq -d | head -n 1)
[ -z "$twice" ] || fail "member $twice appears more than once"

# 3. The manifest: one clear-signed message and nothing around it, with a good signature by the pinned key.
ar p "$deb" _gpgbuilder > "$work/manifest.asc"
if [ "$(head -n 1 "$work/manifest.asc")" != "-----BEGIN PGP SIGNED MESSAGE-----" ] ||
  [ "$(grep -c '^-----BEGIN PGP SIGNED MESSAGE-----$' "$work/manifest.asc")" -ne 1 ] ||
  [ "$(grep -c '^-----BEGIN PGP SIGNATURE-----$' "$work/manifest.asc")" -ne 1 ] ||
  [ "$(grep -v '^[[:space:]]*$' "$work/manifest.asc" | tail -n 1)" != "-----END PGP SIGNATURE-----" ]; then
  fail "_gpgbuilder is not a single clear-signed manifest"
fi
verified=0
gpg --batch --status-fd 3 --output "$work/manifest.txt" --decrypt "$work/manifest.asc" \
  3> "$work/status" 2> /dev/null || verified=$?
status() { awk -v word="$1" '$1 == "[GNUPG:]" && $2 == word' "$work/status"; }
if [ -n "$(status NO_PUBKEY)" ] || [ -n "$(status ERRSIG)" ]; then
  signer=$(status ERRSIG | awk '{ print $3; exit }')
  fail "the manifest is not signed by key $fingerprint (signed by key ID ${signer:-unknown})"
fi
[ -z "$(status BADSIG)" ] || fail "bad signature on the manifest: it was changed after signing"
[ -z "$(status EXPKEYSIG)" ] || fail "the signing key $fingerprint has expired"
[ -z "$(status REVKEYSIG)" ] || fail "the signing key $fingerprint is revoked"
[ -z "$(status EXPSIG)" ] || fail "the manifest's signature has expired"
# gpg exits 0 for a good signature by a key it merely does not trust (this keyring trusts nothing): anything
# else means it found a problem its status lines above do not name, and the manifest text is not to be used.
[ "$verified" -eq 0 ] || fail "gpg could not verify the manifest (exit $verified)"
if [ "$(status GOODSIG | wc -l)" -ne 1 ] || [ "$(status VALIDSIG | wc -l)" -ne 1 ]; then
  fail "the manifest does not carry exactly one good signature"
fi
# VALIDSIG's 10th argument is the primary key's fingerprint (the signature may come from its subkey).
signed_by=$(status VALIDSIG | awk '{ print ($12 != "" ? $12 : $3) }')
[ "$signed_by" = "$fingerprint" ] || fail "the manifest is signed by $signed_by, not $fingerprint"

# 4. Every listed member's size and hashes; every member listed. `Files:` has an empty first line, then one
# indented `md5 sha1 size name` line per member (dpkg-sig's format).
awk '
  /^Files:[[:space:]]*$/ { files = 1; next }
  files && /^[[:space:]]/ { sub(/^[[:space:]]+/, ""); print; next }
  { files = 0 }
' "$work/manifest.txt" > "$work/listed"
[ -s "$work/listed" ] || fail "the signed manifest lists no members"
listed=0
while read -r md5 sha1 size name rest; do
  [[ "$md5" =~ ^[0-9a-f]{32}$ && "$sha1" =~ ^[0-9a-f]{40}$ && "$size" =~ ^[0-9]+$ && -n "$name" && -z "$rest" ]] ||
    fail "malformed line in the signed manifest: $md5 $sha1 $size $name $rest"
  [[ "$name" != _gpg* ]] || fail "the signed manifest lists the signature member $name"
  grep -qxF -- "$name" "$work/members" || fail "member $name listed in the signed manifest is missing"
  ar p "$deb" "$name" > "$work/member"
  [ "$(stat -c %s "$work/member")" = "$size" ] || fail "member $name has $(stat -c %s "$work/member") bytes, signed: $size"
  [ "$(md5sum < "$work/member" | cut -d' ' -f1)" = "$md5" ] || fail "member $name does not match its signed MD5"
  [ "$(sha1sum < "$work/member" | cut -d' ' -f1)" = "$sha1" ] || fail "member $name does not match its signed SHA-1"
  listed=$((listed + 1))
done < "$work/listed"
# dpkg-sig lists each member once; a name twice is not a manifest dpkg-sig wrote.
twice=$(awk '{ print $4 }' "$work/listed" | sort | uniq -d | head -n 1)
[ -z "$twice" ] || fail "the signed manifest lists member $twice more than once"
while read -r name; do
  [ "$name" = _gpgbuilder ] && continue
  awk -v n="$name" '$4 == n { found = 1 } END { exit !found }' "$work/listed" ||
    fail "member $name is not covered by the signature"
done < "$work/members"
echo "verify-deb: $deb: good signature by $fingerprint; $listed members match the signed manifest"
