"""Is the workspace's disk encrypted, and is its folder one where SQLite is safe? (issue 20, point 5; DESIGN §14)

A locality workspace, its write-ahead log and its backups hold patients' names and NHS numbers in
plain SQLite: only the disk's own encryption protects them when a laptop or a USB stick is lost. Locality Desk does
not encrypt the workspace itself; it says plainly whether the disk does, so the user (or their IT service) can act.

``volume_protection(path)`` answers for the disk holding *path*:

- Linux: the mount holding the folder (``/proc/self/mountinfo``), its block device, and the devices under it
  (``/sys/class/block/<dev>/slaves``) searched for a dm-crypt layer, whose device-mapper uuid starts ``CRYPT-``
  (LUKS, plain dm-crypt, a BitLocker or VeraCrypt volume opened by cryptsetup); ``lsblk`` when ``/sys`` cannot tell.
- Windows: ``manage-bde -status C:``, which needs an administrator; otherwise the Explorer shell's
  System.Volume.BitLockerProtection property of the drive, through PowerShell.
- macOS: ``fdesetup status`` for the start-up disk (FileVault); ``diskutil info`` for any other volume.

"Could not tell" (``encrypted`` None) is a valid answer and never blocks anything. The answer is kept per volume for
the session, since a disk does not change its encryption while the app runs; commands are given a short timeout, and
the views ask off the GUI thread.

It also warns when the folder is on a network share (NFS, SMB, SSHFS, rclone…) or in a folder a cloud service syncs
(OneDrive, Dropbox, Google Drive, iCloud Drive): SQLite's write-ahead log relies on shared memory and file locks that
such folders do not honour across machines, and a sync client copies the file while it is half written, so the
workspace can be damaged there, and its patient data copied off the laptop.

Every probe is a function of its inputs (the text a command printed, a folder standing in for ``/sys``), so the tests
feed each platform's real output without that platform.
"""

from __future__ import annotations

import json
import ntpath
import os
import plistlib
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePath, PureWindowsPath

NETWORK, CLOUD = "network", "cloud"  # the warning kinds
GUIDE_PAGE = "information-governance.md"  # the user guide's page on where the data is and who protects it
COMMAND_TIMEOUT = 1.0  # seconds: a probe that takes longer answers "could not tell"
# PowerShell itself takes most of a second to start on a cold laptop; it is only asked when manage-bde could not
# answer, and off the GUI thread.
POWERSHELL_TIMEOUT = 3.0

Run = Callable[[list[str], float], str | None]


@dataclass(frozen=True)
class Protection:
    """What is known of the disk holding a folder."""

    encrypted: bool | None  # None: could not tell
    how: str  # how it was decided, in words ("LUKS2 (dm-crypt) under vda2", "manage-bde", "could not tell: …")
    volume: str  # the mount point or drive ("/", "/media/stick", "C:", "\\\\server\\share")
    warning: str | None = None  # NETWORK or CLOUD, when the folder is somewhere SQLite's WAL is unsafe
    service: str = ""  # what the warning names: "OneDrive", "nfs4", "SMB share"…
    scheme: str = ""  # the encryption the platform offers, for the advice: "BitLocker", "FileVault", "LUKS"

    @property
    def settled(self) -> bool:
        """Encrypted, and nowhere a warning applies: nothing for the user to do."""
        return self.encrypted is True and self.warning is None

    def sentences(self, what: str = "this workspace") -> list[str]:
        """Plain words for the user: the disk's encryption first, then the folder's warning, if any."""
        scheme = self.scheme or "disk encryption"
        on = f"the disk holding {what} ({self.volume})"
        if self.encrypted is True:
            out = [f"{_upper(on)} is encrypted: {self.how}."]
        elif self.encrypted is False:
            out = [
                f"{_upper(on)} is not encrypted: {self.how}. Anyone who gets hold of it can read the patients' "
                f"names and NHS numbers in the workspace and its backups. Ask your IT service to turn on {scheme}, "
                "or keep the workspace on an encrypted drive."
            ]
        else:
            out = [
                f"Locality Desk could not tell whether {on} is encrypted ({self.how}). Check with your IT service "
                "that it is before keeping patient data there."
            ]
        if self.warning == CLOUD:
            out.append(
                f"The folder is synced by {self.service}: a sync client copies the workspace while it is being "
                "written, which can damage it, and copies patient data off this computer. Keep the workspace in a "
                "folder that is not synced."
            )
        elif self.warning == NETWORK:
            out.append(
                f"The folder is on a network drive ({self.service}): SQLite's write-ahead log is not safe there and "
                "the workspace can be damaged. Keep the workspace on this computer's own disk or an encrypted USB "
                "drive."
            )
        return out


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- the one entry point


_cache: dict[tuple[str, str], tuple[bool | None, str]] = {}
_lock = threading.Lock()


def volume_protection(
    path: str | Path, *, platform: str | None = None, env: Mapping[str, str] | None = None
) -> Protection:
    """What is known of the disk holding *path* (a file or folder, which need not exist yet). Never raises."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    windows = platform.startswith("win")
    folder = Path(path)
    try:
        folder = existing_folder(folder)
        if windows:
            result = _windows(folder)
        elif platform == "darwin":
            result = _macos(folder)
        elif platform.startswith("linux"):
            result = _linux(folder)
        else:
            result = Protection(None, f"could not tell on {platform}", str(folder))
    except Exception as exc:  # a probe that fails must never stop the app: it could not tell
        result = Protection(None, f"could not tell: {exc}", str(path))
    if result.warning is None:  # the folder as given, and where its links lead
        cloud = cloud_service(path, env, windows=windows) or cloud_service(folder, env, windows=windows)
        if cloud:
            result = replace(result, warning=CLOUD, service=cloud)
    return result


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _cached(key: tuple[str, str], probe: Callable[[], tuple[bool | None, str]]) -> tuple[bool | None, str]:
    with _lock:
        if key in _cache:
            return _cache[key]
    answer = probe()
    with _lock:
        _cache[key] = answer
    return answer


def existing_folder(path: Path) -> Path:
    """The folder that holds *path*, or the nearest that exists: a new workspace's folder may not be made yet."""
    path = Path(os.path.abspath(path))
    here = path if path.is_dir() else path.parent
    while not here.exists() and here != here.parent:
        here = here.parent
    return Path(os.path.realpath(here))


def run_command(args: list[str], timeout: float) -> str | None:
    """What *args* printed, or None when it is not there, failed, or took longer than *timeout* seconds."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window flashing up over the app on Windows
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, check=False, creationflags=flags, errors="replace"
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


# ---------------------------------------------------------------- cloud-synced folders, on any platform


_CLOUD_FOLDERS = (
    ("OneDrive", re.compile(r"onedrive( - .+|-.+)?", re.IGNORECASE)),  # "OneDrive - NHS", macOS "OneDrive-NHS"
    ("Dropbox", re.compile(r"dropbox( \(.+\)|-.+)?", re.IGNORECASE)),  # "Dropbox (Personal)"
    ("Google Drive", re.compile(r"google ?drive(-.+)?|my drive", re.IGNORECASE)),  # macOS "GoogleDrive-me@nhs.net"
    ("iCloud Drive", re.compile(r"icloud ?drive|com~apple~clouddocs", re.IGNORECASE)),
)
_ONEDRIVE_VARIABLES = ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")


def cloud_service(path: str | Path, env: Mapping[str, str], *, windows: bool = False) -> str:
    """The cloud service syncing the folder of *path* ("OneDrive", "Dropbox"…), or "" for none known.

    Known by the folder names the clients use and, on Windows, by the OneDrive folders the environment names (a
    Documents folder that OneDrive backs up lies inside one). macOS's File Provider keeps every service's folder in
    ~/Library/CloudStorage.
    """
    pure: PurePath = PureWindowsPath(path) if windows else PurePath(path)
    parts = [p for p in pure.parts if p not in (pure.anchor,)]
    for i, part in enumerate(parts[:-1] if parts else []):
        if part == "CloudStorage" and i and parts[i - 1] == "Library":
            return _named(parts[i + 1]) or parts[i + 1].split("-")[0]
    for part in parts:
        name = _named(part)
        if name:
            return name
    if windows:
        here = ntpath.normcase(str(pure))
        for variable in _ONEDRIVE_VARIABLES:
            root = env.get(variable)
            if root and (here == ntpath.normcase(root) or here.startswith(ntpath.normcase(root).rstrip("\\") + "\\")):
                return "OneDrive"
    return ""


def _named(part: str) -> str:
    return next((name for name, pattern in _CLOUD_FOLDERS if pattern.fullmatch(part)), "")


# ---------------------------------------------------------------- Linux


LINUX_SCHEME = "disk encryption (LUKS)"
# File systems whose files live on another machine: SQLite's locks and the WAL's shared memory do not hold there.
NETWORK_FS = {
    "nfs": "NFS share",
    "nfs4": "NFS share",
    "cifs": "SMB share",
    "smb3": "SMB share",
    "smbfs": "SMB share",
    "ncpfs": "NetWare share",
    "afs": "AFS",
    "ceph": "Ceph",
    "glusterfs": "GlusterFS",
    "fuse.glusterfs": "GlusterFS",
    "fuse.sshfs": "SSHFS",
    "fuse.rclone": "rclone",
    "fuse.s3fs": "S3",
    "fuse.gcsfuse": "Google Cloud Storage",
    "davfs": "WebDAV",
    "fuse.davfs2": "WebDAV",
    "fuse.gvfsd-fuse": "GNOME network folder",
}
# File systems that encrypt each file on the disk below them.
ENCRYPTING_FS = {
    "ecryptfs": "eCryptfs",
    "fuse.gocryptfs": "gocryptfs",
    "fuse.cryfs": "CryFS",
    "fuse.encfs": "EncFS",
    "fuse.securefs": "securefs",
}


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str
    source: str
    device: str = ""  # "major:minor"; "" when the table does not say (/proc/mounts)


def _unescape(field: str) -> str:
    # The kernel writes a space in a mount point as \040, a tab as \011 and so on.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of /proc/self/mountinfo, in its order (a later mount on the same point hides the earlier)."""
    mounts = []
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if not sep or len(fields) < 5 or len(rest) < 2:
            continue
        mounts.append(Mount(_unescape(fields[4]), rest[0], _unescape(rest[1]), fields[2]))
    return mounts


def parse_proc_mounts(text: str) -> list[Mount]:
    """The mounts of /proc/mounts (fstab format), for a kernel without mountinfo."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[1]), fields[2], _unescape(fields[0])))
    return mounts


def mount_of(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount *path* is on: the longest mount point that is it or holds it, the last mounted when two match."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.point.rstrip("/") or "/"
        inside = path == point or point == "/" or path.startswith(point + "/")
        if inside and (best is None or len(point) >= len(best.point.rstrip("/") or "/")):
            best = mount
    return best


def block_device(mount: Mount, sys_root: Path, resolve: Callable[[str], str] = os.path.realpath) -> str | None:
    """The kernel's name of the block device under *mount* ("nvme0n1p3", "dm-1"), or None (tmpfs, overlay…)."""
    major, _, _minor = mount.device.partition(":")
    if major and major != "0":
        link = sys_root / "dev" / "block" / mount.device
        if link.exists():
            return Path(os.path.realpath(link)).name
    # Btrfs (and a few others) report an anonymous device number: their source names the device.
    if mount.source.startswith("/dev/mapper/"):
        wanted = mount.source.rsplit("/", 1)[1]
        for name_file in (sys_root / "class" / "block").glob("*/dm/name"):
            if _read(name_file) == wanted:
                return name_file.parent.parent.name
    if mount.source.startswith("/dev/"):
        name = Path(resolve(mount.source)).name
        if (sys_root / "class" / "block" / name).exists():
            return name
    return None


def crypt_layer(device: str, sys_root: Path) -> str | None:
    """The dm-crypt layer under *device* or the device itself ("LUKS2", "PLAIN", "BITLK"…), or None.

    Device-mapper names each crypt target's uuid CRYPT-<type>-…; LVM and RAID sit between it and the mount, so
    the devices each one is made of (its slaves) are searched down to the disk.
    """
    seen: set[str] = set()
    todo = [device]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        block = sys_root / "class" / "block" / name
        uuid = _read(block / "dm" / "uuid")
        if uuid.startswith("CRYPT-"):
            return uuid.split("-")[1] or "dm-crypt"
        slaves = block / "slaves"
        if slaves.is_dir():
            todo.extend(sorted(p.name for p in slaves.iterdir()))
    return None


def lsblk_encrypted(text: str, point: str) -> bool | None:
    """From `lsblk -J -o NAME,TYPE,MOUNTPOINT,FSTYPE`: whether a crypt device lies between *point*'s device and its
    disk; None when no device is mounted there."""
    try:
        roots = json.loads(text)["blockdevices"]
    except (ValueError, KeyError, TypeError):
        return None

    def walk(nodes, above: list[str]) -> bool | None:
        for node in nodes or []:
            kinds = [*above, str(node.get("type", ""))]
            points = [node.get("mountpoint"), *(node.get("mountpoints") or [])]
            if point in points:
                return "crypt" in kinds
            found = walk(node.get("children"), kinds)
            if found is not None:
                return found
        return None

    return walk(roots, [])


def _linux(
    folder: Path,
    *,
    mountinfo: str | None = None,
    sys_root: Path = Path("/sys"),
    run: Run = run_command,
) -> Protection:
    if mountinfo is None:
        mountinfo = _read(Path("/proc/self/mountinfo"))
        mounts = parse_mountinfo(mountinfo) if mountinfo else parse_proc_mounts(_read(Path("/proc/mounts")))
    else:
        mounts = parse_mountinfo(mountinfo)
    mount = mount_of(str(folder), mounts)
    if mount is None:
        return Protection(None, "could not tell: no mount table", str(folder), scheme=LINUX_SCHEME)
    if mount.fstype in NETWORK_FS or mount.fstype.startswith("nfs"):
        service = NETWORK_FS.get(mount.fstype, mount.fstype)
        return Protection(
            None, "on a network drive, whose server decides", mount.point, NETWORK, f"{service}, {mount.fstype}"
        )
    if mount.fstype in ENCRYPTING_FS:
        return Protection(True, ENCRYPTING_FS[mount.fstype], mount.point, scheme=LINUX_SCHEME)

    def probe() -> tuple[bool | None, str]:
        device = block_device(mount, sys_root)
        if device is not None:
            layer = crypt_layer(device, sys_root)
            if layer:
                return True, f"{layer} (dm-crypt) under {device}"
            return False, f"no dm-crypt layer under {device}"
        listed = run(["lsblk", "-J", "-o", "NAME,TYPE,MOUNTPOINT,FSTYPE"], COMMAND_TIMEOUT)
        found = lsblk_encrypted(listed, mount.point) if listed else None
        if found is not None:
            return found, "a dm-crypt device, by lsblk" if found else "no dm-crypt device, by lsblk"
        return None, f"a {mount.fstype} file system with no disk device to look at"

    encrypted, how = _cached(("linux", f"{mount.point}|{mount.device}|{mount.source}"), probe)
    return Protection(encrypted, how, mount.point, scheme=LINUX_SCHEME)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


# ---------------------------------------------------------------- Windows


DRIVE_REMOTE = 4  # GetDriveTypeW: a mapped network drive
# The Explorer shell's System.Volume.BitLockerProtection of a drive: 1 on, 3 encrypting, 5 on and unlocked;
# 2 off, 4 decrypting. Other values (0: BitLocker cannot protect this drive) do not say either way.
_SHELL_ON, _SHELL_OFF = {1, 3, 5}, {2, 4}


def parse_manage_bde(text: str) -> tuple[bool | None, str]:
    """From `manage-bde -status X:`: whether BitLocker protects the drive; None when the output does not say (an
    error, such as the one a user without administrator rights gets)."""
    status = re.search(r"Protection Status:\s*(.+)", text)
    if not status:
        return None, "manage-bde did not say"
    value = status[1].strip().lower()
    if "protection on" in value:
        return True, "BitLocker, by manage-bde"
    if "protection off" in value:
        conversion = re.search(r"Conversion Status:\s*(.+)", text)
        if conversion and "decrypted" not in conversion[1].lower():
            return False, "BitLocker is suspended, so its key is kept unprotected on the disk"
        return False, "BitLocker is off, by manage-bde"
    return None, "manage-bde did not say"


def parse_shell_bitlocker(text: str) -> tuple[bool | None, str]:
    """From the Explorer shell's BitLockerProtection property of a drive, as PowerShell printed it."""
    try:
        value = int(text.strip())
    except ValueError:
        return None, "Windows did not say"
    if value in _SHELL_ON:
        return True, "BitLocker"
    if value in _SHELL_OFF:
        return False, "BitLocker is off"
    return None, "BitLocker does not cover this drive"


def windows_drive(path: str) -> str:
    """ "C:" for C:\\Users\\…, "\\\\server\\share" for a UNC path."""
    drive = ntpath.splitdrive(path)[0]
    if drive.upper().startswith("\\\\?\\UNC\\"):
        return "\\\\" + drive[8:]
    if drive.startswith("\\\\?\\"):
        return drive[4:]
    return drive


def _drive_type(drive: str) -> int:
    import ctypes  # Windows only

    return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\")


def _windows(folder: Path, *, run: Run = run_command, drive_type: Callable[[str], int] = _drive_type) -> Protection:
    drive = windows_drive(str(folder))
    if drive.startswith("\\\\"):
        return Protection(None, "on a network share, whose server decides", drive, NETWORK, "network share")
    if not drive:
        return Protection(None, "could not tell: no drive letter", str(folder), scheme="BitLocker")
    if drive_type(drive) == DRIVE_REMOTE:
        return Protection(None, "on a network drive, whose server decides", drive, NETWORK, "mapped network drive")

    def probe() -> tuple[bool | None, str]:
        out = run(["manage-bde", "-status", drive], COMMAND_TIMEOUT)
        answer = parse_manage_bde(out) if out else (None, "")
        if answer[0] is not None:
            return answer
        script = (
            f"(New-Object -ComObject Shell.Application).NameSpace('{drive}').Self"
            ".ExtendedProperty('System.Volume.BitLockerProtection')"
        )
        out = run(["powershell", "-NoProfile", "-NonInteractive", "-Command", script], POWERSHELL_TIMEOUT)
        return parse_shell_bitlocker(out) if out else (None, "Windows did not say")

    encrypted, how = _cached(("windows", drive.upper()), probe)
    return Protection(encrypted, how, drive, scheme="BitLocker")


# ---------------------------------------------------------------- macOS


MAC_NETWORK_FS = {"smbfs": "SMB share", "nfs": "NFS share", "afpfs": "AFP share", "webdav": "WebDAV", "ftp": "FTP"}
_MAC_MOUNT = re.compile(r"^(?P<source>.+?) on (?P<point>.+) \((?P<options>[^()]*)\)$")
_START_UP = ("/", "/System/Volumes/Data")


def parse_mac_mounts(text: str) -> list[Mount]:
    """From `mount`: "/dev/disk3s1 on /Volumes/Stick (apfs, local, journaled)"."""
    mounts = []
    for line in text.splitlines():
        match = _MAC_MOUNT.match(line.strip())
        if match:
            options = [o.strip() for o in match["options"].split(",")]
            local = "local" in options
            mounts.append(Mount(match["point"], options[0], match["source"], "local" if local else "remote"))
    return mounts


def parse_fdesetup(text: str) -> tuple[bool | None, str]:
    """From `fdesetup status`: "FileVault is On." / "FileVault is Off." (and the lines a conversion adds)."""
    if "FileVault is On" in text:
        return True, "FileVault"
    if "FileVault is Off" in text:
        return False, "FileVault is off"
    return None, "fdesetup did not say"


def parse_diskutil(data: bytes) -> tuple[bool | None, str]:
    """From `diskutil info -plist VOLUME`: APFS's FileVault or Encrypted flag of a volume other than the start-up
    disk (an external drive encrypted in the Finder)."""
    try:
        info = plistlib.loads(data)
    except Exception:  # plistlib raises several kinds for a damaged plist
        return None, "diskutil did not say"
    for key in ("FileVault", "Encrypted"):
        if isinstance(info.get(key), bool):
            return info[key], "an encrypted volume" if info[key] else "an unencrypted volume"
    return None, "diskutil did not say"


def _macos(folder: Path, *, run: Run = run_command, run_bytes: Callable[..., bytes | None] | None = None) -> Protection:
    listed = run(["/sbin/mount"], COMMAND_TIMEOUT) or ""
    mount = mount_of(str(folder), parse_mac_mounts(listed))
    point = mount.point if mount else "/"
    if mount and (mount.fstype in MAC_NETWORK_FS or mount.device == "remote"):
        service = MAC_NETWORK_FS.get(mount.fstype, mount.fstype)
        return Protection(None, "on a network drive, whose server decides", point, NETWORK, service)

    def probe() -> tuple[bool | None, str]:
        if point in _START_UP:
            out = run(["/usr/bin/fdesetup", "status"], COMMAND_TIMEOUT)
            return parse_fdesetup(out) if out else (None, "fdesetup did not answer")
        data = (run_bytes or _run_bytes)(["/usr/sbin/diskutil", "info", "-plist", point], COMMAND_TIMEOUT)
        return parse_diskutil(data) if data else (None, "diskutil did not answer")

    encrypted, how = _cached(("darwin", point), probe)
    return Protection(encrypted, how, point, scheme="FileVault")


def _run_bytes(args: list[str], timeout: float) -> bytes | None:
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


__all__ = ["CLOUD", "GUIDE_PAGE", "NETWORK", "Protection", "clear_cache", "volume_protection"]
