"""stacks/workspace/verify-deb.sh against packages built and signed here with throwaway keys.

Each broken package is made from a good one by one change whose effect is known from how it was made (which
member changed, which key signed), so the expected reason does not come from the script under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehearsal.boot.signed_deb import (
    SigningKey,
    build_deb,
    clearsign,
    make_key,
    manifest,
    read_ar,
    sign,
    stop_agent,
    write_ar,
)
from stacks.workspace import bootstrap

SCRIPT = Path(bootstrap.__file__).with_name("verify-deb.sh")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gpg", "ar", "dpkg-deb")), reason="needs gpg, ar (binutils), dpkg-deb"
)


@dataclass(frozen=True)
class Keys:
    pinned: SigningKey
    other: SigningKey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    root = tmp_path_factory.mktemp("keys")
    made = Keys(pinned=make_key(root / "pinned", "pinned"), other=make_key(root / "other", "other"))
    yield made
    stop_agent(made.pinned)
    stop_agent(made.other)


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pkg")
    (root / "usr/share/demo").mkdir(parents=True)
    (root / "usr/share/demo/README").write_text("a package to sign\n" * 50)
    return build_deb(root.parent / "demo_1.0_all.deb", root, package="demo", version="1.0")


def copy(deb: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(deb, target)
    return target


def verify(deb: Path, key: Path, fingerprint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--fingerprint", fingerprint, "--key", str(key), str(deb)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refusal prints, after checking the refusal's shape."""
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_script_is_shellcheck_clean() -> None:
    result = subprocess.run(["shellcheck", "--severity=style", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_good_package_passes(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    deb = sign(copy(unsigned, tmp_path, "good.deb"), keys.pinned)
    result = verify(deb, keys.pinned.public_key, keys.pinned.fingerprint)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"verify-deb: {deb}: good signature by {keys.pinned.fingerprint}; 3 members match the signed manifest"
    )
    # dpkg itself accepts the signed package (it skips members whose names start with '_')
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package"], capture_output=True, text=True)
    assert info.stdout.strip() == "demo"


def test_fingerprint_may_be_written_in_groups_and_lower_case(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    deb = sign(copy(unsigned, tmp_path, "good.deb"), keys.pinned)
    spaced = " ".join(keys.pinned.fingerprint[i : i + 4] for i in range(0, 40, 4)).lower()
    assert verify(deb, keys.pinned.public_key, spaced).returncode == 0


def test_package_signed_by_another_key_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    deb = sign(copy(unsigned, tmp_path, "wrong-key.deb"), keys.other)
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert f"is not signed by key {keys.pinned.fingerprint}" in line
    assert keys.other.fingerprint[-16:] in line  # names the key ID that did sign


def test_key_file_must_hold_the_pinned_key(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # the attacker's key file together with the attacker's signature: the pin is what refuses it
    deb = sign(copy(unsigned, tmp_path, "other.deb"), keys.other)
    line = refused(verify(deb, keys.other.public_key, keys.pinned.fingerprint))
    assert line.endswith(f"the key file {keys.other.public_key} does not hold key {keys.pinned.fingerprint}")


def test_changed_member_with_the_original_manifest_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    deb = sign(copy(unsigned, tmp_path, "changed.deb"), keys.pinned)
    members = read_ar(deb)
    index = next(i for i, (name, _) in enumerate(members) if name.startswith("data.tar"))
    name, data = members[index]
    flipped = bytes([data[0] ^ 0xFF]) + data[1:]  # same size: only the hashes can tell
    members[index] = (name, flipped)
    write_ar(deb, members)
    assert refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint)).endswith(
        f"member {name} does not match its signed MD5"
    )
    members[index] = (name, data + b"\0" * 16)  # longer: the size tells first
    write_ar(deb, members)
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith(f"member {name} has {len(data) + 16} bytes, signed: {len(data)}")


def test_unsigned_package_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    line = refused(verify(copy(unsigned, tmp_path, "unsigned.deb"), keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("no _gpgbuilder signature member: the package is not signed")


def test_two_signature_members_are_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # a good signature plus a second one (which copy would a verifier read?)
    deb = sign(copy(unsigned, tmp_path, "two.deb"), keys.pinned)
    members = read_ar(deb)
    write_ar(deb, [*members, ("_gpgbuilder", clearsign(manifest(members), keys.other))])
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("2 signature members (_gpgbuilder,_gpgbuilder); expected exactly one _gpgbuilder")


def test_edited_manifest_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # the manifest re-written to match a changed member, keeping the old signature block
    deb = sign(copy(unsigned, tmp_path, "edited.deb"), keys.pinned)
    members = read_ar(deb)
    signed = members[-1][1].decode()
    first_md5 = signed.split("Files: \n\t", 1)[1][:32]
    members[-1] = ("_gpgbuilder", signed.replace(first_md5, "0" * 32, 1).encode())
    write_ar(deb, members)
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("bad signature on the manifest: it was changed after signing")


def test_member_outside_the_manifest_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    deb = sign(copy(unsigned, tmp_path, "extra.deb"), keys.pinned)
    members = read_ar(deb)
    write_ar(deb, [*members[:-1], ("data.tar.gz", b"smuggled"), members[-1]])
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("member data.tar.gz is not covered by the signature")


def test_not_a_package_is_refused(keys: Keys, tmp_path: Path) -> None:
    junk = tmp_path / "junk.deb"
    junk.write_text("<html>404</html>\n")  # what a wrong download URL returns
    assert refused(verify(junk, keys.pinned.public_key, keys.pinned.fingerprint)).endswith(
        "not an ar archive (a .deb is one)"
    )
    line = refused(verify(tmp_path / "absent.deb", keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("cannot read the package")


@pytest.mark.parametrize(
    "args",
    [[], ["--fingerprint", "ABCD"], ["--fingerprint", "A" * 40, "--key", "k"], ["--bogus", "x", "d.deb"]],
)
def test_wrong_usage_exits_2(args: list[str]) -> None:
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1


def test_a_member_listed_twice_in_the_signed_manifest_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # even signed by the pinned key and matching: dpkg-sig lists each member once
    deb = copy(unsigned, tmp_path, "twice.deb")
    members = read_ar(deb)
    text = manifest(members)
    last = text.splitlines()[-1]
    write_ar(deb, [*members, ("_gpgbuilder", clearsign(f"{text}{last}\n", keys.pinned))])
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith(f"the signed manifest lists member {last.split()[-1]} more than once")


def test_a_gpg_failure_refuses_even_with_a_good_signature_reported(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # gpg's status lines say GOODSIG and VALIDSIG, but gpg itself fails (here: exits 2 after the real gpg ran, as
    # it does on an error its status lines name no further): its output is not to be trusted
    deb = sign(copy(unsigned, tmp_path, "good.deb"), keys.pinned)
    real = shutil.which("gpg")
    wrapper = tmp_path / "bin/gpg"
    wrapper.parent.mkdir()
    wrapper.write_text(
        f'#!/bin/bash\n"{real}" "$@"; code=$?\nfor a; do [ "$a" = --decrypt ] && exit 2; done\nexit $code\n'
    )
    wrapper.chmod(0o755)
    result = subprocess.run(
        [str(SCRIPT), "--fingerprint", keys.pinned.fingerprint, "--key", str(keys.pinned.public_key), str(deb)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"},
    )
    assert refused(result).endswith("gpg could not verify the manifest (exit 2)")


def test_a_signature_by_a_subkey_of_the_pinned_key_passes(unsigned: Path, tmp_path: Path) -> None:
    # Posit may sign with a signing subkey: what is pinned is the primary key's fingerprint, which gpg's VALIDSIG
    # names last; the signing subkey's own fingerprint (VALIDSIG's first) differs from it
    key = make_key(tmp_path / "with-subkey", "with-subkey")
    env = {**os.environ, "GNUPGHOME": str(key.home)}
    try:
        subprocess.run(
            ["gpg", "--batch", "--passphrase", "", "--quick-add-key", key.fingerprint, "ed25519", "sign", "never"],
            env=env,
            check=True,
            capture_output=True,
        )
        listing = subprocess.run(
            ["gpg", "--batch", "--with-colons", "--list-keys", key.fingerprint],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        subkey = next(
            line.split(":")[9]
            for previous, line in zip(listing, listing[1:], strict=False)
            if previous.startswith("sub:")
        )
        public = tmp_path / "public-with-subkey.asc"
        exported = subprocess.run(
            ["gpg", "--batch", "--armor", "--export", key.fingerprint], env=env, check=True, capture_output=True
        )
        public.write_bytes(exported.stdout)
        deb = copy(unsigned, tmp_path, "by-subkey.deb")
        members = read_ar(deb)
        signed = SigningKey(home=key.home, fingerprint=subkey + "!", public_key=public)  # '!': exactly this subkey
        write_ar(deb, [*members, ("_gpgbuilder", clearsign(manifest(members), signed))])
        result = verify(deb, public, key.fingerprint)
        assert result.returncode == 0, result.stderr
        # and the subkey's own fingerprint is not the pin: only a primary key is trusted
        assert refused(verify(deb, public, subkey)).endswith(f"the key file {public} does not hold key {subkey}")
    finally:
        stop_agent(key)


def test_another_key_beside_the_pinned_one_in_the_key_file_is_not_trusted(
    keys: Keys, unsigned: Path, tmp_path: Path
) -> None:
    # the key file (fetched over the network) may hold more keys than the pinned one: only the pin counts
    both = tmp_path / "both.asc"
    both.write_bytes(keys.pinned.public_key.read_bytes() + keys.other.public_key.read_bytes())
    deb = sign(copy(unsigned, tmp_path, "other.deb"), keys.other)
    line = refused(verify(deb, both, keys.pinned.fingerprint))
    assert line.endswith(f"the manifest is signed by {keys.other.fingerprint}, not {keys.pinned.fingerprint}")


def test_the_callers_own_keyring_plays_no_part(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # run with GNUPGHOME at a keyring that holds (and ultimately trusts) the other key, and signed by that key
    deb = sign(copy(unsigned, tmp_path, "other.deb"), keys.other)
    result = subprocess.run(
        [str(SCRIPT), "--fingerprint", keys.pinned.fingerprint, "--key", str(keys.pinned.public_key), str(deb)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GNUPGHOME": str(keys.other.home)},
    )
    assert f"is not signed by key {keys.pinned.fingerprint}" in refused(result)


def test_text_outside_the_signed_message_is_refused(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    # a Files: section put before the clear-signed message: a parser of the whole member would read it
    deb = copy(unsigned, tmp_path, "outside.deb")
    members = read_ar(deb)
    signed = clearsign(manifest(members), keys.pinned)
    write_ar(deb, [*members, ("_gpgbuilder", b"Files: \n\t" + b"0" * 32 + b" " + b"0" * 40 + b" 1 evil\n" + signed)])
    line = refused(verify(deb, keys.pinned.public_key, keys.pinned.fingerprint))
    assert line.endswith("_gpgbuilder is not a single clear-signed manifest")
