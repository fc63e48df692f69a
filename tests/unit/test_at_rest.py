"""Issue 20, point 5: is the workspace's disk encrypted, is its folder one where SQLite's WAL is safe, and do the
backups and the sync base stay beside the workspace, on the same disk?

Each platform's probe is fed the text its commands really print (and a folder standing in for Linux's /sys), so
every platform is tested on any machine.
"""

from __future__ import annotations

import json
import os
import plistlib
import time
from pathlib import Path

import pytest

from desktop import paths
from desktop.models import at_rest, backups
from desktop.models.at_rest import CLOUD, NETWORK, Protection
from desktop.models.sync.base import base_path


@pytest.fixture(autouse=True)
def fresh_cache():
    at_rest.clear_cache()
    yield
    at_rest.clear_cache()


# ---------------------------------------------------------------- Linux: /proc/self/mountinfo and /sys


def _mountinfo(*rows: tuple[str, str, str, str]) -> str:
    """mountinfo lines for (mount point, major:minor, file system, source)."""
    return "\n".join(
        f"{20 + i} 1 {dev} / {point} rw,relatime shared:{i} - {fs} {source} rw"
        for i, (point, dev, fs, source) in enumerate(rows)
    )


def _block(sys_root: Path, name: str, *, dev: str = "", uuid: str = "", dm_name: str = "", slaves=()) -> None:
    """A block device as /sys shows it: /sys/class/block/<name> (with dm/uuid, dm/name and slaves/ when given)
    and /sys/dev/block/<major:minor> linking to it."""
    device = sys_root / "devices" / "virtual" / "block" / name
    (device / "slaves").mkdir(parents=True)
    for slave in slaves:
        (device / "slaves" / slave).mkdir()
    if uuid or dm_name:
        (device / "dm").mkdir()
        (device / "dm" / "uuid").write_text(uuid + "\n")
        (device / "dm" / "name").write_text(dm_name + "\n")
    (sys_root / "class" / "block").mkdir(parents=True, exist_ok=True)
    (sys_root / "class" / "block" / name).symlink_to(device)
    if dev:
        (sys_root / "dev" / "block").mkdir(parents=True, exist_ok=True)
        (sys_root / "dev" / "block" / dev).symlink_to(device)


def _no_command(args, timeout):
    raise AssertionError(f"{args} was run although /sys could tell")


@pytest.fixture
def laptop_sys(tmp_path) -> Path:
    """A laptop installed the usual way: LVM on LUKS on the NVMe disk's third partition, plus a plain USB stick."""
    sys_root = tmp_path / "sys"
    _block(sys_root, "nvme0n1p3", dev="259:3")
    _block(
        sys_root,
        "dm-0",
        dev="253:0",
        uuid="CRYPT-LUKS2-8f2a0c5e1b7d4e39a6c2f0d9b3e4a5c6-luks-8f2a",
        slaves=["nvme0n1p3"],
    )
    _block(sys_root, "dm-1", dev="253:1", uuid="LVM-Qm3xkQ1bZ2", dm_name="vg-root", slaves=["dm-0"])
    _block(sys_root, "sdb1", dev="8:17")
    return sys_root


def test_a_workspace_on_lvm_on_luks_is_encrypted(laptop_sys):
    table = _mountinfo(("/", "253:1", "ext4", "/dev/mapper/vg-root"), ("/media/sam/STICK", "8:17", "vfat", "/dev/sdb1"))
    found = at_rest._linux(Path("/home/sam/ild"), mountinfo=table, sys_root=laptop_sys, run=_no_command)
    assert found.encrypted is True and found.volume == "/"
    assert "LUKS2" in found.how and found.warning is None and found.settled


def test_a_workspace_on_a_plain_usb_stick_is_not_encrypted(laptop_sys):
    table = _mountinfo(("/", "253:1", "ext4", "/dev/mapper/vg-root"), ("/media/sam/STICK", "8:17", "vfat", "/dev/sdb1"))
    found = at_rest._linux(Path("/media/sam/STICK/ild"), mountinfo=table, sys_root=laptop_sys, run=_no_command)
    assert found.encrypted is False and found.volume == "/media/sam/STICK" and "sdb1" in found.how
    words = " ".join(found.sentences())
    assert "is not encrypted" in words and "disk encryption (LUKS)" in words and "NHS numbers" in words


def test_btrfs_names_its_device_by_its_source_and_a_space_in_a_mount_point_is_read(laptop_sys):
    # Btrfs reports an anonymous device number (0:…); /dev/mapper/<name> is found by the dm device's name.
    table = _mountinfo(
        ("/", "259:3", "ext4", "/dev/nvme0n1p3"), ("/home/sam/Team\\040Data", "0:33", "btrfs", "/dev/mapper/vg-root")
    )
    found = at_rest._linux(Path("/home/sam/Team Data/ild"), mountinfo=table, sys_root=laptop_sys, run=_no_command)
    assert found.volume == "/home/sam/Team Data" and found.encrypted is True


@pytest.mark.parametrize(
    ("fs", "source", "service"),
    [
        ("nfs4", "fileserver:/export/teams", "NFS share"),
        ("cifs", "//llr-fs01/ilt", "SMB share"),
        ("smb3", "//llr-fs01/ilt", "SMB share"),
        ("fuse.sshfs", "sam@fs:/srv", "SSHFS"),
        ("fuse.rclone", "onedrive:", "rclone"),
    ],
)
def test_a_network_file_system_is_warned_against(laptop_sys, fs, source, service):
    table = _mountinfo(("/", "253:1", "ext4", "/dev/mapper/vg-root"), ("/mnt/team", "0:50", fs, source))
    found = at_rest._linux(Path("/mnt/team/ild"), mountinfo=table, sys_root=laptop_sys, run=_no_command)
    assert found.warning == NETWORK and service in found.service and found.encrypted is None
    assert "write-ahead log is not safe there" in " ".join(found.sentences())


def _lsblk(crypt: bool) -> str:
    leaf = {"name": "vg-root", "type": "lvm", "mountpoint": "/", "fstype": "ext4"}
    middle = {"name": "luks-8f2a", "type": "crypt", "mountpoint": None, "fstype": "LVM2_member", "children": [leaf]}
    part = {
        "name": "nvme0n1p3",
        "type": "part",
        "mountpoint": None,
        "fstype": "crypto_LUKS" if crypt else "LVM2_member",
    }
    part["children"] = [middle] if crypt else [leaf]
    return json.dumps({"blockdevices": [{"name": "nvme0n1", "type": "disk", "mountpoint": None, "children": [part]}]})


@pytest.mark.parametrize("crypt", [True, False])
def test_lsblk_answers_when_sys_cannot(tmp_path, crypt):
    ran = []

    def run(args, timeout):
        ran.append(args)
        assert timeout <= 1.0
        return _lsblk(crypt)

    table = _mountinfo(("/", "253:1", "ext4", "/dev/mapper/vg-root"))
    found = at_rest._linux(Path("/home/sam"), mountinfo=table, sys_root=tmp_path / "no-sys", run=run)
    assert ran == [["lsblk", "-J", "-o", "NAME,TYPE,MOUNTPOINT,FSTYPE"]]
    assert found.encrypted is crypt and "lsblk" in found.how


def test_could_not_tell_is_an_answer(tmp_path):
    table = _mountinfo(("/", "0:31", "overlay", "overlay"))
    found = at_rest._linux(Path("/work"), mountinfo=table, sys_root=tmp_path, run=lambda args, timeout: None)
    assert found.encrypted is None and found.warning is None
    assert "could not tell whether" in found.sentences()[0]


def test_an_encrypting_file_system_counts_as_encrypted(laptop_sys):
    table = _mountinfo(
        ("/", "8:17", "ext4", "/dev/sdb1"), ("/home/sam/Private", "0:40", "ecryptfs", "/home/sam/.Private")
    )
    found = at_rest._linux(Path("/home/sam/Private/ild"), mountinfo=table, sys_root=laptop_sys, run=_no_command)
    assert found.encrypted is True and found.how == "eCryptfs"


def test_the_real_machine_answers_quickly_without_raising(tmp_path):
    started = time.perf_counter()
    found = at_rest.volume_protection(tmp_path / "not made yet" / "team.sqlite")
    assert isinstance(found, Protection) and found.encrypted in (True, False, None)
    assert time.perf_counter() - started < 3.0
    assert found.sentences()


def test_each_volume_is_probed_once_a_session(monkeypatch, tmp_path):
    probes = []
    real = at_rest.crypt_layer
    monkeypatch.setattr(
        at_rest, "crypt_layer", lambda device, sys_root: probes.append(device) or real(device, sys_root)
    )
    for name in ("a.sqlite", "b.sqlite", "sub/c.sqlite"):
        at_rest.volume_protection(tmp_path / name, platform="linux")
    assert len(probes) <= 1


def test_a_probe_that_breaks_says_it_could_not_tell(monkeypatch, tmp_path):
    def broken(folder):
        raise PermissionError(13, "Permission denied", "/proc/self/mountinfo")

    monkeypatch.setattr(at_rest, "_linux", broken)
    found = at_rest.volume_protection(tmp_path / "team.sqlite", platform="linux")
    assert found.encrypted is None and "could not tell" in found.how


# ---------------------------------------------------------------- Windows: manage-bde, then the shell's property


MANAGE_BDE_ON = """BitLocker Drive Encryption: Configuration Tool version 10.0.22621
Copyright (C) 2013 Microsoft Corporation. All rights reserved.

Volume C: [Windows]
[OS Volume]

    Size:                 475.81 GB
    BitLocker Version:    2.0
    Conversion Status:    Used Space Only Encrypted
    Percentage Encrypted: 100.0%
    Encryption Method:    XTS-AES 128
    Protection Status:    Protection On
    Lock Status:          Unlocked
    Identification Field: Unknown
    Key Protectors:
        TPM
        Numerical Password
"""
MANAGE_BDE_OFF = MANAGE_BDE_ON.replace("Used Space Only Encrypted", "Fully Decrypted").replace(
    "Protection On", "Protection Off"
)
MANAGE_BDE_SUSPENDED = MANAGE_BDE_ON.replace("Protection On", "Protection Off")
MANAGE_BDE_DENIED = """BitLocker Drive Encryption: Configuration Tool version 10.0.22621
Copyright (C) 2013 Microsoft Corporation. All rights reserved.

ERROR: An attempt to access a required resource was denied.
Check that you have administrative rights on the computer.
"""


def _windows_run(manage_bde: str | None, shell: str | None, ran: list):
    def run(args, timeout):
        ran.append(args)
        return manage_bde if args[0] == "manage-bde" else shell

    return run


@pytest.mark.parametrize(
    ("manage_bde", "shell", "encrypted", "words"),
    [
        (MANAGE_BDE_ON, None, True, "BitLocker"),
        (MANAGE_BDE_OFF, None, False, "BitLocker is off"),
        (MANAGE_BDE_SUSPENDED, None, False, "suspended"),
        (MANAGE_BDE_DENIED, "1\r\n", True, "BitLocker"),
        (MANAGE_BDE_DENIED, "5", True, "BitLocker"),
        (None, "3", True, "BitLocker"),
        (MANAGE_BDE_DENIED, "2", False, "BitLocker is off"),
        (MANAGE_BDE_DENIED, "0", None, "does not cover"),
        (MANAGE_BDE_DENIED, None, None, "did not say"),  # PowerShell timed out or is not allowed
    ],
)
def test_bitlocker_is_read_from_manage_bde_or_else_the_shell(manage_bde, shell, encrypted, words):
    ran: list = []
    found = at_rest._windows(
        Path("C:\\Users\\sam\\Documents\\ild"), run=_windows_run(manage_bde, shell, ran), drive_type=lambda d: 3
    )
    assert found.volume == "C:" and found.encrypted is encrypted and words in found.how
    assert ran[0] == ["manage-bde", "-status", "C:"]
    if manage_bde in (MANAGE_BDE_ON, MANAGE_BDE_OFF, MANAGE_BDE_SUSPENDED):
        assert len(ran) == 1  # the shell is asked only when manage-bde could not say
    else:
        assert ran[1][0] == "powershell" and "System.Volume.BitLockerProtection" in ran[1][-1] and "'C:'" in ran[1][-1]
    if encrypted is False:
        assert "turn on BitLocker" in found.sentences()[0]


@pytest.mark.parametrize(
    ("path", "drive_type"),
    [
        ("\\\\llr-fs01\\ilt\\charnwood\\ild.sqlite", 3),
        ("\\\\?\\UNC\\llr-fs01\\ilt\\ild.sqlite", 3),
        ("H:\\ild.sqlite", 4),
    ],
)
def test_a_network_share_or_mapped_drive_is_warned_against(path, drive_type):
    found = at_rest._windows(Path(path), run=_no_command, drive_type=lambda d: drive_type)
    assert found.warning == NETWORK and found.encrypted is None


# ---------------------------------------------------------------- macOS: fdesetup, diskutil, mount


MAC_MOUNTS = """/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect)
/dev/disk5s1 on /Volumes/TEAM STICK (apfs, local, nodev, nosuid, journaled, noowners)
//sam@llr-fs01/ilt on /Volumes/ilt (smbfs, nodev, nosuid, mounted by sam)
"""


def _mac_run(fdesetup: str | None):
    def run(args, timeout):
        return MAC_MOUNTS if args[0].endswith("mount") else fdesetup

    return run


@pytest.mark.parametrize(
    ("text", "encrypted"),
    [
        ("FileVault is On.\n", True),
        ("FileVault is On.\nEncryption in progress: Percent completed = 42.1\n", True),
        ("FileVault is Off.\n", False),
        ("FileVault is Off, but will be enabled after the next restart.\n", False),
        (None, None),
    ],
)
def test_filevault_is_read_for_the_start_up_disk(text, encrypted):
    found = at_rest._macos(Path("/Users/sam/Documents/ild"), run=_mac_run(text), run_bytes=_no_command)
    assert found.volume == "/" and found.encrypted is encrypted  # /Users reaches the data volume by a firmlink
    if encrypted is False:
        assert "turn on FileVault" in found.sentences()[0]


@pytest.mark.parametrize("encrypted", [True, False])
def test_another_mac_volume_is_read_by_diskutil(encrypted):
    asked = []

    def run_bytes(args, timeout):
        asked.append(args)
        return plistlib.dumps({"VolumeName": "TEAM STICK", "FileVault": encrypted, "FilesystemType": "apfs"})

    found = at_rest._macos(Path("/Volumes/TEAM STICK/ild"), run=_mac_run(None), run_bytes=run_bytes)
    assert asked == [["/usr/sbin/diskutil", "info", "-plist", "/Volumes/TEAM STICK"]]
    assert found.volume == "/Volumes/TEAM STICK" and found.encrypted is encrypted


def test_an_smb_share_on_a_mac_is_warned_against():
    found = at_rest._macos(Path("/Volumes/ilt/charnwood"), run=_mac_run(None), run_bytes=_no_command)
    assert found.warning == NETWORK and found.service == "SMB share"


# ---------------------------------------------------------------- cloud-synced folders


@pytest.mark.parametrize(
    ("path", "windows", "service"),
    [
        ("C:\\Users\\sam\\OneDrive - NHS\\ILT\\ild.sqlite", True, "OneDrive"),
        ("C:\\Users\\sam\\OneDrive\\ild.sqlite", True, "OneDrive"),
        ("C:\\Users\\sam\\Dropbox (Personal)\\ild.sqlite", True, "Dropbox"),
        ("G:\\My Drive\\ild.sqlite", True, "Google Drive"),
        ("C:\\Users\\sam\\iCloudDrive\\ild.sqlite", True, "iCloud Drive"),
        ("/Users/sam/Library/CloudStorage/OneDrive-NHS/ild.sqlite", False, "OneDrive"),
        ("/Users/sam/Library/CloudStorage/GoogleDrive-sam@nhs.net/My Drive/ild.sqlite", False, "Google Drive"),
        ("/Users/sam/Library/CloudStorage/Box-Box/ild.sqlite", False, "Box"),
        ("/Users/sam/Library/Mobile Documents/com~apple~CloudDocs/ild.sqlite", False, "iCloud Drive"),
        ("/home/sam/Dropbox/ild.sqlite", False, "Dropbox"),
    ],
)
def test_a_cloud_synced_folder_is_named(path, windows, service):
    assert at_rest.cloud_service(path, {}, windows=windows) == service


@pytest.mark.parametrize(
    "path",
    ["/home/sam/Dropbox notes/ild.sqlite", "/home/sam/drive/ild.sqlite", "C:\\Users\\sam\\Documents\\ild.sqlite"],
)
def test_an_ordinary_folder_is_not_taken_for_a_synced_one(path):
    assert at_rest.cloud_service(path, {}, windows=path.startswith("C:")) == ""


def test_a_documents_folder_onedrive_backs_up_is_known_by_the_environment():
    env = {"OneDriveCommercial": "C:\\Users\\sam\\NHS Leicester"}
    assert (
        at_rest.cloud_service("C:\\Users\\sam\\NHS Leicester\\Documents\\ild.sqlite", env, windows=True) == "OneDrive"
    )
    assert at_rest.cloud_service("C:\\Users\\sam\\NHS Leicester2\\ild.sqlite", env, windows=True) == ""


def test_volume_protection_adds_the_cloud_warning_to_the_disk_answer(tmp_path):
    folder = tmp_path / "Dropbox (Personal)"
    found = at_rest.volume_protection(folder / "ild.sqlite", platform="linux")
    assert found.warning == CLOUD and found.service == "Dropbox" and not found.settled
    assert (
        "synced by Dropbox" in found.sentences()[-1]
        and "copies patient data off this computer" in found.sentences()[-1]
    )


# ---------------------------------------------------------------- backups and the sync base, beside the workspace


def test_rolling_backups_go_beside_the_workspace_on_the_same_volume(small_world, small_world_path):
    out = backups.rolling(small_world, reason="daily")
    assert out.parent == small_world_path.parent / "backups" / small_world_path.stem
    assert os.stat(out).st_dev == os.stat(small_world_path).st_dev
    assert not (paths.backups_dir() / small_world_path.stem).exists()  # nothing in the user data folder


def test_the_sync_base_lives_beside_the_workspace(small_world_path):
    assert base_path(small_world_path).parent == small_world_path.parent


def test_the_default_workspace_keeps_its_backups_where_they_always_were():
    workspace = paths.default_workspace()
    assert backups.default_folder(workspace) == paths.backups_dir() / workspace.stem
    assert backups.earlier_folder(workspace) is None


def test_backups_an_earlier_version_left_in_the_user_data_folder_are_still_listed(small_world, small_world_path):
    earlier = paths.backups_dir() / small_world_path.stem
    earlier.mkdir(parents=True)
    old = backups.backup(small_world, earlier / backups.file_name(small_world_path.stem, label=backups.MANUAL))
    other = backups.backup(small_world, earlier / "another-team-20261101-090000.sqlite")
    new = backups.rolling(small_world, reason="close")
    listed = [b.path for b in backups.workspace_backups(small_world_path)]
    assert new in listed and old in listed and other not in listed
    assert backups.earlier_folder(small_world_path) == earlier
    assert old.exists()  # listed, never moved


def test_a_backups_folder_that_cannot_be_made_is_a_message(tmp_path):
    (tmp_path / "backups").write_text("a file where the folder should be")
    with pytest.raises(backups.StorageUnavailable, match="Cannot make the backups folder"):
        backups.default_folder(tmp_path / "team.sqlite")
