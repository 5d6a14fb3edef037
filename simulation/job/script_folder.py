"""A user's R script and the folder shipped with it: the same rules for a SageMaker job (`submit --r-script`) and
for a local emulated one (`local-job --r-script`), so what runs locally is what the job would get."""

from __future__ import annotations

from pathlib import Path

from simulation.errors import SimulationError

MAX_CODE_FILES = 2000
MAX_CODE_BYTES = 500 * 1024 * 1024


def script_folder(script: str, folder: str | None) -> tuple[Path, str]:
    """The folder to ship and the script's path inside it; one line naming what is wrong otherwise."""
    script_path = Path(script).expanduser()
    root = Path(folder).expanduser() if folder else script_path.parent
    if not script_path.is_absolute() and folder and not script_path.exists():
        script_path = root / script_path
    if not root.is_dir():
        raise SimulationError(f"folder {root} {'is not a folder' if root.exists() else 'does not exist'}")
    if not script_path.is_file():
        raise SimulationError(f"R script {script} does not exist")
    try:
        relative = script_path.resolve().relative_to(root.resolve())
    except ValueError:
        raise SimulationError(f"R script {script} is not inside the folder {root}") from None
    return root, relative.as_posix()


def code_files(folder: Path) -> list[Path]:
    """The files of a user's folder to ship, skipping hidden ones (.git, .Rproj.user) and bounded in size."""
    files = []
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append(path)
        total += path.stat().st_size
        if len(files) > MAX_CODE_FILES or total > MAX_CODE_BYTES:
            raise SimulationError(
                f"folder {folder} holds more than {MAX_CODE_FILES} files or {MAX_CODE_BYTES // 2**20} MB; "
                "put data in S3 and ship only the code"
            )
    return files
